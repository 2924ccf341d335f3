package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chronicle-go/chronicle/core"
)

// ReadConsumerBatch implements core.ConsumerStore. Outside a page it runs
// one statement that takes the current snapshot and selects the events its
// writers made visible since the cursor's (sql/consumer_batch.sql); inside
// one, the next page of that step with its upper snapshot fixed
// (sql/consumer_page.sql). scope keeps only its aggregate types and
// partition, in SQL (a bad partition is an *core.InvalidArgumentError). tx's own transaction id, if it has one, counts as running,
// so its uncommitted events are left for a later batch. It never waits. A
// current snapshot that does not contain the cursor's means the log was
// moved into another cluster: a *core.TransactionOrderMovedError.
func (s *ConsumerStore[TX]) ReadConsumerBatch(ctx context.Context, tx TX, after core.Cursor, scope core.ConsumerScope, limit int) (core.ConsumerBatch, error) {
	if err := after.Validate(); err != nil {
		return core.ConsumerBatch{}, err
	}
	if err := scope.Validate(); err != nil {
		return core.ConsumerBatch{}, err
	}
	if limit < 1 {
		return core.ConsumerBatch{}, &core.InvalidArgumentError{Argument: "limit", Reason: fmt.Sprintf("must be >= 1, got %d", limit)}
	}
	if err := s.ready(ctx, tx); err != nil {
		return core.ConsumerBatch{}, err
	}
	query, args := s.batchStatement(after, scope, limit)
	rows, err := s.store.exec.Query(ctx, tx, query, args...)
	var read batchRows
	if err == nil {
		err = read.scan(rows, s.store.exec.NewEventRow, after, limit)
		rows.Close()
		if err == nil {
			err = rows.Err()
		}
	}
	if err != nil {
		return core.ConsumerBatch{}, s.store.consumerError(ctx, batchDoing(after), err)
	}
	return s.finishBatch(ctx, tx, after, read, limit)
}

// batchDoing names the read of the batch after a cursor, for errors.
func batchDoing(after core.Cursor) string {
	return fmt.Sprintf("reading the consumer batch after %s", after)
}

// batchStatement returns the statement reading the batch after a valid
// cursor, and its parameters: outside a page the batch statement, which
// takes the current snapshot (sql/consumer_batch.sql), inside one the
// page statement with the step's upper snapshot fixed
// (sql/consumer_page.sql).
func (s *ConsumerStore[TX]) batchStatement(after core.Cursor, scope core.ConsumerScope, limit int) (string, []any) {
	if after.Paging() {
		query := s.store.sql.ConsumerPage
		args := []any{after.Snapshot.Xmax, idArray(after.Snapshot.Xip), after.Upper.Xmin, after.Upper.Xmax, idArray(after.Upper.Xip), after.Position, int64(limit)}
		if scope.Filtered() {
			query, args = s.store.sql.ConsumerPageScoped, append(args, s.scopeArgs(scope)...)
		}
		return query, args
	}
	query, scoped := s.store.sql.ConsumerBatch, s.store.sql.ConsumerBatchScoped
	if after.Snapshot.IsZero() {
		query, scoped = s.store.sql.ConsumerBatchFromStart, s.store.sql.ConsumerBatchFromStartScoped
	}
	args := []any{after.Snapshot.Xmax, idArray(after.Snapshot.Xip), int64(limit)}
	if scope.Filtered() {
		query, args = scoped, append(args, s.scopeArgs(scope)...)
	}
	return query, args
}

// batchRows is what the rows of batchStatement's statement hold: the
// events and, for a batch statement, the current snapshot (upper) and
// whether an append was in flight.
type batchRows struct {
	upper   core.Snapshot
	events  []core.PersistedEvent
	writing bool
}

