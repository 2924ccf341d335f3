package pgstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/chronicle-go/chronicle/core"
)

// SaveSnapshot implements core.SnapshotStore (sql/save_snapshot.sql): one
// statement that checks the version against the head it locks FOR KEY
// SHARE and upserts the snapshot unless a newer one is stored.
func (s *Store[TX]) SaveSnapshot(ctx context.Context, tx TX, aggregateType, aggregateID string, version int64, stateSchemaVersion int, state []byte) error {
	if err := s.usable(tx); err != nil {
		return err
	}
	schemaVersion, err := core.ValidateSnapshotArgs(aggregateType, aggregateID, version, stateSchemaVersion)
	if err != nil {
		return err
	}
	if err := s.checkSchema(ctx, tx); err != nil {
		return err
	}
	if state == nil {
		state = []byte{} // nil would be NULL
	}
	var head sql.NullInt64
	var deleted, saved bool
	err = s.queryRow(ctx, tx, s.sql.SaveSnapshot, []any{aggregateType, aggregateID, version, int32(schemaVersion), state}, &head, &deleted, &saved)
	if err != nil {
		return fmt.Errorf("error saving the snapshot of aggregate %s/%s at version %d: %w", aggregateType, aggregateID, version,
			statementError(ctx, err, s.exec.DatabaseError(err)))
	}
	switch {
	case deleted:
		return &core.StreamClosedError{AggregateType: aggregateType, AggregateID: aggregateID, Version: head.Int64, Deleted: true}
	case head.Int64 < version:
		return &core.SnapshotVersionError{AggregateType: aggregateType, AggregateID: aggregateID, Version: version, StreamVersion: head.Int64}
	}
	_ = saved // false: a newer snapshot is kept, which is no error
	return nil
}

// LoadAggregate implements core.SnapshotStore (sql/load_aggregate.sql): the
// snapshot and the events after it in one statement.
func (s *Store[TX]) LoadAggregate(ctx context.Context, tx TX, aggregateType, aggregateID string, stateSchemaVersion int) (core.LoadedAggregate, error) {
	if err := s.usable(tx); err != nil {
		return core.LoadedAggregate{}, err
	}
	if err := core.ValidateAggregate(aggregateType, aggregateID); err != nil {
		return core.LoadedAggregate{}, err
	}
	schemaVersion, err := core.ValidateStateSchemaVersion(stateSchemaVersion)
	if err != nil {
		return core.LoadedAggregate{}, err
	}
	if err := s.checkSchema(ctx, tx); err != nil {
		return core.LoadedAggregate{}, err
	}
	out := core.LoadedAggregate{Stream: core.Stream{AggregateType: aggregateType, AggregateID: aggregateID}}
	header, err := s.readStreamRows(ctx, tx, s.sql.LoadAggregate, streamSizeHint, &out.Stream, aggregateType, aggregateID, int32(schemaVersion))
	if err != nil {
		return core.LoadedAggregate{}, fmt.Errorf("error loading aggregate %s/%s: %w", aggregateType, aggregateID, err)
	}
	if header != nil {
		// The snapshot travels in the header's event columns (see
		// sql/load_aggregate.sql).
		out.Snapshot = &core.AggregateSnapshot{AggregateType: aggregateType, AggregateID: aggregateID, Version: header.AggregateVersion,
			SchemaVersion: header.EventVersion, State: header.Payload, SavedAt: header.CreatedAt}
	}
	return out, nil
}
