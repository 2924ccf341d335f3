package main

import (
	"context"
	"fmt"

	"github.com/chronicle-go/chronicle/internal/pgstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The schemas of a run, all made by the schema generator so that the raw
// references write to a table identical to the store's.
const (
	storeSchema = "bench_store" // W1–W3, both adapters
	rawSchema   = "bench_raw"   // L1, L1a, L2, L3
	logSchema   = "bench_log"   // the seeded log of W4, W5, W7, W7p, R4, R5
	groupSchema = "bench_group" // W9's backlog
)

func namesIn(schema string) pgstore.Names {
	n := pgstore.DefaultNames()
	n.Schema = schema
	return n
}

// migrate creates the store's tables in schema.
func migrate(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	ddl, err := pgstore.SchemaSQL(namesIn(schema), pgstore.SchemaOptions{})
	if err != nil {
		return err
	}
	if _, err := pool.Exec(ctx, ddl, pgx.QueryExecModeSimpleProtocol); err != nil {
		return fmt.Errorf("error creating schema %s: %w", schema, err)
	}
	return nil
}

func dropSchema(ctx context.Context, pool *pgxpool.Pool, schema string) error {
	_, err := pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	return err
}

// streamID is the aggregate W4 and R4 read.
const streamID = "00000000-0000-4000-8000-000000000004"

// seedLog fills logSchema with events events in one transaction: first the
// stream aggregate's streamEvents, then aggregates of 100 events each.
func seedLog(ctx context.Context, pool *pgxpool.Pool, events, streamEvents int) error {
	events = max(events, streamEvents)
	return seed(ctx, pool, logSchema, `SELECT i,
        CASE WHEN i <= $2 THEN $3 ELSE md5(((i - $2 - 1) / 100)::text)::uuid::text END AS agg,
        CASE WHEN i <= $2 THEN i ELSE (i - $2 - 1) % 100 + 1 END AS ver
      FROM generate_series(1, $1::bigint) AS i`, events, streamEvents, streamID)
}

// seedBacklog fills groupSchema with W9's backlog: events events over
// aggregates aggregates, round robin (event i is version i/aggregates+1 of
// aggregate i%aggregates), so that every aggregate's versions spread over
// the whole log and over many batches of its partition.
func seedBacklog(ctx context.Context, pool *pgxpool.Pool, events, aggregates int) error {
	return seed(ctx, pool, groupSchema, `SELECT i, md5('w9-' || (i % $2))::uuid::text AS agg, i / $2 + 1 AS ver
      FROM generate_series(0, $1::bigint - 1) AS i`, events, aggregates)
}

// seed inserts into schema's events, in one transaction, one Order event
// per row of rows (columns i, agg and ver: the row's number, aggregate id
// and version; args are its parameters), in the order of i. Heads match
// the events, so the store would append after them.
func seed(ctx context.Context, pool *pgxpool.Pool, schema, rows string, args ...any) error {
	q := func(t string) string { return pgx.Identifier{schema, t}.Sanitize() }
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	insert := `INSERT INTO ` + q("events") + ` (aggregate_type, aggregate_id, aggregate_version, event_id, event_type, event_version,
    payload, metadata, created_at)
SELECT 'Order', agg, ver, gen_random_uuid(), 'OrderPlaced', 1,
    convert_to(format('{"order_id":%s,"customer_id":"C-%s","items":[{"sku":"SKU-%s","qty":%s,"price_cents":%s}],"currency":"EUR","total_cents":%s,"channel":"web","placed_by":"checkout-service"}',
        to_json(agg), lpad((i % 1000000)::text, 6, '0'), lpad((i % 10000)::text, 4, '0'), 1 + i % 5, 100 + i % 10000, 100 + i % 50000), 'UTF8'),
    '{}'::jsonb, now()
FROM (` + rows + `) g
ORDER BY i`
	if _, err := tx.Exec(ctx, insert, args...); err != nil {
		return fmt.Errorf("error seeding %s: %w", schema, err)
	}
	heads := `INSERT INTO ` + q("aggregate_heads") + ` (aggregate_type, aggregate_id, aggregate_version)
SELECT aggregate_type, aggregate_id, max(aggregate_version) FROM ` + q("events") + `
GROUP BY aggregate_type, aggregate_id`
	if _, err := tx.Exec(ctx, heads); err != nil {
		return fmt.Errorf("error seeding the heads: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	_, err = pool.Exec(ctx, "VACUUM ANALYZE "+q("events"))
	return err
}
