package postgres

import (
	"context"
	"fmt"
	"time"

	pgsql "github.com/chronicle-go/chronicle/adapters/postgres-sql"
	"github.com/chronicle-go/chronicle/core"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// ReadConsumerBatch implements core.ConsumerStore: up to limit events after
// the cursor below the frontier, in cursor order, and that frontier, from
// one statement and so one snapshot (see
// pgsql.ConsumerQueries.ConsumerBatch). aggregateTypes, when non-empty,
// keeps only those types, in SQL. The frontier counts tx's own transaction
// id, so tx's own uncommitted events are never in the batch. It never
// waits.
func (s *ConsumerStore) ReadConsumerBatch(ctx context.Context, tx pgx.Tx, after core.Cursor, aggregateTypes []string, limit int) (core.ConsumerBatch, error) {
	if err := pgsql.ValidateCursor(after); err != nil {
		return core.ConsumerBatch{}, err
	}
	if err := pgsql.ValidateBatchLimit(limit); err != nil {
		return core.ConsumerBatch{}, err
	}
	query, args := s.queries.ConsumerBatch, []any{after.TransactionOrder, after.GlobalPosition, int64(limit)}
	if len(aggregateTypes) > 0 {
		query, args = s.queries.ConsumerBatchScoped, append(args, aggregateTypes)
	}
	doing := fmt.Sprintf("reading the consumer batch after %s", after)
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return core.ConsumerBatch{}, pgsql.ConsumerError(ctx, doing, err)
	}
	defer rows.Close()
	batch := core.ConsumerBatch{Events: make([]core.PersistedEvent, 0, min(limit, 512))}
	// One set of targets for every row (see collectEvents).
	var (
		frontier pgtype.Int8
		e        scannedEvent
	)
	targets := append([]any{&frontier}, e.targets()...)
	for rows.Next() {
		if err := rows.Scan(targets...); err != nil {
			return core.ConsumerBatch{}, pgsql.ConsumerError(ctx, doing, err)
		}
		if e.position.Valid { // the row of an empty batch has no event
			batch.Events = append(batch.Events, e.event())
		}
	}
	if err := rows.Err(); err != nil {
		return core.ConsumerBatch{}, pgsql.ConsumerError(ctx, doing, err)
	}
	if !frontier.Valid {
		return core.ConsumerBatch{}, pgsql.ConsumerError(ctx, doing, pgsql.ErrOrderOffsetMissing)
	}
	batch.Frontier = frontier.Int64
	batch.Events = pgsql.InCursorOrder(batch.Events)
	return batch, nil
}

// CountEventsAfter implements core.ConsumerStore: the events tx sees after
// the cursor, of the given aggregate types when non-empty. Events above the
// frontier count too: they are committed and still to come.
func (s *ConsumerStore) CountEventsAfter(ctx context.Context, tx pgx.Tx, after core.Cursor, aggregateTypes []string) (int64, error) {
	if err := pgsql.ValidateCursor(after); err != nil {
		return 0, err
	}
	query, args := s.queries.CountEventsAfter, []any{after.TransactionOrder, after.GlobalPosition}
	if len(aggregateTypes) > 0 {
		query, args = s.queries.CountEventsAfterScoped, append(args, aggregateTypes)
	}
	var n int64
	if err := tx.QueryRow(ctx, query, args...).Scan(&n); err != nil {
		return 0, pgsql.ConsumerError(ctx, fmt.Sprintf("counting events after %s", after), err)
	}
	return n, nil
}

// Frontier implements core.ConsumerStore: the oldest transaction id running
// anywhere in the cluster (tx's own included), or the next id when none
// runs, plus the order offset. It assigns tx no transaction id.
func (s *ConsumerStore) Frontier(ctx context.Context, tx pgx.Tx) (int64, error) {
	var f *int64
	if err := tx.QueryRow(ctx, s.queries.Frontier).Scan(&f); err != nil {
		return 0, pgsql.ConsumerError(ctx, "reading the frontier", err)
	}
	if f == nil {
		return 0, pgsql.ConsumerError(ctx, "reading the frontier", pgsql.ErrOrderOffsetMissing)
	}
	return *f, nil
}

// FrontierHolders implements core.ConsumerStore: the transactions holding a
// transaction id, oldest first — every other backend of the cluster with a
// backend_xid in pg_stat_activity (tx's own backend is left out), and every
// prepared transaction (PID 0, State "prepared", Query its global id,
// Application its owner). TransactionID is the full 64-bit id, as
// pg_current_xact_id() returns it. Without pg_read_all_stats, other users'
// sessions show Query "<insufficient privilege>", an empty State and a
// zero Started.
func (s *ConsumerStore) FrontierHolders(ctx context.Context, tx pgx.Tx) ([]core.FrontierHolder, error) {
	rows, err := tx.Query(ctx, s.queries.FrontierHolders)
	if err != nil {
		return nil, pgsql.ConsumerError(ctx, "listing the transactions holding the frontier", err)
	}
	holders, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (core.FrontierHolder, error) {
		var (
			h       core.FrontierHolder
			pid     int32
			started *time.Time
		)
		if err := row.Scan(&pid, &h.TransactionID, &started, &h.State, &h.Query, &h.Application); err != nil {
			return h, err
		}
		h.PID = int(pid)
		if started != nil {
			h.Started = started.UTC()
		}
		return h, nil
	})
	if err != nil {
		return nil, pgsql.ConsumerError(ctx, "listing the transactions holding the frontier", err)
	}
	if holders == nil {
		holders = []core.FrontierHolder{}
	}
	return holders, nil
}
