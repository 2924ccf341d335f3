package coretest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/chronicle-go/chronicle/core"
)

// listenWait bounds the wait for a wakeup.
const listenWait = 30 * time.Second

// testListen: Listen wakes the runtime once when it starts listening and
// after commits, returns the context's error when the context ends, and
// says so when the store sends no notifications.
func testListen[TX any](t *testing.T, h ConsumerStoreHarness[TX]) {
	runConsumer(t, h, "WakesOnACommittedAppend", true, func(e *cenv[TX]) {
		if !e.inst.Notifies {
			e.t.Fatal("an instance asked for notifications does not notify")
		}
		ctx, cancel := context.WithCancel(e.ctx)
		defer cancel()
		wakes := make(chan struct{}, 100)
		done := make(chan error, 1)
		go func() { done <- e.cs.Listen(ctx, func() { wakes <- struct{}{} }) }()
		e.awaitWake(wakes, done, "the wakeup when Listen starts")
		// Drain wakeups that are not about the append below.
		for len(wakes) > 0 {
			<-wakes
		}
		e.appendCommitted(newAgg("Order").events(1)...)
		e.awaitWake(wakes, done, "the wakeup after a committed append")
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				e.t.Errorf("Listen after its context ended: %v, want context.Canceled", err)
			}
		case <-time.After(listenWait):
			e.t.Fatal("Listen did not return after its context ended")
		}
	})

	runConsumer(t, h, "WithoutNotificationsIsUnsupported", false, func(e *cenv[TX]) {
		if e.inst.Notifies {
			e.t.Skip("the adapter always notifies")
		}
		ctx, cancel := context.WithTimeout(e.ctx, listenWait)
		defer cancel()
		if err := e.cs.Listen(ctx, func() {}); !errors.Is(err, core.ErrNotificationsUnsupported) {
			e.t.Errorf("Listen without notifications: %v, want ErrNotificationsUnsupported", err)
		}
	})
}

func (e *cenv[TX]) awaitWake(wakes <-chan struct{}, done <-chan error, what string) {
	e.t.Helper()
	select {
	case <-wakes:
	case err := <-done:
		e.t.Fatalf("%s: Listen returned: %v", what, err)
	case <-time.After(listenWait):
		e.t.Fatalf("%s: none within %s", what, listenWait)
	}
}
