package main

import (
	"context"
	"fmt"

	"github.com/chronicle-go/chronicle/core"
)

// readStream is W4: the stream aggregate read whole, in a transaction.
func readStream[TX any](a *adapter[TX], store core.Store[TX]) func(ctx context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		var n int
		err := a.inTx(ctx, func(tx TX) error {
			s, err := store.ReadAggregateStream(ctx, tx, aggregateType, streamID, nil, nil)
			n = len(s.Events)
			return err
		})
		return n, err
	}
}

// readLog is W5: the log read from the start in pages, in one transaction.
func readLog[TX any](a *adapter[TX], store core.Store[TX], total, page int) func(ctx context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		var n int
		err := a.inTx(ctx, func(tx TX) error {
			for from := int64(0); n < total; {
				events, err := store.ReadEvents(ctx, tx, from, page)
				if err != nil {
					return err
				}
				if len(events) == 0 {
					return fmt.Errorf("the log ended after %d events, want %d", n, total)
				}
				n += len(events)
				from = events[len(events)-1].GlobalPosition
			}
			return nil
		})
		return n, err
	}
}
