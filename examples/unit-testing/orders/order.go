package orders

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/chronicle-go/chronicle/core"
)

// AggregateType is the aggregate type orders are stored under.
const AggregateType = "Order"

// The event types, as stored in core.Event.EventType. They are data: once
// written, never rename them.
const (
	EventOrderPlaced = "OrderPlaced"
	EventLineAdded   = "OrderLineAdded"
)

// OrderPlaced is the payload of an EventOrderPlaced event.
type OrderPlaced struct {
	Customer    string `json:"customer"`
	CreditLimit int64  `json:"credit_limit"`
}

// LineAdded is the payload of an EventLineAdded event.
type LineAdded struct {
	SKU    string `json:"sku"`
	Amount int64  `json:"amount"`
}

// Order is an order's state, folded from its events.
type Order struct {
	ID          string
	Customer    string
	CreditLimit int64
	Total       int64
	Lines       int
	// Version is the version of the stream the state was folded from: the
	// expected version of the next append. 0 means no such order.
	Version int64
}

// Load folds the order's events as tx sees them. An order that does not
// exist is an Order with Version 0, not an error.
func Load[TX any](ctx context.Context, store core.AggregateStreamReader[TX], tx TX, orderID string) (Order, error) {
	stream, err := store.ReadAggregateStream(ctx, tx, AggregateType, orderID, nil, nil)
	if err != nil {
		return Order{}, fmt.Errorf("error loading order %s: %w", orderID, err)
	}
	o := Order{ID: orderID}
	for _, e := range stream.Events {
		if err := o.apply(e); err != nil {
			return Order{}, err
		}
	}
	o.Version = stream.Version()
	return o, nil
}

func (o *Order) apply(e core.PersistedEvent) error {
	switch e.EventType {
	case EventOrderPlaced:
		var p OrderPlaced
		if err := json.Unmarshal(e.Payload, &p); err != nil {
			return fmt.Errorf("error decoding %s %d of order %s: %w", e.EventType, e.AggregateVersion, o.ID, err)
		}
		o.Customer, o.CreditLimit = p.Customer, p.CreditLimit
	case EventLineAdded:
		var l LineAdded
		if err := json.Unmarshal(e.Payload, &l); err != nil {
			return fmt.Errorf("error decoding %s %d of order %s: %w", e.EventType, e.AggregateVersion, o.ID, err)
		}
		o.Total += l.Amount
		o.Lines++
	default:
		// Events this version of the code does not know change nothing:
		// newer writers may add types before every reader is updated.
	}
	return nil
}
