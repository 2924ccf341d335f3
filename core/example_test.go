package core_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/chronicle-go/chronicle/core"
)

// Each expected version against a new stream (version 0) and a stream at
// version 2.
func ExampleExpectedVersion() {
	for _, expected := range []core.ExpectedVersion{core.NoStream(), core.Exact(2), core.StreamExists(), core.Any()} {
		fmt.Printf("%-12s on a new stream: %-5t at version 2: %t\n", expected, expected.Matches(0), expected.Matches(2))
	}
	// Output:
	// NoStream     on a new stream: true  at version 2: false
	// Exact(2)     on a new stream: false at version 2: true
	// StreamExists on a new stream: false at version 2: true
	// Any          on a new stream: true  at version 2: true
}

// An adapter's conflict, wrapped on its way up as application code does,
// still answers errors.Is with the sentinel and errors.As with the detail.
func ExampleConcurrencyError() {
	err := fmt.Errorf("error placing order-42: %w", &core.ConcurrencyError{
		AggregateType: "Order", AggregateID: "order-42", Expected: core.Exact(3), Actual: 4,
	})

	var conflict *core.ConcurrencyError
	if errors.As(err, &conflict) {
		fmt.Printf("%s/%s: expected %s, actual version %d\n", conflict.AggregateType, conflict.AggregateID, conflict.Expected, conflict.Actual)
	}
	fmt.Println(errors.Is(err, core.ErrOptimisticConcurrency))
	// Output:
	// Order/order-42: expected Exact(3), actual version 4
	// true
}

// Validation happens before any I/O and names the event and the field;
// every adapter runs it, so a bad batch fails the same way everywhere.
func ExamplePrepareEvents() {
	_, err := core.PrepareEvents([]core.Event{
		{AggregateType: "Order", AggregateID: "order-42", EventID: uuid.New(), EventType: "OrderPlaced"},
		{AggregateType: "Order", AggregateID: "order-42", EventID: uuid.New(), EventType: "OrderPaid", Metadata: []byte(`{not json`)},
	}, time.Now())

	var invalid *core.InvalidEventError
	if errors.As(err, &invalid) {
		fmt.Println("event", invalid.Index, "field", invalid.Field)
	}
	fmt.Println(errors.Is(err, core.ErrInvalidEvent))
	// Output:
	// event 1 field Metadata
	// true
}
