package pgstore

import (
	"fmt"
	"hash/fnv"
	"strings"
)

// SchemaOptions adjust the generated schema. The zero value is the
// recommended schema.
type SchemaOptions struct {
	// OmitAppendOnlyTrigger leaves out the triggers that reject UPDATE,
	// DELETE and TRUNCATE on the events table. Default false: the log is
	// append-only at the database level.
	//
	// Operators who must change stored events (e.g. to erase personal data)
	// can instead suspend the triggers of an existing schema, as the table
	// owner:
	//
	//	ALTER TABLE events DISABLE TRIGGER events_append_only;
	//	-- … the change …
	//	ALTER TABLE events ENABLE TRIGGER events_append_only;
	//
	// or remove them for good with DROP TRIGGER events_append_only ON events
	// (and events_no_truncate). Running the schema again recreates dropped
	// triggers, but leaves a disabled trigger disabled.
	//
	// That is enough for a DELETE. An UPDATE also meets the writer check
	// (events_writer_check, migration 0002), which holds every row version
	// to the writing transaction's id, so it must be suspended too, in the
	// same transaction, and added back with the order offset (NOT VALID:
	// stored rows keep their writers' ids):
	//
	//	BEGIN;
	//	ALTER TABLE events DISABLE TRIGGER events_append_only;
	//	ALTER TABLE events DROP CONSTRAINT events_writer_check;
	//	UPDATE events SET … ; -- leave transaction_id as it is
	//	DO $$ BEGIN EXECUTE format('ALTER TABLE events ADD CONSTRAINT events_writer_check
	//	    CHECK (transaction_id = pg_catalog.pg_current_xact_id()::text::bigint + %s) NOT VALID',
	//	    (SELECT order_offset FROM transaction_order_offset)); END $$;
	//	ALTER TABLE events ENABLE TRIGGER events_append_only;
	//	COMMIT;
	OmitAppendOnlyTrigger bool

	// AppRole, when set, names the application's role: the script creates
	// it NOLOGIN if it does not exist (a group role; make the login roles
	// the application connects as its members: GRANT app TO app_login)
	// and grants it the least privilege Chronicle needs (see the script's
	// comment). It must be a valid identifier and must not own the tables:
	// an owner keeps every privilege. Default "": no role, no grants.
	AppRole string
}

// SchemaVersion is the schema version this release's statements need: the
// number of the last migration.
const SchemaVersion = 5

// Migration is one numbered step of the schema, rendered for a set of
// names.
type Migration struct {
	// Version is the migration's number, from 1; the schema version table
	// holds one row per applied migration.
	Version int
	// Name says what the migration does, e.g. "init"; file names are
	// NNNN_name.
	Name string
	// Up applies the migration: several statements, meant to run as one
	// transaction, and idempotent.
	Up string
	// Down reverts it, or is "" when it cannot be reverted. Reverting the
	// first migration drops the tables with their data.
	Down string
}

// ID is the migration's file name stem, NNNN_name.
func (m Migration) ID() string { return fmt.Sprintf("%04d_%s", m.Version, m.Name) }

// migrationList are the migrations in order, each with its number:
// sql/migrations/NNNN_name.up.sql and, where it can be reverted,
// NNNN_name.down.sql. Numbers ascend; a schema's version is the highest
// number recorded.
var migrationList = []struct {
	version int
	name    string
}{
	{1, "init"},
	{2, "snapshot_cursor"},
	{3, "stream_lifecycle"},
	{4, "subject_keys"},
	{5, "consumer_progress"},
}

// Migrations returns every migration for names and opts, in order.
// Invalid names or options return a *ConfigError.
func Migrations(names Names, opts SchemaOptions) ([]Migration, error) {
	data, err := newSchemaData(names, opts)
	if err != nil {
		return nil, err
	}
	out := make([]Migration, len(migrationList))
	for i, entry := range migrationList {
		m := Migration{Version: entry.version, Name: entry.name}
		m.Up = render(m.ID()+".up.sql", data)
		if migrationTemplates.Lookup(m.ID()+".down.sql") != nil {
			m.Down = render(m.ID()+".down.sql", data)
		}
		out[i] = m
	}
	return out, nil
}

// SchemaSQL returns the whole schema for names: every migration's up
// script in order — the optional schema, the events, aggregate heads,
// consumer checkpoints, order offset, schema version, snapshots and
// subject keys tables with their
// named constraints and indexes, the order offset's single row, and
// (unless opts omit it) the append-only triggers. The script is idempotent
// — every object is created only if missing, so it is safe to run on every
// start — and deterministic. Invalid names return a *ConfigError.
func SchemaSQL(names Names, opts SchemaOptions) (string, error) {
	migrations, err := Migrations(names, opts)
	if err != nil {
		return "", err
	}
	ups := make([]string, len(migrations))
	for i, m := range migrations {
		ups[i] = m.Up
	}
	return strings.Join(ups, "\n"), nil
}

