package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chronicle-go/chronicle/core"
)

// ReadConsumerBatch implements core.ConsumerStore: up to limit events after
// the cursor below the frontier, in cursor order, and that frontier, from
// one statement and so one snapshot (sql/consumer_batch.sql).
// aggregateTypes, when non-empty, keeps only those types, in SQL. The
// frontier counts tx's own transaction id, so tx's own uncommitted events
// are never in the batch. It never waits.
func (s *ConsumerStore[TX]) ReadConsumerBatch(ctx context.Context, tx TX, after core.Cursor, aggregateTypes []string, limit int) (core.ConsumerBatch, error) {
	if err := validateCursor(after); err != nil {
		return core.ConsumerBatch{}, err
	}
	if limit < 1 {
		return core.ConsumerBatch{}, &core.InvalidArgumentError{Argument: "limit", Reason: fmt.Sprintf("must be >= 1, got %d", limit)}
	}
	if err := s.ready(ctx, tx); err != nil {
		return core.ConsumerBatch{}, err
	}
	exec := s.store.exec
	query, args := s.store.sql.ConsumerBatch, []any{after.TransactionOrder, after.GlobalPosition, int64(limit)}
	if len(aggregateTypes) > 0 {
		query, args = s.store.sql.ConsumerBatchScoped, append(args, exec.TextArray(aggregateTypes))
	}
	doing := fmt.Sprintf("reading the consumer batch after %s", after)
	rows, err := exec.Query(ctx, tx, query, args...)
	if err != nil {
		return core.ConsumerBatch{}, s.store.consumerError(ctx, doing, err)
	}
	defer rows.Close()
	batch := core.ConsumerBatch{Events: make([]core.PersistedEvent, 0, min(limit, 512))}
	r := exec.NewEventRow(1) // the frontier, then the event columns
	targets := r.Targets()
	frontierSeen := false
	for rows.Next() {
		if err := rows.Scan(targets...); err != nil {
			return core.ConsumerBatch{}, s.store.consumerError(ctx, doing, err)
		}
		batch.Frontier, frontierSeen = r.Leading(0)
		if r.Present() { // the row of an empty batch has no event
			e, err := r.Event()
			if err != nil {
				return core.ConsumerBatch{}, s.store.consumerError(ctx, doing, err)
			}
			batch.Events = append(batch.Events, e)
		}
	}
	if err := rows.Err(); err != nil {
		return core.ConsumerBatch{}, s.store.consumerError(ctx, doing, err)
	}
	if !frontierSeen {
		return core.ConsumerBatch{}, s.store.consumerError(ctx, doing, errOrderOffsetMissing)
	}
	batch.Events = inCursorOrder(batch.Events)
	return batch, nil
}

// CountEventsAfter implements core.ConsumerStore: the events tx sees after
// the cursor, of the given aggregate types when non-empty
// (sql/count_events_after.sql). Events above the frontier count too: they
// are committed and still to come.
func (s *ConsumerStore[TX]) CountEventsAfter(ctx context.Context, tx TX, after core.Cursor, aggregateTypes []string) (int64, error) {
	if err := validateCursor(after); err != nil {
		return 0, err
	}
	if err := s.ready(ctx, tx); err != nil {
		return 0, err
	}
	query, args := s.store.sql.CountEventsAfter, []any{after.TransactionOrder, after.GlobalPosition}
	if len(aggregateTypes) > 0 {
		query, args = s.store.sql.CountEventsAfterScoped, append(args, s.store.exec.TextArray(aggregateTypes))
	}
	var n int64
	if err := s.store.queryRow(ctx, tx, query, args, &n); err != nil {
		return 0, s.store.consumerError(ctx, fmt.Sprintf("counting events after %s", after), err)
	}
	return n, nil
}

// Frontier implements core.ConsumerStore: the oldest transaction id running
// anywhere in the cluster (tx's own included), or the next id when none
// runs, plus the order offset (sql/frontier.sql). It assigns tx no
// transaction id.
func (s *ConsumerStore[TX]) Frontier(ctx context.Context, tx TX) (int64, error) {
	if err := s.ready(ctx, tx); err != nil {
		return 0, err
	}
	var f *int64
	if err := s.store.queryRow(ctx, tx, s.store.sql.Frontier, nil, &f); err != nil {
		return 0, s.store.consumerError(ctx, "reading the frontier", err)
	}
	if f == nil {
		return 0, s.store.consumerError(ctx, "reading the frontier", errOrderOffsetMissing)
	}
	return *f, nil
}

