package integration_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/chronicle-go/chronicle/core"
	"go.uber.org/goleak"
)

// Listen leaves no goroutine behind once it returns: pgx's dedicated
// connection is closed, and lib/pq's listener and its connection have
// stopped. Not parallel, so that only this test's goroutines are counted.
func TestListenLeavesNoGoroutine(t *testing.T) {
	needDatabase(t)
	t.Run("pgx", func(t *testing.T) {
		before := goleak.IgnoreCurrent()
		pool := newPool(t, 0, 2)
		cs, _, _ := newPgxConsumerStore(t, pool, newChannel())
		listenOnce(t, cs)
		pool.Close()
		goleak.VerifyNone(t, before)
	})
	t.Run("lib-pq", func(t *testing.T) {
		before := goleak.IgnoreCurrent()
		db := openDB(t, "postgres")
		cs, _, _ := newSQLConsumerStore(t, db, newChannel())
		listenOnce(t, cs)
		db.Close()
		goleak.VerifyNone(t, before)
	})
}

// listenOnce runs Listen until its first wakeup, then cancels it and waits
// for it to return.
func listenOnce[TX any](t *testing.T, cs core.ConsumerStore[TX]) {
	t.Helper()
	ctx, cancel := context.WithCancel(testContext(t))
	defer cancel()
	woken := make(chan struct{}, 10)
	done := make(chan error, 1)
	go func() { done <- cs.Listen(ctx, func([]int64) { woken <- struct{}{} }) }()
	select {
	case <-woken:
	case err := <-done:
		t.Fatalf("Listen returned before its first wakeup: %v", err)
	case <-time.After(listenWait):
		t.Fatal("no wakeup")
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Listen returned %v after its context ended, want context.Canceled", err)
		}
	case <-time.After(listenWait):
		t.Fatal("Listen did not return after its context ended")
	}
}
