package integration_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/chronicle-go/chronicle/core"
)

// TestFaultPoolExhausted: with every connection of the pool taken, a
// transaction for an Append waits; a context with a deadline ends the wait
// with context.DeadlineExceeded (never a hang), and a writer without one
// gets the connection as soon as it is free and appends.
func TestFaultPoolExhausted(t *testing.T) {
	t.Run("pgx", func(t *testing.T) {
		t.Parallel()
		testPoolExhausted(t, pgxRig(t, newPool(t, 0, 1)))
	})
	t.Run("lib-pq", func(t *testing.T) {
		t.Parallel()
		db := openDB(t, "postgres")
		db.SetMaxOpenConns(1)
		testPoolExhausted(t, sqlRig(t, db))
	})
}

func testPoolExhausted[TX any](t *testing.T, r rig[TX]) {
	ctx := testContext(t)
	events := newEvents("Order", 2)
	holder := r.mustBegin(t, ctx, false)
	r.mustAppend(t, ctx, holder, core.NoStream(), events[0])

	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	started := time.Now()
	if _, err := r.begin(short, false); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%s: beginning on an exhausted pool: %v, want context.DeadlineExceeded", r.name, err)
	}
	if d := time.Since(started); d > 10*time.Second {
		t.Fatalf("%s: the deadline of 200ms ended the wait only after %s", r.name, d)
	}

	waiting := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		close(waiting)
		tx, err := r.begin(ctx, false)
		if err != nil {
			done <- err
			return
		}
		if _, err := r.store.Append(ctx, tx, core.Exact(1), events[1:]); err != nil {
			_ = r.rollback(ctx, tx)
			done <- err
			return
		}
		done <- r.commit(ctx, tx)
	}()
	<-waiting
	select {
	case err := <-done:
		t.Fatalf("%s: a writer got a connection of an exhausted pool: %v", r.name, err)
	case <-time.After(100 * time.Millisecond): // it should still wait; a success now would be the failure
	}
	r.mustCommit(t, ctx, holder)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s: the waiting writer: %v", r.name, err)
		}
	case <-time.After(time.Minute):
		t.Fatalf("%s: the waiting writer did not get the freed connection", r.name)
	}
	if s := r.readStream(t, ctx, events[0].AggregateType, events[0].AggregateID); s.Version() != 2 {
		t.Fatalf("%s: stream at version %d, want 2", r.name, s.Version())
	}
}
