// Command consumer keeps a read model (order totals) up to date with the
// consumer runtime on PostgreSQL: the projection's rows and its checkpoint
// commit together, LISTEN/NOTIFY wakes it when events commit, and a replay
// rebuilds it from the log. It connects to $DATABASE_URL.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap"
	"go.uber.org/zap/exp/zapslog"

	"github.com/chronicle-go/chronicle/adapters/postgres-pgx" // package postgres
	"github.com/chronicle-go/chronicle/consumer"
	"github.com/chronicle-go/chronicle/core"
)

// orderTotals projects OrderLineAdded events into the order_totals table.
// It is a ScopedConsumer: the processor gives it Order events only.
type orderTotals struct{}

func (orderTotals) Name() string             { return "order-totals" }
func (orderTotals) AggregateTypes() []string { return []string{"Order"} }

// Handle writes through tx, the processor's transaction, so the row and the
// consumer's checkpoint commit together: each event counts exactly once.
func (orderTotals) Handle(ctx context.Context, tx pgx.Tx, e core.PersistedEvent) error {
	if e.EventType != "OrderLineAdded" {
		return nil
	}
	var line struct{ Amount int64 }
	if err := json.Unmarshal(e.Payload, &line); err != nil {
		return fmt.Errorf("decoding %s: %w", e.EventID, err)
	}
	_, err := tx.Exec(ctx, `INSERT INTO order_totals (order_id, total, lines) VALUES ($1, $2, 1)
		ON CONFLICT (order_id) DO UPDATE SET total = order_totals.total + $2, lines = order_totals.lines + 1`,
		e.AggregateID, line.Amount)
	return err
}

func main() {
	ctx := context.Background()
	logger, _ := zap.NewDevelopment(zap.IncreaseLevel(zap.WarnLevel))
	defer logger.Sync()
	// Chronicle logs to a *slog.Logger; zapslog hands its records to zap.
	log := slog.New(zapslog.NewHandler(logger.Core()))

	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		logger.Fatal("connecting", zap.Error(err))
	}
	defer pool.Close()
	store, err := postgres.NewStore(postgres.NewStoreConfig(
		postgres.WithNotifyChannel("chronicle_events"),
		postgres.WithLogger(log),
	))
	if err != nil {
		logger.Fatal("configuring the store", zap.Error(err))
	}
	ddl, err := store.SchemaSQL(postgres.SchemaOptions{})
	if err != nil {
		logger.Fatal("generating the schema", zap.Error(err))
	}
	if _, err := pool.Exec(ctx, ddl); err != nil {
		logger.Fatal("applying the schema", zap.Error(err))
	}
	if _, err := pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS order_totals (
		order_id text PRIMARY KEY, total bigint NOT NULL, lines int NOT NULL)`); err != nil {
		logger.Fatal("creating the read model", zap.Error(err))
	}

	consumers, err := postgres.NewConsumerStore(pool, store)
	if err != nil {
		logger.Fatal("configuring the consumer store", zap.Error(err))
	}
	processor, err := consumer.NewProcessor[pgx.Tx](consumers, []consumer.Consumer[pgx.Tx]{orderTotals{}},
		consumer.Config{Logger: log})
	if err != nil {
		logger.Fatal("configuring the processor", zap.Error(err))
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- processor.Run(runCtx) }()

	// Write some orders while the processor runs; each commit notifies it.
	order := "order-" + uuid.NewString()[:8]
	for _, amount := range []int64{1999, 500, 250} {
		if err := addLine(ctx, pool, store, order, amount); err != nil {
			logger.Fatal("appending", zap.Error(err))
		}
	}
	if err := waitUntilCaughtUp(ctx, processor); err != nil {
		logger.Fatal("waiting for the projection", zap.Error(err))
	}
	if err := printTotal(ctx, pool, order); err != nil {
		logger.Fatal("reading the projection", zap.Error(err))
	}

	ops := consumer.NewOperations[pgx.Tx](consumers)
	status, err := processor.Status(ctx)
	if err != nil {
		logger.Fatal("reading the status", zap.Error(err))
	}
	for _, s := range status {
		fmt.Printf("consumer %s: %d events behind, stopped: %t, last error: %q\n", s.ConsumerName, s.Behind, s.Stopped, s.LastError)
	}

	// Replay while the processor runs: rewind the consumer and clear its
	// read model in one transaction. ResetTx takes the consumer's checkpoint
	// first, waiting for a batch in flight, and only then calls the clear,
	// so no batch's rows escape it. The totals come back the same.
	tx, err := pool.Begin(ctx)
	if err != nil {
		logger.Fatal("beginning the replay", zap.Error(err))
	}
	defer tx.Rollback(ctx)
	if err := ops.ResetTx(ctx, tx, "order-totals", func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "DELETE FROM order_totals")
		return err
	}); err != nil {
		logger.Fatal("rewinding the consumer and clearing its read model", zap.Error(err))
	}
	if err := tx.Commit(ctx); err != nil {
		logger.Fatal("committing the replay", zap.Error(err))
	}
	if err := waitUntilCaughtUp(ctx, processor); err != nil {
		logger.Fatal("waiting for the replay", zap.Error(err))
	}
	fmt.Print("after replay: ")
	if err := printTotal(ctx, pool, order); err != nil {
		logger.Fatal("reading the projection", zap.Error(err))
	}
	stop()
	if err := <-done; err != nil {
		logger.Fatal("running the processor", zap.Error(err))
	}
}

// addLine appends an OrderLineAdded event in a transaction of its own.
func addLine(ctx context.Context, pool *pgxpool.Pool, store *postgres.Store, order string, amount int64) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	payload, _ := json.Marshal(map[string]int64{"amount": amount})
	if _, err := store.Append(ctx, tx, core.Any(), []core.Event{{
		AggregateType: "Order", AggregateID: order, EventID: uuid.New(), EventType: "OrderLineAdded", Payload: payload,
	}}); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// waitUntilCaughtUp polls the processor's status until no consumer is
// behind.
func waitUntilCaughtUp(ctx context.Context, p *consumer.Processor[pgx.Tx]) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		status, err := p.Status(ctx)
		if err != nil {
			return err
		}
		behind := int64(0)
		for _, s := range status {
			behind += s.Behind
		}
		if behind == 0 {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("the processor did not catch up within a minute")
}

func printTotal(ctx context.Context, pool *pgxpool.Pool, order string) error {
	var total int64
	var lines int
	if err := pool.QueryRow(ctx, "SELECT total, lines FROM order_totals WHERE order_id = $1", order).Scan(&total, &lines); err != nil {
		return err
	}
	fmt.Printf("order total: %d in %d lines\n", total, lines)
	return nil
}
