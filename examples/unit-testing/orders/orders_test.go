package orders_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/chronicle-go/chronicle/adapters/memory"
	"github.com/chronicle-go/chronicle/core"
	"github.com/chronicle-go/chronicle/examples/unit-testing/orders"
)

// The handlers run on the in-memory store exactly as they run on
// PostgreSQL: the same ports, the same locking and conflicts.

func TestPlaceOrderThenAddLines(t *testing.T) {
	ctx := context.Background()
	store := memory.NewStore()
	place := orders.PlaceOrderCommand{OrderID: "order-1", Customer: "ada", CreditLimit: 1000}
	mustExecute(t, store, func(ctx context.Context, tx *memory.Tx) error {
		return orders.PlaceOrder(ctx, store, tx, place)
	})
	for _, amount := range []int64{400, 600} {
		mustExecute(t, store, func(ctx context.Context, tx *memory.Tx) error {
			return orders.AddLine(ctx, store, tx, orders.AddLineCommand{OrderID: "order-1", SKU: "book", Amount: amount})
		})
	}

	got := load(t, store, "order-1")
	want := orders.Order{ID: "order-1", Customer: "ada", CreditLimit: 1000, Total: 1000, Lines: 2, Version: 3}
	if got != want {
		t.Fatalf("order = %+v, want %+v", got, want)
	}

	err := orders.Execute(ctx, store, 3, nil, func(ctx context.Context, tx *memory.Tx) error {
		return orders.PlaceOrder(ctx, store, tx, place)
	})
	if !errors.Is(err, orders.ErrOrderExists) {
		t.Fatalf("placing it again: %v, want ErrOrderExists", err)
	}
}

func TestRefusals(t *testing.T) {
	ctx := context.Background()
	store := memory.NewStore()
	mustExecute(t, store, func(ctx context.Context, tx *memory.Tx) error {
		return orders.PlaceOrder(ctx, store, tx, orders.PlaceOrderCommand{OrderID: "order-1", Customer: "ada", CreditLimit: 500})
	})
	for _, tc := range []struct {
		name string
		cmd  orders.AddLineCommand
		want error
	}{
		{"over the credit limit", orders.AddLineCommand{OrderID: "order-1", SKU: "piano", Amount: 501}, orders.ErrCreditLimit},
		{"unknown order", orders.AddLineCommand{OrderID: "order-2", SKU: "book", Amount: 10}, orders.ErrNoOrder},
		{"no amount", orders.AddLineCommand{OrderID: "order-1", SKU: "book"}, orders.ErrInvalidCommand},
		{"no SKU", orders.AddLineCommand{OrderID: "order-1", Amount: 10}, orders.ErrInvalidCommand},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := orders.Execute(ctx, store, 3, nil, func(ctx context.Context, tx *memory.Tx) error {
				return orders.AddLine(ctx, store, tx, tc.cmd)
			})
			if !errors.Is(err, tc.want) {
				t.Fatalf("AddLine(%+v) = %v, want %v", tc.cmd, err, tc.want)
			}
		})
	}
	if got := load(t, store, "order-1"); got.Lines != 0 || got.Version != 1 {
		t.Fatalf("a refused command changed the order: %+v", got)
	}
}

// A writer that commits between AddLine's load and its append makes the
// append conflict: Exact(version) catches the stale decision. Execute then
// decides again on the new state, which the credit limit now refuses.
func TestAddLineConflict(t *testing.T) {
	ctx := context.Background()
	store := memory.NewStore()
	mustExecute(t, store, func(ctx context.Context, tx *memory.Tx) error {
		return orders.PlaceOrder(ctx, store, tx, orders.PlaceOrderCommand{OrderID: "order-1", Customer: "ada", CreditLimit: 1000})
	})
	line := orders.AddLineCommand{OrderID: "order-1", SKU: "desk", Amount: 600}
	other := func() {
		mustExecute(t, store, func(ctx context.Context, tx *memory.Tx) error {
			return orders.AddLine(ctx, store, tx, line)
		})
	}

	tx, err := store.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	err = orders.AddLine(ctx, &interleaved[*memory.Tx]{Store: store, before: other}, tx, line)
	var conflict *core.ConcurrencyError
	if !errors.As(err, &conflict) || !errors.Is(err, core.ErrOptimisticConcurrency) {
		t.Fatalf("AddLine with a concurrent writer = %v, want a *core.ConcurrencyError", err)
	}
	if conflict.Expected != core.Exact(1) || conflict.Actual != 2 {
		t.Fatalf("conflict expected %s, actual %d; want Exact(1), 2", conflict.Expected, conflict.Actual)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}

	err = orders.Execute(ctx, store, 3, nil, func(ctx context.Context, tx *memory.Tx) error {
		return orders.AddLine(ctx, store, tx, line)
	})
	if !errors.Is(err, orders.ErrCreditLimit) {
		t.Fatalf("the retry = %v, want ErrCreditLimit", err)
	}
	if got := load(t, store, "order-1"); got.Total != 600 || got.Lines != 1 {
		t.Fatalf("order = %+v, want one line of 600", got)
	}
}

// Many writers at once: each waits for the aggregate's lock, conflicts,
// retries on the new state, and the credit limit holds.
func TestConcurrentAddLinesKeepTheCreditLimit(t *testing.T) {
	ctx := context.Background()
	store := memory.NewStore()
	mustExecute(t, store, func(ctx context.Context, tx *memory.Tx) error {
		return orders.PlaceOrder(ctx, store, tx, orders.PlaceOrderCommand{OrderID: "order-1", Customer: "ada", CreditLimit: 1000})
	})

	const writers = 10
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			// At most three lines fit, so a writer conflicts at most three
			// times before it is added or refused.
			errs[i] = orders.Execute(ctx, store, 4, nil, func(ctx context.Context, tx *memory.Tx) error {
				return orders.AddLine(ctx, store, tx, orders.AddLineCommand{OrderID: "order-1", SKU: "chair", Amount: 300})
			})
		})
	}
	wg.Wait()

	added, refused := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			added++
		case errors.Is(err, orders.ErrCreditLimit):
			refused++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if added != 3 || refused != writers-3 {
		t.Fatalf("added %d, refused %d; want 3 and %d", added, refused, writers-3)
	}
	if got := load(t, store, "order-1"); got.Total != 900 || got.Lines != 3 || got.Version != 4 {
		t.Fatalf("order = %+v, want 3 lines of 300 at version 4", got)
	}
}

// interleaved is a core.Store that calls before once, just ahead of the
// first Append: a test's way to let another writer in between a handler's
// load and its append. Wrapping a port is all it takes.
type interleaved[TX any] struct {
	core.Store[TX]
	before func()
}

func (s *interleaved[TX]) Append(ctx context.Context, tx TX, expected core.ExpectedVersion, events []core.Event) (core.AppendResult, error) {
	if f := s.before; f != nil {
		s.before = nil
		f()
	}
	return s.Store.Append(ctx, tx, expected, events)
}

func mustExecute(t *testing.T, store *memory.Store, handle func(context.Context, *memory.Tx) error) {
	t.Helper()
	if err := orders.Execute(context.Background(), store, 3, nil, handle); err != nil {
		t.Fatal(err)
	}
}

func load(t *testing.T, store *memory.Store, orderID string) orders.Order {
	t.Helper()
	ctx := context.Background()
	tx, err := store.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	o, err := orders.Load(ctx, store, tx, orderID)
	if err != nil {
		t.Fatal(err)
	}
	return o
}