// FrontierHolders implements core.ConsumerStore: the transactions holding a
// transaction id, oldest first — every other backend of the cluster with a
// backend_xid in pg_stat_activity (tx's own backend is left out), and every
// prepared transaction (PID 0, State "prepared", Query its global id,
// Application its owner) (sql/frontier_holders.sql). TransactionID is the
// full 64-bit id, as pg_current_xact_id() returns it. Without
// pg_read_all_stats, other users' sessions show Query "<insufficient
// privilege>", an empty State and a zero Started.
func (s *ConsumerStore[TX]) FrontierHolders(ctx context.Context, tx TX) ([]core.FrontierHolder, error) {
	if err := s.ready(ctx, tx); err != nil {
		return nil, err
	}
	const doing = "listing the transactions holding the frontier"
	rows, err := s.store.exec.Query(ctx, tx, s.store.sql.FrontierHolders)
	if err != nil {
		return nil, s.store.consumerError(ctx, doing, err)
	}
	defer rows.Close()
	holders := []core.FrontierHolder{}
	for rows.Next() {
		var (
			h       core.FrontierHolder
			pid     int64
			started *time.Time
		)
		if err := rows.Scan(&pid, &h.TransactionID, &started, &h.State, &h.Query, &h.Application); err != nil {
			return nil, s.store.consumerError(ctx, doing, err)
		}
		h.PID = int(pid)
		if started != nil {
			h.Started = started.UTC()
		}
		holders = append(holders, h)
	}
	if err := rows.Err(); err != nil {
		return nil, s.store.consumerError(ctx, doing, err)
	}
	return holders, nil
}

// TransactionOrder implements core.ConsumerStore: StoredMax is the highest
// transaction order stored in events or checkpoint cursors (a cursor may
// sit at a frontier above every event), Current the next transaction id
// plus the order offset (sql/transaction_order.sql). It assigns tx no
// transaction id.
func (s *ConsumerStore[TX]) TransactionOrder(ctx context.Context, tx TX) (core.OrderStatus, error) {
	if err := s.ready(ctx, tx); err != nil {
		return core.OrderStatus{}, err
	}
	var st core.OrderStatus
	var current, offset *int64
	if err := s.store.queryRow(ctx, tx, s.store.sql.TransactionOrder, nil, &st.StoredMax, &current, &offset); err != nil {
		return core.OrderStatus{}, s.store.consumerError(ctx, "reading the transaction order", err)
	}
	if current == nil || offset == nil {
		return core.OrderStatus{}, s.store.consumerError(ctx, "reading the transaction order", errOrderOffsetMissing)
	}
	st.Current, st.Offset = *current, *offset
	return st, nil
}

// RaiseOrderOffset implements core.ConsumerStore: one UPDATE of the offset
// row raises the offset so that Current is StoredMax + 1 when the order
// moved, and changes nothing otherwise; it returns the new status
// (sql/raise_order_offset.sql). It locks the offset row until tx ends
// (waiting for another transaction changing it) and gives tx a transaction
// id; new orders continue above StoredMax once tx commits. Stop every
// writer and processor first: a transaction already running keeps the
// order it got. Needs UPDATE on the offset table, no superuser.
func (s *ConsumerStore[TX]) RaiseOrderOffset(ctx context.Context, tx TX) (core.OrderStatus, error) {
	if err := s.ready(ctx, tx); err != nil {
		return core.OrderStatus{}, err
	}
	var st core.OrderStatus
	err := s.store.queryRow(ctx, tx, s.store.sql.RaiseOrderOffset, nil, &st.StoredMax, &st.Current, &st.Offset)
	if errors.Is(err, errNoRow) {
		err = errOrderOffsetMissing
	}
	if err != nil {
		return core.OrderStatus{}, s.store.consumerError(ctx, "raising the transaction order offset", err)
	}
	return st, nil
}
