// Command memory is the quick start on the in-memory store: append an event
// to a new aggregate, read the aggregate back, and read the global log.
package main

import (
	"context"
	"fmt"
	"log"

	"github.com/google/uuid"

	"github.com/chronicle-go/chronicle/adapters/memory"
	"github.com/chronicle-go/chronicle/core"
)

func main() {
	ctx := context.Background()
	store := memory.NewStore()

	tx, err := store.Begin(ctx)
	if err != nil {
		log.Fatal(err)
	}
	result, err := store.Append(ctx, tx, core.NoStream(), []core.Event{{
		AggregateType: "Order",
		AggregateID:   "order-42",
		EventID:       uuid.New(),
		EventType:     "OrderPlaced",
		Payload:       []byte(`{"total":1999}`),
	}})
	if err != nil {
		_ = tx.Rollback()
		log.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("order-42 is at version", result.ToVersion())

	tx, err = store.Begin(ctx)
	if err != nil {
		log.Fatal(err)
	}
	defer tx.Rollback()
	stream, err := store.ReadAggregateStream(ctx, tx, "Order", "order-42", nil, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range stream.Events {
		fmt.Println("stream:", e.AggregateVersion, e.EventType, string(e.Payload))
	}
	events, err := store.ReadEvents(ctx, tx, 0, 100)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range events {
		fmt.Println("log:", e.GlobalPosition, e.AggregateType, e.AggregateID, e.EventType)
	}
}
