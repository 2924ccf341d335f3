package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chronicle-go/chronicle/core"
	"github.com/google/uuid"
)

// appendNew is W1 (size 1) and W2 (size 100): BEGIN, one Append of size
// events to a new aggregate with NoStream, COMMIT.
func appendNew[TX any](a *adapter[TX], store core.Store[TX], size int) func(ctx context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		events := orderEvents(size)
		return size, a.inTx(ctx, func(tx TX) error {
			_, err := store.Append(ctx, tx, core.NoStream(), events)
			return err
		})
	}
}

// contention is W3: writers × appends single-event Any appends to one
// aggregate, one transaction each. Every append must succeed and the
// versions must end up 1..n without a gap.
func contention[TX any](ctx context.Context, a *adapter[TX], store core.Store[TX], writers, appends int) (sample, error) {
	id := uuid.NewString()
	var (
		wg     sync.WaitGroup
		errs   atomic.Int64
		mu     sync.Mutex
		lats   []time.Duration
		failed error
	)
	start := time.Now()
	for range writers {
		wg.Go(func() {
			for range appends {
				t0 := time.Now()
				err := a.inTx(ctx, func(tx TX) error {
					_, err := store.Append(ctx, tx, core.Any(), moreOrderEvents(id, 1))
					return err
				})
				d := time.Since(t0)
				mu.Lock()
				if err != nil {
					errs.Add(1)
					failed = err
				} else {
					lats = append(lats, d)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	s := sample{events: writers*appends - int(errs.Load()), elapsed: time.Since(start), latencies: lats}
	gaps, err := versionGaps(ctx, a, store, id, writers*appends)
	if err != nil {
		return s, err
	}
	s.checks = map[string]int64{"errors": errs.Load(), "version_gaps": gaps}
	if failed != nil {
		fmt.Printf("W3 %s: an append failed: %v\n", a.name, failed)
	}
	return s, nil
}

// versionGaps reads the aggregate back and counts the versions that are
// not where 1..want puts them (0 when the stream is exactly 1..want).
func versionGaps[TX any](ctx context.Context, a *adapter[TX], store core.Store[TX], id string, want int) (int64, error) {
	var gaps int64
	err := a.inTx(ctx, func(tx TX) error {
		s, err := store.ReadAggregateStream(ctx, tx, aggregateType, id, nil, nil)
		if err != nil {
			return err
		}
		for i, e := range s.Events {
			if e.AggregateVersion != int64(i+1) {
				gaps++
			}
		}
		if d := want - len(s.Events); d > 0 {
			gaps += int64(d)
		}
		return nil
	})
	return gaps, err
}
