package coretest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/chronicle-go/chronicle/core"
)

// listenWait bounds the wait for a wakeup.
const listenWait = 30 * time.Second

// testListen: Listen wakes the runtime after committed appends, naming
// their writers when it knows them, returns the context's error when the
// context ends, and says so when the store sends no notifications.
func testListen[TX any](t *testing.T, h ConsumerStoreHarness[TX]) {
	runConsumer(t, h, "WakesOnACommittedAppend", true, func(e *cenv[TX]) {
		if !e.inst.Notifies {
			e.t.Fatal("an instance asked for notifications does not notify")
		}
		ctx, cancel := context.WithCancel(e.ctx)
		defer cancel()
		wakes := make(chan []int64, 1000)
		done := make(chan error, 1)
		go func() {
			done <- e.cs.Listen(ctx, func(writers []int64) { wakes <- slices.Clone(writers) })
		}()
		// Listen may start listening some time after it is called, so a
		// wakeup may be lost until it has: append until one about an
		// append arrives.
		deadline := time.After(listenWait)
		for woken := false; !woken; {
			res := e.appendCommitted(newAgg("Order").events(1)...)
			writer := res.Events[0].TransactionID
			retry := time.After(500 * time.Millisecond)
			for waiting := true; waiting && !woken; {
				select {
				case writers := <-wakes:
					if writers == nil {
						woken = true // no writers known: a plain hint
						break
					}
					if slices.Contains(writers, writer) {
						woken = true
						break
					}
					for _, w := range writers {
						if w < 1 {
							e.t.Errorf("a wakeup names writer %d, not a transaction id", w)
						}
					}
				case err := <-done:
					e.t.Fatalf("Listen returned: %v", err)
				case <-retry:
					waiting = false
				case <-deadline:
					e.t.Fatalf("no wakeup naming writer %d (or none) within %s of committed appends", writer, listenWait)
				}
			}
		}
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
		if err := e.cs.Listen(ctx, func([]int64) {}); !errors.Is(err, core.ErrNotificationsUnsupported) {
			e.t.Errorf("Listen without notifications: %v, want ErrNotificationsUnsupported", err)
		}
	})
}
