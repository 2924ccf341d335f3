package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	pgxstore "github.com/chronicle-go/chronicle/adapters/postgres-pgx"
	"github.com/chronicle-go/chronicle/consumer"
	"github.com/chronicle-go/chronicle/core"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// projectionDDL: soak_all and soak_orders keep one row per handled event
// in the order handled; soak_versions keeps each aggregate's version.
const projectionDDL = `
CREATE TABLE soak_all (seq bigserial PRIMARY KEY, event_id uuid NOT NULL, aggregate_type text NOT NULL, aggregate_id text NOT NULL, aggregate_version bigint NOT NULL);
CREATE TABLE soak_orders (LIKE soak_all INCLUDING ALL);
CREATE TABLE soak_versions (aggregate_type text NOT NULL, aggregate_id text NOT NULL, aggregate_version bigint NOT NULL, PRIMARY KEY (aggregate_type, aggregate_id));`

// rowConsumer appends a row per event to its table.
type rowConsumer struct {
	name, table string
	types       []string
}

func (c rowConsumer) Name() string { return c.name }

func (c rowConsumer) AggregateTypes() []string { return c.types }

func (c rowConsumer) Handle(ctx context.Context, tx pgx.Tx, e core.PersistedEvent) error {
	_, err := tx.Exec(ctx, "INSERT INTO "+c.table+" (event_id, aggregate_type, aggregate_id, aggregate_version) VALUES ($1, $2, $3, $4)",
		e.EventID, e.AggregateType, e.AggregateID, e.AggregateVersion)
	return err
}

// versionConsumer keeps each aggregate's version and insists on receiving
// every aggregate's events in version order, once.
type versionConsumer struct{ violations *atomic.Int64 }

func (versionConsumer) Name() string { return "versions" }

var errOutOfOrder = errors.New("event out of version order")

func (c versionConsumer) Handle(ctx context.Context, tx pgx.Tx, e core.PersistedEvent) error {
	if e.AggregateVersion == 1 {
		tag, err := tx.Exec(ctx, "INSERT INTO soak_versions VALUES ($1, $2, 1) ON CONFLICT DO NOTHING", e.AggregateType, e.AggregateID)
		if err == nil && tag.RowsAffected() == 0 {
			c.violations.Add(1)
			return fmt.Errorf("%w: %s/%s version 1 again", errOutOfOrder, e.AggregateType, e.AggregateID)
		}
		return err
	}
	tag, err := tx.Exec(ctx, "UPDATE soak_versions SET aggregate_version = $3 WHERE aggregate_type = $1 AND aggregate_id = $2 AND aggregate_version = $3 - 1",
		e.AggregateType, e.AggregateID, e.AggregateVersion)
	if err == nil && tag.RowsAffected() == 0 {
		c.violations.Add(1)
		return fmt.Errorf("%w: %s/%s version %d", errOutOfOrder, e.AggregateType, e.AggregateID, e.AggregateVersion)
	}
	return err
}

// processors are the two processors running the three consumers.
type processors struct {
	cancel context.CancelFunc
	done   []chan error
	pools  []*pgxpool.Pool
	// handled counts the events of committed batches per consumer.
	mu      sync.Mutex
	handled map[string]int64
	// batchErrors counts the failed batches the processors logged.
	batchErrors atomic.Int64
}

// errorCounter is a slog.Handler counting the processors' errors.
type errorCounter struct {
	n *atomic.Int64
}

func (l errorCounter) Enabled(_ context.Context, level slog.Level) bool {
	return level >= slog.LevelError
}

func (l errorCounter) Handle(context.Context, slog.Record) error {
	l.n.Add(1)
	return nil
}

func (l errorCounter) WithAttrs([]slog.Attr) slog.Handler { return l }

func (l errorCounter) WithGroup(string) slog.Handler { return l }

func (s *soak) startProcessors(ctx context.Context) (*processors, error) {
	runCtx, cancel := context.WithCancel(ctx)
	ps := &processors{cancel: cancel, handled: map[string]int64{}}
	consumers := []consumer.Consumer[pgx.Tx]{
		rowConsumer{name: "all", table: "soak_all"},
		rowConsumer{name: "orders", table: "soak_orders", types: []string{"Order"}},
		versionConsumer{violations: &s.stats.orderViolations},
	}
	for i := range 2 {
		cfg, err := pgxpool.ParseConfig(s.url)
		if err != nil {
			cancel()
			return nil, err
		}
		cfg.MaxConns = 4
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			cancel()
			return nil, err
		}
		ps.pools = append(ps.pools, pool)
		cs, err := pgxstore.NewConsumerStore(pool, s.pgxStore)
		if err != nil {
			cancel()
			return nil, err
		}
		p, err := consumer.NewProcessor[pgx.Tx](cs, consumers, consumer.Config{
			BatchSize: 50, PollInterval: 200 * time.Millisecond, InitialBackoff: 10 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
			MaxAttempts: -1, Owner: fmt.Sprintf("soak-%d", i), Logger: slog.New(errorCounter{n: &ps.batchErrors}),
			OnBatch: func(r consumer.BatchReport) {
				ps.mu.Lock()
				ps.handled[r.Consumer] += int64(r.Events)
				ps.mu.Unlock()
			},
		})
		if err != nil {
			cancel()
			return nil, err
		}
		done := make(chan error, 1)
		ps.done = append(ps.done, done)
		go func() { done <- p.Run(runCtx) }()
	}
	return ps, nil
}

// stop stops both processors and closes their pools.
func (ps *processors) stop() []error {
	ps.cancel()
	var errs []error
	for i, done := range ps.done {
		select {
		case err := <-done:
			if err != nil {
				errs = append(errs, fmt.Errorf("processor %d: %w", i, err))
			}
		case <-time.After(time.Minute):
			errs = append(errs, fmt.Errorf("processor %d did not stop within a minute", i))
		}
	}
	for _, p := range ps.pools {
		p.Close()
	}
	return errs
}

// awaitCatchUp waits until every consumer has handled every stored event
// of its types.
func (s *soak) awaitCatchUp(ctx context.Context, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		var behind bool
		err := s.check.QueryRow(ctx, `SELECT
  (SELECT count(*) FROM events) <> (SELECT count(*) FROM soak_all)
  OR (SELECT count(*) FROM events WHERE aggregate_type = 'Order') <> (SELECT count(*) FROM soak_orders)
  OR (SELECT count(*) FROM events) <> (SELECT coalesce(sum(aggregate_version), 0) FROM soak_versions)`).Scan(&behind)
		if err != nil {
			return fmt.Errorf("error checking the consumers' progress: %w", err)
		}
		if !behind {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the consumers did not catch up within %s of the load's end", within)
		}
		time.Sleep(100 * time.Millisecond) // polling the projections, bounded by the deadline
	}
}
