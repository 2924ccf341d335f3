package consumer_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"sync"

	"github.com/google/uuid"

	"github.com/chronicle-go/chronicle/adapters/memory"
	"github.com/chronicle-go/chronicle/consumer"
	"github.com/chronicle-go/chronicle/core"
)

// orderTotals is a projection: the sum of each order's lines. On
// PostgreSQL it would write a table through tx; on memory, OnCommit applies
// the change exactly when the batch, and with it the checkpoint, commits.
type orderTotals struct {
	mu     sync.Mutex
	totals map[string]int64
}

func (*orderTotals) Name() string             { return "order-totals" }
func (*orderTotals) AggregateTypes() []string { return []string{"Order"} }

func (p *orderTotals) Handle(_ context.Context, tx *memory.Tx, e core.PersistedEvent) error {
	var line struct{ Amount int64 }
	if err := json.Unmarshal(e.Payload, &line); err != nil {
		return fmt.Errorf("decoding %s: %w", e.EventID, err)
	}
	tx.OnCommit(func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.totals[e.AggregateID] += line.Amount
	})
	return nil
}

// A projection kept by the processor on the in-memory store, as a unit
// test would run it: the processor handles every committed event once, in
// order, and skips the aggregate types the consumer did not ask for.
func Example() {
	ctx := context.Background()
	store := memory.NewStore()
	projection := &orderTotals{totals: map[string]int64{}}

	handled := make(chan int, 16)
	processor, err := consumer.NewProcessor[*memory.Tx](store, []consumer.Consumer[*memory.Tx]{projection},
		consumer.Config{OnBatch: func(r consumer.BatchReport) { handled <- r.Events }})
	if err != nil {
		log.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- processor.Run(runCtx) }()

	for _, e := range []struct {
		aggregateType, id string
		amount            int64
	}{{"Order", "order-1", 1999}, {"Customer", "ada", 0}, {"Order", "order-1", 500}, {"Order", "order-2", 250}} {
		if err := appendLine(ctx, store, e.aggregateType, e.id, e.amount); err != nil {
			log.Fatal(err)
		}
	}
	// Wait for the three Order events; the processor wakes on each commit.
	for n := 0; n < 3; {
		n += <-handled
	}
	stop()
	if err := <-done; err != nil {
		log.Fatal(err)
	}

	status, err := processor.Status(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("order-1:", projection.totals["order-1"], "order-2:", projection.totals["order-2"])
	fmt.Printf("%s: %d behind, stopped: %t\n", status[0].ConsumerName, status[0].Behind, status[0].Stopped)
	// Output:
	// order-1: 2499 order-2: 250
	// order-totals: 0 behind, stopped: false
}

// appendLine appends one event in a transaction of its own.
func appendLine(ctx context.Context, store *memory.Store, aggregateType, id string, amount int64) error {
	tx, err := store.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	payload, _ := json.Marshal(map[string]int64{"amount": amount})
	if _, err := store.Append(ctx, tx, core.Any(), []core.Event{{
		AggregateType: aggregateType, AggregateID: id, EventID: uuid.New(), EventType: "LineAdded", Payload: payload,
	}}); err != nil {
		return err
	}
	return tx.Commit()
}
