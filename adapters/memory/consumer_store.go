package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/chronicle-go/chronicle/core"
)

var _ core.ConsumerStore[*Tx] = (*Store)(nil)

// Commit commits tx (see Tx.Commit) for the consumer runtime. When ctx is
// already done it rolls tx back instead and returns ctx's error, as the
// PostgreSQL drivers do with a commit whose context has ended.
func (s *Store) Commit(ctx context.Context, tx *Tx) error {
	if tx == nil || tx.store != s {
		return fmt.Errorf("error committing: %w", ErrForeignTx)
	}
	if err := ctx.Err(); err != nil {
		if rerr := tx.Rollback(); rerr != nil {
			return fmt.Errorf("error committing: rolled back instead: %w", rerr)
		}
		return fmt.Errorf("error committing: rolled back instead: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("error committing: %w", err)
	}
	return nil
}

// Rollback rolls tx back (see Tx.Rollback) for the consumer runtime. It
// returns nil for a transaction that has already ended, and ignores ctx: a
// rollback always happens.
func (s *Store) Rollback(_ context.Context, tx *Tx) error {
	if tx == nil || tx.store != s {
		return fmt.Errorf("error rolling back: %w", ErrForeignTx)
	}
	return tx.Rollback()
}

// ReadConsumerBatch returns up to limit events tx sees after the cursor,
// in cursor order, whose TransactionOrder is below the frontier, and that
// frontier, both taken at one instant; see core.ConsumerStore. The frontier
// counts tx's own transaction id, as pg_current_snapshot does, so tx's own
// uncommitted events are never in the batch. aggregateTypes, when
// non-empty, keeps only events of those types. It never waits.
func (s *Store) ReadConsumerBatch(ctx context.Context, tx *Tx, after core.Cursor, aggregateTypes []string, limit int) (core.ConsumerBatch, error) {
	if err := validCursor(after); err != nil {
		return core.ConsumerBatch{}, err
	}
	if limit < 1 {
		return core.ConsumerBatch{}, &core.InvalidArgumentError{Argument: "limit", Reason: fmt.Sprintf("must be >= 1, got %d", limit)}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.readable(ctx, tx); err != nil {
		return core.ConsumerBatch{}, fmt.Errorf("reading the consumer batch after %s: %w", after, err)
	}
	frontier := s.frontierLocked(tx)
	rows := s.rowsAfter(tx, after, frontier, aggregateTypes)
	batch := core.ConsumerBatch{Events: make([]core.PersistedEvent, 0, min(len(rows), limit)), Frontier: frontier}
	for _, r := range rows[:min(len(rows), limit)] {
		batch.Events = append(batch.Events, copyEvent(r.ev))
	}
	return batch, nil
}

// CountEventsAfter counts the events tx sees after the cursor, of the
// given aggregate types when non-empty; see core.ConsumerStore. Events
// above the frontier count too: they are committed and still to come.
func (s *Store) CountEventsAfter(ctx context.Context, tx *Tx, after core.Cursor, aggregateTypes []string) (int64, error) {
	if err := validCursor(after); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.readable(ctx, tx); err != nil {
		return 0, fmt.Errorf("counting events after %s: %w", after, err)
	}
	return int64(len(s.rowsAfter(tx, after, -1, aggregateTypes))), nil
}

// rowsAfter returns the rows tx sees after the cursor with TransactionOrder
// below below (no bound if below < 0) and of the given types (any if
// empty), in cursor order. Called with s.mu held.
func (s *Store) rowsAfter(tx *Tx, after core.Cursor, below int64, aggregateTypes []string) []*row {
	var out []*row
	for _, r := range s.log {
		if !r.visibleTo(tx) || (below >= 0 && r.ev.TransactionOrder >= below) ||
			core.CursorOf(r.ev).Compare(after) <= 0 ||
			(len(aggregateTypes) > 0 && !slices.Contains(aggregateTypes, r.ev.AggregateType)) {
			continue
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *row) int { return core.CursorOf(a.ev).Compare(core.CursorOf(b.ev)) })
	return out
}

// Frontier returns the frontier as tx sees it now (see
// core.ConsumerBatch.Frontier): the smallest transaction id held by a
// transaction in progress, tx included, or else the next id to hand out,
// plus the order offset.
func (s *Store) Frontier(ctx context.Context, tx *Tx) (int64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.readable(ctx, tx); err != nil {
		return 0, fmt.Errorf("reading the frontier: %w", err)
	}
	return s.frontierLocked(tx), nil
}

// FrontierHolders lists the transactions in progress that hold a
// transaction id, tx included if it holds one, oldest id first; see
// core.ConsumerStore. Each has PID 0, the id, when it began, State "active"
// while it waits in a call of the store and "idle in transaction"
// otherwise, an empty Query and Application "memory". An aborted
// transaction holds no id any more, as on PostgreSQL, and is not listed.
func (s *Store) FrontierHolders(ctx context.Context, tx *Tx) ([]core.FrontierHolder, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.readable(ctx, tx); err != nil {
		return nil, fmt.Errorf("listing the transactions holding the frontier: %w", err)
	}
	out := make([]core.FrontierHolder, 0, len(s.inProgress))
	for xid, t := range s.inProgress {
		state := "idle in transaction"
		if t.waitingFor != nil {
			state = "active"
		}
		out = append(out, core.FrontierHolder{TransactionID: xid, Started: t.started, State: state, Application: "memory"})
	}
	slices.SortFunc(out, func(a, b core.FrontierHolder) int { return cmp.Compare(a.TransactionID, b.TransactionID) })
	return out, nil
}
