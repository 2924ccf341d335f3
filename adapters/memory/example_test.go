package memory_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/google/uuid"

	"github.com/chronicle-go/chronicle/adapters/memory"
	"github.com/chronicle-go/chronicle/core"
)

// Begin a transaction, append two events to a new aggregate, commit, and
// read the aggregate back in another transaction.
func Example() {
	ctx := context.Background()
	store := memory.NewStore()

	tx, err := store.Begin(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer tx.Rollback() // a no-op once committed
	res, err := store.Append(ctx, tx, core.NoStream(), []core.Event{
		{AggregateType: "Order", AggregateID: "order-42", EventID: uuid.New(), EventType: "OrderPlaced", Payload: []byte(`{"total":1999}`)},
		{AggregateType: "Order", AggregateID: "order-42", EventID: uuid.New(), EventType: "OrderPaid", Payload: []byte(`{"method":"card"}`)},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("order-42 went from version %d to %d\n", res.FromVersion(), res.ToVersion())

	read, err := store.Begin(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer read.Rollback()
	stream, err := store.ReadAggregateStream(ctx, read, "Order", "order-42", nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range stream.Events {
		fmt.Printf("v%d %s %s\n", e.AggregateVersion, e.EventType, e.Payload)
	}
	fmt.Println("current version:", stream.Version())
	// Output:
	// order-42 went from version 0 to 2
	// v1 OrderPlaced {"total":1999}
	// v2 OrderPaid {"method":"card"}
	// current version: 2
}

// An append whose expected version is stale fails with a
// *core.ConcurrencyError. As on PostgreSQL the conflict is a result, not a
// database error: the transaction goes on and commits its other work. A
// duplicate event id is a database error: it aborts the transaction, which
// then only rolls back.
func ExampleStore_Append_conflict() {
	ctx := context.Background()
	store := memory.NewStore()
	placed := core.Event{AggregateType: "Order", AggregateID: "order-7", EventID: uuid.New(), EventType: "OrderPlaced"}

	tx, _ := store.Begin(ctx)
	if _, err := store.Append(ctx, tx, core.NoStream(), []core.Event{placed}); err != nil {
		log.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		log.Fatal(err)
	}

	tx, _ = store.Begin(ctx)
	defer tx.Rollback()
	again := placed
	again.EventID = uuid.New()
	_, err := store.Append(ctx, tx, core.NoStream(), []core.Event{again})
	var conflict *core.ConcurrencyError
	if errors.As(err, &conflict) {
		fmt.Println("conflict:", errors.Is(err, core.ErrOptimisticConcurrency))
		fmt.Println("expected", conflict.Expected, "actual", conflict.Actual)
	}
	_, err = store.ReadEvents(ctx, tx, 0, 10)
	fmt.Println("usable after the conflict:", err == nil)

	_, err = store.Append(ctx, tx, core.Any(), []core.Event{placed})
	fmt.Println("duplicate:", errors.Is(err, core.ErrDuplicateEvent))
	_, err = store.ReadEvents(ctx, tx, 0, 10)
	fmt.Println("aborted after the duplicate:", errors.Is(err, memory.ErrTxAborted))
	// Output:
	// conflict: true
	// expected NoStream actual 1
	// usable after the conflict: true
	// duplicate: true
	// aborted after the duplicate: true
}

// A unit test's read model applies a handler's effect with OnCommit, so it
// changes exactly when the transaction commits, as a table written in the
// same PostgreSQL transaction would.
func ExampleTx_OnCommit() {
	ctx := context.Background()
	store := memory.NewStore()
	totals := map[string]int{} // the read model

	for _, commit := range []bool{true, false} {
		tx, err := store.Begin(ctx)
		if err != nil {
			log.Fatal(err)
		}
		tx.OnCommit(func() { totals["orders"]++ })
		if commit {
			err = store.Commit(ctx, tx)
		} else {
			err = store.Rollback(ctx, tx)
		}
		if err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println("orders:", totals["orders"])
	// Output:
	// orders: 1
}
