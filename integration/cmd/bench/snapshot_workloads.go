package main

import (
	"context"
	"fmt"
	"sync"

	"github.com/chronicle-go/chronicle/core"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// longSchema holds the long aggregate of W11, W11s and R11: one aggregate
// of longEvents events and a snapshot of it near its end.
const longSchema = "bench_long"

// longID is the long aggregate's id; longSnapshotGap is how many events
// follow its snapshot, which is of schema version 1 (version 2 has none).
const (
	longID          = "00000000-0000-4000-8000-000000000011"
	longSnapshotGap = 50
)

// longLog seeds the long aggregate once, on first use, like millionLog.
type longLog struct {
	once sync.Once
	err  error
}

func (l *longLog) ensure(ctx context.Context, env *environment) error {
	l.once.Do(func() { l.err = seedLong(ctx, env.raw, env.opts.longEvents) })
	return l.err
}

// seedLong fills longSchema with the long aggregate's events (W4's event
// shape), its head, and a 1 KiB snapshot at events-longSnapshotGap.
func seedLong(ctx context.Context, pool *pgxpool.Pool, events int) error {
	if err := migrate(ctx, pool, longSchema); err != nil {
		return err
	}
	q := func(t string) string { return pgx.Identifier{longSchema, t}.Sanitize() }
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		insert := `INSERT INTO ` + q("events") + ` (aggregate_type, aggregate_id, aggregate_version, event_id, event_type, event_version,
    payload, metadata, created_at)
SELECT 'Order', $2, i, gen_random_uuid(), 'OrderLineAdded', 1,
    convert_to(format('{"order_id":%s,"sku":"SKU-%s","qty":%s,"price_cents":%s,"currency":"EUR"}',
        to_json($2::text), lpad((i % 10000)::text, 4, '0'), 1 + i % 5, 100 + i % 10000), 'UTF8'),
    '{}'::jsonb, now()
FROM generate_series(1, $1::bigint) AS i
ORDER BY i`
		if _, err := tx.Exec(ctx, insert, events, longID); err != nil {
			return fmt.Errorf("error seeding the long aggregate: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO `+q("aggregate_heads")+` (aggregate_type, aggregate_id, aggregate_version) VALUES ('Order', $1, $2)`,
			longID, int64(events)); err != nil {
			return fmt.Errorf("error seeding the long aggregate's head: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO `+q("events_snapshots")+` (aggregate_type, aggregate_id, schema_version, aggregate_version, state)
VALUES ('Order', $1, 1, $2, convert_to(repeat('{"lines":1234,"total_cents":98765}', 30), 'UTF8'))`,
			longID, int64(events-longSnapshotGap)); err != nil {
			return fmt.Errorf("error seeding the long aggregate's snapshot: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	_, err = pool.Exec(ctx, "VACUUM ANALYZE "+q("events"))
	return err
}

// loadLong is W11 (schema 2: no snapshot, every event) and W11s (schema
// 1: the snapshot and the events after it): one LoadAggregate per
// transaction. Its count is the aggregate's versions the load covers
// (events), whatever it read, so that W11s / W11 is what the snapshot saves.
func loadLong[TX any](a *adapter[TX], store core.Store[TX], schema, events int) func(ctx context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		err := a.inTx(ctx, func(tx TX) error {
			l, err := store.LoadAggregate(ctx, tx, aggregateType, longID, schema)
			if err == nil && l.Version() != int64(events) {
				err = fmt.Errorf("loaded the long aggregate at version %d, want %d", l.Version(), events)
			}
			if err == nil && (l.Snapshot != nil) != (schema == 1) {
				err = fmt.Errorf("schema %d: snapshot %v", schema, l.Snapshot != nil)
			}
			return err
		})
		return events, err
	}
}
