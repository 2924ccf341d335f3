package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/chronicle-go/chronicle/consumer"
	"github.com/chronicle-go/chronicle/core"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// millionSchema holds the large log of W7s and W10.
const millionSchema = "bench_million"

// scopedType is the aggregate type W7s consumes: every scopedEvery-th
// event of the large log, the rest being Orders.
const (
	scopedType  = "Refund"
	scopedEvery = 100
)

// millionLog seeds the large log once, on first use: W7s and W10 warm up
// with it, so that a run without them (-only) does not pay for it.
type millionLog struct {
	once sync.Once
	err  error
}

func (l *millionLog) ensure(ctx context.Context, env *environment) error {
	l.once.Do(func() { l.err = seedMillion(ctx, env.raw, env.opts.millionEvents) })
	return l.err
}

// seedMillion fills millionSchema with events events, every scopedEvery-th
// of them a Refund (aggregates of 10 events), the others Orders
// (aggregates of 100). It inserts with INSERT … SELECT in chunks, each
// chunk a transaction of its own, so that transaction_id comes from the
// column default: the writer's real id, as the schema's check demands.
func seedMillion(ctx context.Context, pool *pgxpool.Pool, events int) error {
	if err := migrate(ctx, pool, millionSchema); err != nil {
		return err
	}
	q := pgx.Identifier{millionSchema, "events"}.Sanitize()
	insert := `INSERT INTO ` + q + ` (aggregate_type, aggregate_id, aggregate_version, event_id, event_type, event_version,
    payload, metadata, created_at)
SELECT CASE WHEN refund THEN 'Refund' ELSE 'Order' END,
    CASE WHEN refund THEN md5('refund' || ((k - 1) / 10))::uuid::text ELSE md5('order' || ((j - 1) / 100))::uuid::text END,
    CASE WHEN refund THEN (k - 1) % 10 + 1 ELSE (j - 1) % 100 + 1 END,
    gen_random_uuid(), CASE WHEN refund THEN 'RefundIssued' ELSE 'OrderPlaced' END, 1,
    convert_to(format('{"order_id":"%s","customer_id":"C-%s","items":[{"sku":"SKU-%s","qty":%s,"price_cents":%s}],"currency":"EUR","total_cents":%s,"channel":"web","placed_by":"checkout-service"}',
        md5(i::text)::uuid, lpad((i % 1000000)::text, 6, '0'), lpad((i % 10000)::text, 4, '0'), 1 + i % 5, 100 + i % 10000, 100 + i % 50000), 'UTF8'),
    '{}'::jsonb, now()
FROM (SELECT i, i % $3 = 0 AS refund, i / $3 AS k, i - i / $3 AS j
      FROM generate_series($1::bigint, $2::bigint) AS i) g
ORDER BY i`
	const chunk = 100_000
	for from := 1; from <= events; from += chunk {
		to := min(from+chunk-1, events)
		if _, err := pool.Exec(ctx, insert, from, to, scopedEvery); err != nil {
			return fmt.Errorf("error seeding the large log: %w", err)
		}
	}
	_, err := pool.Exec(ctx, "VACUUM ANALYZE "+q)
	return err
}

// scopedCatchUp is W7s: a consumer of the Refunds alone reads the large
// log from the start; events/s counts its events, and time_to_end_s is the
// time until it handled the last of them.
func scopedCatchUp[TX any](ctx context.Context, a *adapter[TX], total, batch int) (sample, error) {
	cs, err := consumersIn(a, millionSchema)
	if err != nil {
		return sample{}, err
	}
	want := int64(total / scopedEvery)
	c := &scopedRecorder[TX]{recorder: &recorder[TX]{name: "w7s-" + uuid.NewString()}, types: []string{scopedType}}
	start := time.Now()
	stop, err := startProcessor(ctx, cs, consumer.Config{BatchSize: batch}, c)
	if err != nil {
		return sample{}, err
	}
	ok := waitFor(ctx, 10*time.Minute, func() bool { return c.total.Load() >= want })
	s := sample{events: int(c.total.Load()), elapsed: time.Since(start)}
	if err := stop(); err != nil {
		return s, err
	}
	if !ok {
		return s, fmt.Errorf("the scoped consumer handled %d of %d events", c.total.Load(), want)
	}
	s.metrics = map[string]float64{"time_to_end_s": s.elapsed.Seconds()}
	s.checks = map[string]int64{"extra_events": c.total.Load() - want}
	return s, deleteCheckpoint(ctx, cs, c.name)
}

// statusConsumerName names W10's i-th consumer.
func statusConsumerName(i int) string { return fmt.Sprintf("w10-%02d", i) }

// status is W10: Operations.Status over consumers checkpoints, each at
// the start of the large log (every event behind), called calls times;
// each call is one latency (ms per call) and one "event" of the rate.
// Every status must say the whole log is behind, within the estimate's
// precision.
func status[TX any](ctx context.Context, a *adapter[TX], total, consumers, calls int) (sample, error) {
	cs, err := consumersIn(a, millionSchema)
	if err != nil {
		return sample{}, err
	}
	ops := consumer.NewOperations(cs)
	for i := range consumers {
		if err := ops.SetCursor(ctx, statusConsumerName(i), core.Cursor{}); err != nil {
			return sample{}, err
		}
	}
	s := sample{checks: map[string]int64{"wrong_consumers": 0, "behind_off": 0}}
	start := time.Now()
	for range calls {
		t0 := time.Now()
		st, err := ops.Status(ctx)
		if err != nil {
			return s, err
		}
		s.latencies = append(s.latencies, time.Since(t0))
		s.events++
		if len(st) != consumers {
			s.checks["wrong_consumers"]++
		}
		for _, c := range st {
			if d := c.Behind - int64(total); d > int64(total)/10 || -d > int64(total)/10 {
				s.checks["behind_off"]++
			}
		}
	}
	s.elapsed = time.Since(start)
	return s, nil
}