func newSchemaData(names Names, opts SchemaOptions) (schemaData, error) {
	if err := names.Validate(); err != nil {
		return schemaData{}, err
	}
	if opts.AppRole != "" {
		if err := checkIdentifier("AppRole", opts.AppRole, "or leave it empty to grant nothing"); err != nil {
			return schemaData{}, err
		}
	}
	c := names.Constraints()
	q := quoteIdentifier
	events := names.qualified(names.EventsTable)
	return schemaData{
		Schema:                   q(names.Schema),
		HasSchema:                names.Schema != "",
		Events:                   events,
		EventsLiteral:            literal(events),
		Heads:                    names.qualified(names.AggregateHeadsTable),
		Checkpoints:              names.qualified(names.CheckpointsTable),
		Offset:                   names.qualified(names.OrderOffsetTable),
		Versions:                 names.qualified(names.SchemaVersionTable()),
		EventsPkey:               q(c.EventsPrimaryKey),
		EventIDKey:               q(c.EventID),
		VersionKey:               q(c.AggregateVersion),
		OrderIndex:               q(c.TransactionOrderIndex),
		OrderIndexLiteral:        literal(names.qualified(c.TransactionOrderIndex)),
		WriterCheck:              q(c.WriterCheck),
		HeadsPkey:                q(derivedName(names.AggregateHeadsTable, "_pkey")),
		CheckpointPkey:           q(derivedName(names.CheckpointsTable, "_pkey")),
		OffsetPkey:               q(derivedName(names.OrderOffsetTable, "_pkey")),
		OffsetCheck:              q(derivedName(names.OrderOffsetTable, "_singleton_check")),
		VersionsPkey:             q(derivedName(names.SchemaVersionTable(), "_pkey")),
		Snapshots:                names.qualified(names.SnapshotsTable()),
		SnapshotsPkey:            q(derivedName(names.SnapshotsTable(), "_pkey")),
		SnapshotsCheck:           q(derivedName(names.SnapshotsTable(), "_version_check")),
		SubjectKeys:              names.qualified(names.SubjectKeysTable()),
		SubjectKeysPkey:          q(derivedName(names.SubjectKeysTable(), "_pkey")),
		SubjectKeysWrappingIndex: q(derivedName(names.SubjectKeysTable(), "_wrapping_idx")),
		Trigger:                  q(c.AppendOnlyTrigger),
		TriggerName:              literal(c.AppendOnlyTrigger),
		Truncate:                 q(c.NoTruncateTrigger),
		TruncateName:             literal(c.NoTruncateTrigger),
		Function:                 names.qualified(c.AppendOnlyFunction),
		Triggers:                 !opts.OmitAppendOnlyTrigger,
		LockKey:                  schemaLockKey(names),
		AppRole:                  q(opts.AppRole),
		AppRoleLiteral:           literal(opts.AppRole),
		HasAppRole:               opts.AppRole != "",
	}, nil
}

// literal is a validated identifier (or a quoted one) placed inside an SQL
// string literal: neither holds a single quote, so it cannot end the
// literal.
type literal string

// schemaData fills the markers of sql/migrations/*.sql.
type schemaData struct {
	Schema                                                   quoted
	HasSchema                                                bool
	Events, Heads, Checkpoints, Offset, Versions, Function   quoted
	VersionsPkey                                             quoted
	Snapshots, SnapshotsPkey, SnapshotsCheck                 quoted
	SubjectKeys, SubjectKeysPkey, SubjectKeysWrappingIndex   quoted
	EventsLiteral, TriggerName, TruncateName, AppRoleLiteral literal
	OrderIndexLiteral                                        literal
	EventsPkey, EventIDKey, VersionKey, OrderIndex           quoted
	WriterCheck                                              quoted
	HeadsPkey, CheckpointPkey, OffsetPkey, OffsetCheck       quoted
	Trigger, Truncate, AppRole                               quoted
	Triggers, HasAppRole                                     bool
	LockKey                                                  int64
}

// schemaLockKey is the advisory lock that serialises concurrent runs of
// one schema: a hash of the events table's qualified name, so that
// schemas for different tables do not wait on each other.
func schemaLockKey(names Names) int64 {
	h := fnv.New64a()
	h.Write([]byte("chronicle schema " + string(names.qualified(names.EventsTable))))
	return int64(h.Sum64())
}
