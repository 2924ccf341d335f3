package orders

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/google/uuid"

	"github.com/chronicle-go/chronicle/core"
)

// The handlers' refusals. A concurrency conflict is not among them: it is
// core.ErrOptimisticConcurrency, which Execute retries.
var (
	// ErrOrderExists: PlaceOrder for an order that was placed already.
	ErrOrderExists = errors.New("the order exists already")
	// ErrNoOrder: AddLine for an order that was never placed.
	ErrNoOrder = errors.New("no such order")
	// ErrCreditLimit: the line would take the order's total above its
	// credit limit.
	ErrCreditLimit = errors.New("the line would exceed the order's credit limit")
	// ErrInvalidCommand: a command is missing a field or has a value out of
	// range; the error names which.
	ErrInvalidCommand = errors.New("invalid command")
)

// PlaceOrderCommand asks to open an order.
type PlaceOrderCommand struct {
	OrderID  string
	Customer string
	// CreditLimit is the most the order's lines may add up to; > 0.
	CreditLimit int64
}

// AddLineCommand asks to add a line to an open order.
type AddLineCommand struct {
	OrderID string
	SKU     string
	// Amount is the line's price; > 0.
	Amount int64
}

// PlaceOrder opens the order cmd names, in tx. It fails with
// ErrOrderExists when the order was placed before, ErrInvalidCommand for a
// bad command, and core.ErrOptimisticConcurrency when another transaction
// placed it between the load and the append (nothing was appended; roll tx
// back: Execute retries, and the retry sees ErrOrderExists).
func PlaceOrder[TX any](ctx context.Context, store core.Store[TX], tx TX, cmd PlaceOrderCommand) error {
	switch {
	case cmd.OrderID == "":
		return fmt.Errorf("%w: PlaceOrderCommand.OrderID is empty", ErrInvalidCommand)
	case cmd.Customer == "":
		return fmt.Errorf("%w: PlaceOrderCommand.Customer is empty", ErrInvalidCommand)
	case cmd.CreditLimit <= 0:
		return fmt.Errorf("%w: PlaceOrderCommand.CreditLimit is %d, want > 0", ErrInvalidCommand, cmd.CreditLimit)
	}
	order, err := Load(ctx, store, tx, cmd.OrderID)
	if err != nil {
		return err
	}
	if order.Version > 0 {
		return fmt.Errorf("placing order %s: %w", cmd.OrderID, ErrOrderExists)
	}
	return appendEvent(ctx, store, tx, order, EventOrderPlaced, OrderPlaced{Customer: cmd.Customer, CreditLimit: cmd.CreditLimit})
}

// AddLine adds a line to the order cmd names, in tx, unless it would take
// the total above the credit limit (ErrCreditLimit). It fails with
// ErrNoOrder for an order never placed, ErrInvalidCommand for a bad
// command, and core.ErrOptimisticConcurrency when another transaction
// changed the order between the load and the append (nothing was
// appended, and the decision was made on a stale state; roll tx back:
// Execute retries with the new state).
func AddLine[TX any](ctx context.Context, store core.Store[TX], tx TX, cmd AddLineCommand) error {
	switch {
	case cmd.OrderID == "":
		return fmt.Errorf("%w: AddLineCommand.OrderID is empty", ErrInvalidCommand)
	case cmd.SKU == "":
		return fmt.Errorf("%w: AddLineCommand.SKU is empty", ErrInvalidCommand)
	case cmd.Amount <= 0:
		return fmt.Errorf("%w: AddLineCommand.Amount is %d, want > 0", ErrInvalidCommand, cmd.Amount)
	}
	order, err := Load(ctx, store, tx, cmd.OrderID)
	if err != nil {
		return err
	}
	if order.Version == 0 {
		return fmt.Errorf("adding a line to order %s: %w", cmd.OrderID, ErrNoOrder)
	}
	if order.Total+cmd.Amount > order.CreditLimit {
		return fmt.Errorf("adding %d to order %s at %d of %d: %w", cmd.Amount, cmd.OrderID, order.Total, order.CreditLimit, ErrCreditLimit)
	}
	return appendEvent(ctx, store, tx, order, EventLineAdded, LineAdded{SKU: cmd.SKU, Amount: cmd.Amount})
}

// appendEvent appends one event to order, expecting the version the
// decision was made on: Exact(order.Version) is what turns a concurrent
// change into a conflict instead of a broken credit limit (Exact(0) is
// NoStream).
func appendEvent[TX any](ctx context.Context, store core.EventStore[TX], tx TX, order Order, eventType string, payload any) error {
	data, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("error encoding %s: %w", eventType, err)
	}
	_, err = store.Append(ctx, tx, core.Exact(order.Version), []core.Event{{
		AggregateType: AggregateType,
		AggregateID:   order.ID,
		EventID:       uuid.New(),
		EventType:     eventType,
		Payload:       data,
	}})
	if err != nil {
		return fmt.Errorf("error appending %s to order %s: %w", eventType, order.ID, err)
	}
	return nil
}
