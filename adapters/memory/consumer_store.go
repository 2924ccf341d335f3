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

// ReadConsumerBatch returns up to limit committed events the cursor has
// not delivered, by GlobalPosition, and the cursor after them; see
// core.ConsumerStore and core.ConsumerBatch. It takes the current snapshot
// S2 at the same instant as it selects the events, as the PostgreSQL batch
// statement does; S2 lists tx's own id as running, so tx's own events are
// neither returned nor counted as delivered. Outside a page (after.Upper
// zero) it selects the events whose writer is visible in S2 and not in
// after.Snapshot; when fewer than limit come back Next is S2, else Next
// pages through that diff with S2 as Upper. Inside a page it continues the
// diff (after.Snapshot, after.Upper) after after.Position, and Next leaves
// the page (Next.Snapshot = after.Upper) once it is exhausted; events
// committed meanwhile wait for the next diff. scope keeps only
// its aggregate types and partition (core.PartitionOf); the cursor
// advances all the same. A limit below 1, an invalid cursor and a bad
// partition are core.ErrInvalidArgument. It never waits and writes nothing.
func (s *Store) ReadConsumerBatch(ctx context.Context, tx *Tx, after core.Cursor, scope core.ConsumerScope, limit int) (core.ConsumerBatch, error) {
	if err := scope.Validate(); err != nil {
		return core.ConsumerBatch{}, err
	}
	if limit < 1 {
		return core.ConsumerBatch{}, &core.InvalidArgumentError{Argument: "limit", Reason: fmt.Sprintf("must be >= 1, got %d", limit)}
	}
	if err := after.Validate(); err != nil {
		return core.ConsumerBatch{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.readable(ctx, tx); err != nil {
		return core.ConsumerBatch{}, fmt.Errorf("reading the consumer batch after %s: %w", after, err)
	}
	from, upper, position := after.Snapshot, after.Upper, after.Position
	if !after.Paging() {
		upper, position = s.snapshotLocked(tx), 0
		if !upper.Contains(from) {
			// As on PostgreSQL: the cursor saw transactions this store has
			// not had, so the log was moved (SetNextTransactionID).
			st := s.orderStatus(tx)
			if st.StoredMax <= st.Current {
				st.StoredMax = from.Xmax
			}
			return core.ConsumerBatch{}, fmt.Errorf("reading the consumer batch after %s: %w", after, &core.TransactionOrderMovedError{Status: st})
		}
	}
	var batch core.ConsumerBatch
	if !after.Paging() {
		// As PostgreSQL's batch sees another transaction's uncommitted
		// insert by the events table's lock it holds.
		for _, r := range s.log {
			if r.writer != nil && r.writer != tx {
				batch.Writing = true
				break
			}
		}
	}
	for _, r := range s.log {
		if len(batch.Events) == limit {
			break
		}
		ev := &r.ev
		// s.log is in GlobalPosition order; committed rows only, which
		// leaves out tx's own.
		if r.writer != nil || r.deleter == tx || ev.GlobalPosition <= position || from.Visible(ev.TransactionID) ||
			!upper.Visible(ev.TransactionID) || !scope.Contains(ev.AggregateType, ev.AggregateID) {
			continue
		}
		batch.Events = append(batch.Events, copyEvent(*ev))
	}
	if len(batch.Events) < limit {
		batch.Next = core.Cursor{Snapshot: cloneSnapshot(upper)}
		return batch, nil
	}
	last := batch.Events[len(batch.Events)-1].GlobalPosition
	batch.Next = core.Cursor{Snapshot: cloneSnapshot(from), Upper: cloneSnapshot(upper), Position: last}
	return batch, nil
}

// Lag counts the committed events the cursor has not delivered, of the
// given aggregate types when non-empty, and the oldest CreatedAt among
// them; see core.ConsumerStore. The memory store always counts exactly;
// Estimated reports only that the count exceeds core.LagExactLimit, as the
// PostgreSQL adapters' estimate does. tx's own uncommitted events are not
// counted. An invalid cursor is core.ErrInvalidArgument.
func (s *Store) Lag(ctx context.Context, tx *Tx, after core.Cursor, scope core.ConsumerScope) (core.Lag, error) {
	if err := scope.Validate(); err != nil {
		return core.Lag{}, err
	}
	if err := after.Validate(); err != nil {
		return core.Lag{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.readable(ctx, tx); err != nil {
		return core.Lag{}, fmt.Errorf("measuring the lag after %s: %w", after, err)
	}
	var lag core.Lag
	for _, r := range s.log {
		if r.writer != nil || after.Delivered(r.ev) || !scope.Contains(r.ev.AggregateType, r.ev.AggregateID) {
			continue
		}
		lag.Events++
		if lag.Oldest.IsZero() || r.ev.CreatedAt.Before(lag.Oldest) {
			lag.Oldest = r.ev.CreatedAt
		}
	}
	lag.Estimated = lag.Events > core.LagExactLimit
	return lag, nil
}

// CurrentSnapshot returns the current snapshot as tx sees it, with the
// order offset applied: every ended transaction is visible, none in
// progress (tx included, if it has a transaction id) and none not begun;
// see core.ConsumerStore.
func (s *Store) CurrentSnapshot(ctx context.Context, tx *Tx) (core.Snapshot, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.readable(ctx, tx); err != nil {
		return core.Snapshot{}, fmt.Errorf("reading the current snapshot: %w", err)
	}
	return s.snapshotLocked(tx), nil
}

// Writers returns the transactions in progress whose transaction id (order
// offset applied, as tx sees it) is among ids, by id, oldest first; see
// core.ConsumerStore. tx itself is one if its id is asked for. Each has
// PID 0, when it began, State "active" while it waits in a call of the
// store and "idle in transaction" otherwise, an empty Query and
// Application "memory". Ids of ended or unknown transactions are ignored;
// an aborted transaction holds no id any more, as on PostgreSQL.
func (s *Store) Writers(ctx context.Context, tx *Tx, ids []int64) ([]core.Writer, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.readable(ctx, tx); err != nil {
		return nil, fmt.Errorf("listing the writers among %d transaction ids: %w", len(ids), err)
	}
	off := s.offsetFor(tx)
	out := []core.Writer{}
	for _, id := range ids {
		t := s.inProgress[id-off]
		if t == nil || slices.ContainsFunc(out, func(w core.Writer) bool { return w.TransactionID == id }) {
			continue
		}
		state := "idle in transaction"
		if t.waitingFor != nil {
			state = "active"
		}
		out = append(out, core.Writer{TransactionID: id, Started: dbTime(t.started), State: state, Application: "memory"})
	}
	slices.SortFunc(out, func(a, b core.Writer) int { return cmp.Compare(a.TransactionID, b.TransactionID) })
	return out, nil
}

// cloneSnapshot returns s with its own Xip slice.
func cloneSnapshot(s core.Snapshot) core.Snapshot {
	s.Xip = slices.Clone(s.Xip)
	return s
}