// scan reads the rows of batchStatement's statement for after, with
// newRow's scan targets (Executor.NewEventRow). A page's upper snapshot is
// the cursor's.
func (b *batchRows) scan(rows Rows, newRow func(leading int, text bool) EventRow, after core.Cursor, limit int) error {
	b.events = make([]core.PersistedEvent, 0, min(limit, 512))
	if after.Paging() {
		b.upper = after.Upper
		r := newRow(0, false)
		targets := r.Targets()
		for rows.Next() {
			if err := rows.Scan(targets...); err != nil {
				return err
			}
			e, err := r.Event()
			if err != nil {
				return err
			}
			b.events = append(b.events, e)
		}
		return rows.Err()
	}
	r := newRow(3, true) // S2's xmin and xmax, writing, S2's running ids, then the event columns
	targets := r.Targets()
	seen := false
	for rows.Next() {
		if err := rows.Scan(targets...); err != nil {
			return err
		}
		if !seen {
			xmin, _ := r.Leading(0)
			xmax, _ := r.Leading(1)
			w, _ := r.Leading(2)
			xip, _ := r.LeadingText()
			upper, err := snapshotOf(xmin, xmax, xip)
			if err != nil {
				return fmt.Errorf("the current snapshot: %w", err)
			}
			b.upper, b.writing, seen = upper, w == 1, true
		}
		if r.Present() { // the row of an empty batch has no event
			e, err := r.Event()
			if err != nil {
				return err
			}
			b.events = append(b.events, e)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if !seen {
		return errOrderOffsetMissing
	}
	return nil
}

// finishBatch makes the batch after a cursor of what its statement
// returned. A current snapshot that does not contain the cursor's means
// the log was moved into another cluster: a
// *core.TransactionOrderMovedError.
func (s *ConsumerStore[TX]) finishBatch(ctx context.Context, tx TX, after core.Cursor, read batchRows, limit int) (core.ConsumerBatch, error) {
	if !read.upper.Contains(after.Snapshot) {
		// The cursor saw transactions the database has not had: the log was
		// moved into another cluster, and saving this snapshot would
		// deliver everything again after the recovery.
		st, err := s.store.orderStatus(ctx, tx)
		if err != nil {
			return core.ConsumerBatch{}, s.store.consumerError(ctx, batchDoing(after), err)
		}
		if st.StoredMax <= st.Current {
			st.StoredMax = after.Snapshot.Xmax
		}
		return core.ConsumerBatch{}, fmt.Errorf("%s: %w", batchDoing(after), &core.TransactionOrderMovedError{Status: st})
	}
	batch := core.ConsumerBatch{Events: inPositionOrder(read.events), Writing: read.writing}
	if n := len(batch.Events); n == limit {
		// The step may hold more: page through it with upper fixed.
		batch.Next = core.Cursor{Snapshot: after.Snapshot, Upper: read.upper, Position: batch.Events[n-1].GlobalPosition}
	} else {
		batch.Next = core.Cursor{Snapshot: read.upper}
	}
	return batch, nil
}

// Lag implements core.ConsumerStore: one statement samples at most
// core.LagExactLimit+1 undelivered events by index (sql/lag.sql), so its
// cost does not grow with the lag. Up to the limit the count is exact;
// beyond it Events extrapolates the sample's density (sampled events per
// global position) over the positions from the sample's first to the
// log's last, and Estimated is set.
func (s *ConsumerStore[TX]) Lag(ctx context.Context, tx TX, after core.Cursor, scope core.ConsumerScope) (core.Lag, error) {
	if err := after.Validate(); err != nil {
		return core.Lag{}, err
	}
	if err := scope.Validate(); err != nil {
		return core.Lag{}, err
	}
	if err := s.ready(ctx, tx); err != nil {
		return core.Lag{}, err
	}
	query := s.store.sql.Lag
	args := []any{after.Snapshot.Xmax, idArray(after.Snapshot.Xip), after.Upper.Xmin, after.Upper.Xmax, idArray(after.Upper.Xip),
		int64(core.LagExactLimit + 1), after.Position}
	if scope.Filtered() {
		query, args = s.store.sql.LagScoped, append(args, s.scopeArgs(scope)...)
	}
	var (
		sampled             int64
		first, last, latest *int64
		oldest              *time.Time
	)
	if err := s.store.queryRow(ctx, tx, query, args, &sampled, &first, &last, &oldest, &latest); err != nil {
		return core.Lag{}, s.store.consumerError(ctx, fmt.Sprintf("measuring the lag after %s", after), err)
	}
	lag := core.Lag{Events: sampled}
	if oldest != nil {
		lag.Oldest = oldest.UTC()
	}
	if sampled > core.LagExactLimit && first != nil && last != nil && latest != nil {
		lag.Estimated = true
		span := float64(*last-*first) + 1
		lag.Events = max(sampled, int64(float64(sampled)*(float64(*latest-*first)+1)/span))
	}
	return lag, nil
}

// CurrentSnapshot implements core.ConsumerStore (sql/current_snapshot.sql).
// It assigns tx no transaction id.
func (s *ConsumerStore[TX]) CurrentSnapshot(ctx context.Context, tx TX) (core.Snapshot, error) {
	if err := s.ready(ctx, tx); err != nil {
		return core.Snapshot{}, err
	}
	const doing = "reading the current snapshot"
	var (
		xmin, xmax int64
		xip        string
	)
	err := s.store.queryRow(ctx, tx, s.store.sql.CurrentSnapshot, nil, &xmin, &xmax, &xip)
	if errors.Is(err, errNoRow) {
		err = errOrderOffsetMissing
	}
	if err != nil {
		return core.Snapshot{}, s.store.consumerError(ctx, doing, err)
	}
	snap, err := snapshotOf(xmin, xmax, xip)
	if err != nil {
		return core.Snapshot{}, s.store.consumerError(ctx, doing, err)
	}
	return snap, nil
}

// Writers implements core.ConsumerStore: the sessions of this database
// holding one of the ids (offset applied) and the prepared transactions
// among them (PID 0, State "prepared", Query the global id, Application
// the owner), by id (sql/writers.sql), read afresh on every call
// (sql/clear_stats_snapshot.sql). Without pg_read_all_stats,
// other users' sessions show Query "<insufficient privilege>", an empty
// State and a zero Started.
func (s *ConsumerStore[TX]) Writers(ctx context.Context, tx TX, ids []int64) ([]core.Writer, error) {
	if err := s.ready(ctx, tx); err != nil {
		return nil, err
	}
	writers := []core.Writer{}
	if len(ids) == 0 {
		return writers, nil
	}
	const doing = "listing the running writers"
	if err := s.store.exec.Exec(ctx, tx, s.store.sql.ClearStatsSnapshot); err != nil {
		return nil, s.store.consumerError(ctx, doing, err)
	}
	rows, err := s.store.exec.Query(ctx, tx, s.store.sql.Writers, idArray(ids))
	if err != nil {
		return nil, s.store.consumerError(ctx, doing, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			w       core.Writer
			pid     int64
			started *time.Time
		)
		if err := rows.Scan(&w.TransactionID, &pid, &started, &w.State, &w.Query, &w.Application); err != nil {
			return nil, s.store.consumerError(ctx, doing, err)
		}
		w.PID = int(pid)
		if started != nil {
			w.Started = started.UTC()
		}
		writers = append(writers, w)
	}
	if err := rows.Err(); err != nil {
		return nil, s.store.consumerError(ctx, doing, err)
	}
	return writers, nil
}

// TransactionOrder implements core.ConsumerStore: StoredMax is one past the
// highest stored writer id, or the highest Xmax of a checkpoint's
// snapshots, Current the next transaction id plus the order offset
// (sql/transaction_order.sql). It assigns tx no transaction id.
func (s *ConsumerStore[TX]) TransactionOrder(ctx context.Context, tx TX) (core.OrderStatus, error) {
	if err := s.ready(ctx, tx); err != nil {
		return core.OrderStatus{}, err
	}
	st, err := s.store.orderStatus(ctx, tx)
	if err != nil {
		return core.OrderStatus{}, s.store.consumerError(ctx, "reading the transaction order", err)
	}
	return st, nil
}

// orderStatus reads the order status (sql/transaction_order.sql).
func (s *Store[TX]) orderStatus(ctx context.Context, tx TX) (core.OrderStatus, error) {
	var (
		st              core.OrderStatus
		current, offset *int64
	)
	if err := s.queryRow(ctx, tx, s.sql.TransactionOrder, nil, &st.StoredMax, &current, &offset, &st.CheckedAt); err != nil {
		return core.OrderStatus{}, err
	}
	if current == nil || offset == nil {
		return core.OrderStatus{}, errOrderOffsetMissing
	}
	st.Current, st.Offset, st.CheckedAt = *current, *offset, st.CheckedAt.UTC()
	return st, nil
}

// RaiseOrderOffset implements core.ConsumerStore: one UPDATE of the offset
// row raises the offset so that Current is StoredMax when the order moved,
// and changes nothing otherwise (sql/raise_order_offset.sql); when it
// raised it, a DO block writes the new offset into the events table's
// writer-id default and check (sql/writer_id.sql). It returns the new
// status. It locks the offset row until tx ends (waiting for another
// transaction changing it), gives tx a transaction id, and on a raise
// takes the events table's ACCESS EXCLUSIVE lock: stop every writer and
// processor first. It needs UPDATE on the offset table and the events
// table's ownership, no superuser.
func (s *ConsumerStore[TX]) RaiseOrderOffset(ctx context.Context, tx TX) (core.OrderStatus, error) {
	if err := s.ready(ctx, tx); err != nil {
		return core.OrderStatus{}, err
	}
	const doing = "raising the transaction order offset"
	before, err := s.store.orderStatus(ctx, tx)
	if err != nil {
		return core.OrderStatus{}, s.store.consumerError(ctx, doing, err)
	}
	var st core.OrderStatus
	err = s.store.queryRow(ctx, tx, s.store.sql.RaiseOrderOffset, nil, &st.StoredMax, &st.Current, &st.Offset, &st.CheckedAt)
	if errors.Is(err, errNoRow) {
		err = errOrderOffsetMissing
	}
	if err != nil {
		return core.OrderStatus{}, s.store.consumerError(ctx, doing, err)
	}
	st.CheckedAt = st.CheckedAt.UTC()
	if st.Offset != before.Offset {
		if err := s.store.exec.Exec(ctx, tx, s.store.sql.WriterID); err != nil {
			return core.OrderStatus{}, s.store.consumerError(ctx, doing+" (writing it into the events table's writer-id default and check)", err)
		}
	}
	return st, nil
}

// scopeArgs returns the scoped statements' trailing parameters: the
// aggregate types (an empty array for every type: a NULL array would match
// no row), the partition count (0: not partitioned) and the partition.
func (s *ConsumerStore[TX]) scopeArgs(scope core.ConsumerScope) []any {
	types := append([]string{}, scope.AggregateTypes...)
	return []any{s.store.exec.TextArray(types), int64(scope.Partition.Count), int64(scope.Partition.Index)}
}
