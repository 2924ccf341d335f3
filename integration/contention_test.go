package integration_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/chronicle-go/chronicle/core"
	"github.com/google/uuid"
)

// 32 writers append 100 single events each to ONE aggregate with Any: every
// append succeeds and the versions are exactly 1..3200, none lost, none
// doubled, in position order.
func TestAnyAppendsToOneHotAggregate(t *testing.T) {
	const writers, appends = 32, 100
	t.Run("pgx", func(t *testing.T) {
		testHotAggregate(t, pgxRig(t, newPool(t, 0, writers)), writers, appends)
	})
	t.Run("lib-pq", func(t *testing.T) {
		db := openDB(t, "postgres")
		db.SetMaxOpenConns(writers)
		testHotAggregate(t, sqlRig(t, db), writers, appends)
	})
}

func testHotAggregate[TX any](t *testing.T, r rig[TX], writers, appends int) {
	ctx := testContext(t)
	aggregateID := "Hot-" + uuid.NewString()
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range appends {
				if err := appendOne(ctx, r, aggregateID, fmt.Sprintf("w%d-%d", w, i)); err != nil {
					errs <- fmt.Errorf("writer %d, append %d: %w", w, i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	stream := r.readStream(t, ctx, "Hot", aggregateID)
	if stream.Len() != writers*appends {
		t.Fatalf("stream has %d events, want %d", stream.Len(), writers*appends)
	}
	seen := make(map[string]bool, stream.Len())
	for i, e := range stream.Events {
		if e.AggregateVersion != int64(i+1) {
			t.Fatalf("event %d has version %d", i, e.AggregateVersion)
		}
		if seen[e.EventType] {
			t.Fatalf("event %s stored twice", e.EventType)
		}
		seen[e.EventType] = true
		// Writers of one aggregate serialise on its head: a later version
		// is inserted after the earlier one committed, so it has a higher
		// position, and consumers deliver it in a later or the same step,
		// after it.
		if prev := stream.Events[max(i-1, 0)]; i > 0 && e.GlobalPosition <= prev.GlobalPosition {
			t.Fatalf("version %d at position %d is not after version %d at %d", e.AggregateVersion, e.GlobalPosition, prev.AggregateVersion, prev.GlobalPosition)
		}
	}
}

func appendOne[TX any](ctx context.Context, r rig[TX], aggregateID, eventType string) error {
	tx, err := r.begin(ctx, false)
	if err != nil {
		return err
	}
	ev := core.Event{AggregateType: "Hot", AggregateID: aggregateID, EventID: uuid.New(), EventType: eventType}
	if _, err := r.store.Append(ctx, tx, core.Any(), []core.Event{ev}); err != nil {
		_ = r.rollback(ctx, tx)
		return err
	}
	return r.commit(ctx, tx)
}
