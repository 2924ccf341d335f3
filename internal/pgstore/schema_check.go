package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ErrSchemaVersion: the database's schema is not at the version this
// release needs (SchemaVersion). Detail: *SchemaVersionError, naming the
// migrations to apply.
var ErrSchemaVersion = errors.New("the database schema is not at this release's version")

// SchemaVersionError is the detail of ErrSchemaVersion.
type SchemaVersionError struct {
	// Have is the database's schema version: the highest migration its
	// version table records, 1 for an unversioned schema of the first
	// release, 0 when the store's tables are missing.
	Have int
	// Want is SchemaVersion.
	Want int
	// Missing names the migrations to apply, NNNN_name, in order; empty
	// when the database is newer than this release.
	Missing []string
}

// Error says what to apply or that Chronicle must be upgraded.
func (e *SchemaVersionError) Error() string {
	if e.Have > e.Want {
		return fmt.Sprintf("the database schema is at version %d, newer than this release's %d: upgrade Chronicle", e.Have, e.Want)
	}
	what := fmt.Sprintf("the database schema is at version %d, this release needs %d", e.Have, e.Want)
	if e.Have == 0 {
		what = "the schema is missing"
	}
	return what + ": apply migration " + strings.Join(e.Missing, ", ") + " (tools/migrate-gen, or Store.SchemaSQL)"
}

// Is reports whether target is ErrSchemaVersion.
func (e *SchemaVersionError) Is(target error) bool { return target == ErrSchemaVersion }

// checkSchema reads the schema version in tx at the store's first use, and
// until it matches: two statements that cannot fail on a missing table (so
// that they never abort the caller's transaction), then nothing for the
// store's life.
func (s *Store[TX]) checkSchema(ctx context.Context, tx TX) error {
	if s.schemaChecked.Load() {
		return nil
	}
	var events, versions bool
	err := s.queryRow(ctx, tx, s.sql.SchemaTables, []any{string(s.names.qualified(s.names.EventsTable)),
		string(s.names.qualified(s.names.SchemaVersionTable()))}, &events, &versions)
	if err != nil {
		return fmt.Errorf("error checking the schema version: %w", statementError(ctx, err, s.exec.DatabaseError(err)))
	}
	have := 0
	switch {
	case versions:
		if err := s.queryRow(ctx, tx, s.sql.SchemaVersion, nil, &have); err != nil {
			return fmt.Errorf("error checking the schema version: %w", statementError(ctx, err, s.exec.DatabaseError(err)))
		}
	case events:
		have = 1 // the first release's schema had no version table
	}
	if have != SchemaVersion {
		e := &SchemaVersionError{Have: have, Want: SchemaVersion}
		for _, m := range migrationList {
			if m.version > have {
				e.Missing = append(e.Missing, Migration{Version: m.version, Name: m.name}.ID())
			}
		}
		return e
	}
	s.schemaChecked.Store(true)
	return nil
}
