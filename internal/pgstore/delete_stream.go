package pgstore

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/chronicle-go/chronicle/core"
)

// DeleteStream implements core.StreamDeleter: an operator's action, which
// needs the DELETE privilege on the events table (the owner's; the
// application role has none). Three statements in tx: lock the head and
// name the stream for the append-only trigger's opt-out
// (sql/delete_stream_lock.sql), delete and mark the head
// (sql/delete_stream.sql) in a statement of its own so that it sees every
// row the lock waited for, and clear the opt-out (sql/delete_stream_end.sql).
// A role without the privilege gets an error saying so, and tx is aborted.
func (s *Store[TX]) DeleteStream(ctx context.Context, tx TX, aggregateType, aggregateID string) (core.DeletedStream, error) {
	if err := s.usable(tx); err != nil {
		return core.DeletedStream{}, err
	}
	if err := core.ValidateAggregate(aggregateType, aggregateID); err != nil {
		return core.DeletedStream{}, err
	}
	if err := s.checkSchema(ctx, tx); err != nil {
		return core.DeletedStream{}, err
	}
	out := core.DeletedStream{AggregateType: aggregateType, AggregateID: aggregateID}
	fail := func(err error) (core.DeletedStream, error) {
		dbErr := s.exec.DatabaseError(err)
		err = statementError(ctx, err, dbErr)
		if dbErr.Code == insufficientPrivilege {
			err = fmt.Errorf("deleting a stream is an operator's action: connect as the owner of the tables (or a role the owner granted DELETE on the events table), not the application role: %w", err)
		}
		return core.DeletedStream{}, fmt.Errorf("error deleting stream %s/%s: %w", aggregateType, aggregateID, err)
	}
	var before bool
	var typ, id string
	err := s.queryRow(ctx, tx, s.sql.DeleteStreamLock, []any{aggregateType, aggregateID}, &out.Version, &before, &typ, &id)
	switch {
	case err == errNoRow:
		return out, nil // no committed head: nothing to delete
	case err != nil:
		return fail(err)
	}
	out.Existed = true
	var marked int64
	if err := s.queryRow(ctx, tx, s.sql.DeleteStream, []any{aggregateType, aggregateID}, &out.Events, &out.Snapshots, &marked); err != nil {
		return fail(err)
	}
	if err := s.queryRow(ctx, tx, s.sql.DeleteStreamEnd, nil, &typ, &id); err != nil {
		return fail(err)
	}
	if s.logger.Enabled(ctx, slog.LevelInfo) {
		s.logger.InfoContext(ctx, "chronicle: deleted stream", "aggregate_type", aggregateType, "aggregate_id", aggregateID,
			"events", out.Events, "snapshots", out.Snapshots, "deleted_before", before)
	}
	return out, nil
}
