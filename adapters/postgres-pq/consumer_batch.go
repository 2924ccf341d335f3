package postgres

import (
	"context"
	"database/sql"
	"fmt"

	pgsql "github.com/chronicle-go/chronicle/adapters/postgres-sql"
	"github.com/chronicle-go/chronicle/core"
)

// ReadConsumerBatch implements core.ConsumerStore: up to limit events after
// the cursor below the frontier, in cursor order, and that frontier, from
// one statement and so one snapshot (see
// pgsql.ConsumerQueries.ConsumerBatch). aggregateTypes, when non-empty,
// keeps only those types, in SQL. The frontier counts tx's own transaction
// id, so tx's own uncommitted events are never in the batch. It never
// waits.
func (s *ConsumerStore) ReadConsumerBatch(ctx context.Context, tx *sql.Tx, after core.Cursor, aggregateTypes []string, limit int) (core.ConsumerBatch, error) {
	if err := pgsql.ValidateCursor(after); err != nil {
		return core.ConsumerBatch{}, err
	}
	if err := pgsql.ValidateBatchLimit(limit); err != nil {
		return core.ConsumerBatch{}, err
	}
	query, args := s.queries.ConsumerBatch, []any{after.TransactionOrder, after.GlobalPosition, int64(limit)}
	if len(aggregateTypes) > 0 {
		query, args = s.queries.ConsumerBatchScoped, append(args, textArray(aggregateTypes))
	}
	doing := fmt.Sprintf("reading the consumer batch after %s", after)
	rows, err := s.store.statements.query(ctx, tx, query, args...)
	if err != nil {
		return core.ConsumerBatch{}, pgsql.ConsumerError(ctx, doing, err)
	}
	defer rows.Close()
	batch := core.ConsumerBatch{Events: make([]core.PersistedEvent, 0, min(limit, 128))}
	// One set of targets for every row (see collectEvents).
	var (
		frontier sql.NullInt64
		e        eventRow
	)
	targets := append([]any{&frontier}, e.targets()...)
	for rows.Next() {
		if err := rows.Scan(targets...); err != nil {
			return core.ConsumerBatch{}, pgsql.ConsumerError(ctx, doing, err)
		}
		if e.position.Valid { // the row of an empty batch has no event
			ev, err := e.persisted()
			if err != nil {
				return core.ConsumerBatch{}, pgsql.ConsumerError(ctx, doing, err)
			}
			batch.Events = append(batch.Events, ev)
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

// textArray returns values as a text[] literal parameter (see
// array_literal.go).
func textArray(values []string) string {
	var a arrayLiteral
	for _, v := range values {
		a.quoted(v)
	}
	return a.String()
}

// eventRow receives the pgsql.EventColumns of a row whose event columns may
// all be NULL (the consumer batch's row for an empty batch).
type eventRow struct {
	position, aggregateVersion, transactionOrder sql.NullInt64
	aggregateType, aggregateID, eventType        sql.NullString
	trace, correlation, causation                sql.NullString
	eventVersion                                 sql.NullInt64
	// eventID is the driver's text of the id, valid until the next row:
	// parsed at once, never kept.
	eventID           sql.RawBytes
	payload, metadata []byte
	createdAt         sql.NullTime
}

func (r *eventRow) targets() []any {
	return []any{&r.position, &r.aggregateType, &r.aggregateID, &r.aggregateVersion, &r.eventID, &r.eventType, &r.eventVersion,
		&r.payload, &r.metadata, &r.createdAt, &r.trace, &r.correlation, &r.causation, &r.transactionOrder}
}

// persisted returns the event of a row that has one. The payload and
// metadata slices are the row's own copies (database/sql copies into a
// *[]byte); a NULL metadata scans as nil.
func (r *eventRow) persisted() (core.PersistedEvent, error) {
	id, err := uuidOf(r.eventID)
	if err != nil {
		return core.PersistedEvent{}, err
	}
	e := core.PersistedEvent{
		GlobalPosition:   r.position.Int64,
		AggregateType:    r.aggregateType.String,
		AggregateID:      r.aggregateID.String,
		AggregateVersion: r.aggregateVersion.Int64,
		EventID:          id,
		EventType:        r.eventType.String,
		EventVersion:     int(r.eventVersion.Int64),
		Payload:          r.payload,
		Metadata:         r.metadata,
		CreatedAt:        r.createdAt.Time.UTC(),
		TraceID:          nullString(r.trace),
		CorrelationID:    nullString(r.correlation),
		CausationID:      nullString(r.causation),
		TransactionOrder: r.transactionOrder.Int64,
	}
	if e.Payload == nil {
		e.Payload = []byte{}
	}
	return e, nil
}

// CountEventsAfter implements core.ConsumerStore: the events tx sees after
// the cursor, of the given aggregate types when non-empty. Events above the
// frontier count too: they are committed and still to come.
func (s *ConsumerStore) CountEventsAfter(ctx context.Context, tx *sql.Tx, after core.Cursor, aggregateTypes []string) (int64, error) {
	if err := pgsql.ValidateCursor(after); err != nil {
		return 0, err
	}
	query, args := s.queries.CountEventsAfter, []any{after.TransactionOrder, after.GlobalPosition}
	if len(aggregateTypes) > 0 {
		query, args = s.queries.CountEventsAfterScoped, append(args, textArray(aggregateTypes))
	}
	var n int64
	if err := tx.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return 0, pgsql.ConsumerError(ctx, fmt.Sprintf("counting events after %s", after), err)
	}
	return n, nil
}

// Frontier implements core.ConsumerStore: the oldest transaction id running
// anywhere in the cluster (tx's own included), or the next id when none
// runs, plus the order offset. It assigns tx no transaction id.
func (s *ConsumerStore) Frontier(ctx context.Context, tx *sql.Tx) (int64, error) {
	var f sql.NullInt64
	if err := tx.QueryRowContext(ctx, s.queries.Frontier).Scan(&f); err != nil {
		return 0, pgsql.ConsumerError(ctx, "reading the frontier", err)
	}
	if !f.Valid {
		return 0, pgsql.ConsumerError(ctx, "reading the frontier", pgsql.ErrOrderOffsetMissing)
	}
	return f.Int64, nil
}

// FrontierHolders implements core.ConsumerStore: the transactions holding a
// transaction id, oldest first — every other backend of the cluster with a
// backend_xid in pg_stat_activity (tx's own backend is left out), and every
// prepared transaction (PID 0, State "prepared", Query its global id,
// Application its owner). TransactionID is the full 64-bit id, as
// pg_current_xact_id() returns it. Without pg_read_all_stats, other users'
// sessions show Query "<insufficient privilege>", an empty State and a
// zero Started.
func (s *ConsumerStore) FrontierHolders(ctx context.Context, tx *sql.Tx) ([]core.FrontierHolder, error) {
	rows, err := tx.QueryContext(ctx, s.queries.FrontierHolders)
	if err != nil {
		return nil, pgsql.ConsumerError(ctx, "listing the transactions holding the frontier", err)
	}
	defer rows.Close()
	holders := []core.FrontierHolder{}
	for rows.Next() {
		var (
			h       core.FrontierHolder
			pid     int64
			started sql.NullTime
		)
		if err := rows.Scan(&pid, &h.TransactionID, &started, &h.State, &h.Query, &h.Application); err != nil {
			return nil, pgsql.ConsumerError(ctx, "listing the transactions holding the frontier", err)
		}
		h.PID = int(pid)
		if started.Valid {
			h.Started = started.Time.UTC()
		}
		holders = append(holders, h)
	}
	if err := rows.Err(); err != nil {
		return nil, pgsql.ConsumerError(ctx, "listing the transactions holding the frontier", err)
	}
	return holders, nil
}
