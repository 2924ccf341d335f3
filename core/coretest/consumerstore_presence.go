package coretest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/chronicle-go/chronicle/core"
)

// presenceWait bounds the wait for a presence to be held or to end.
const presenceWait = 30 * time.Second

// holding is a HoldPresence call running on a goroutine of its own.
type holding struct {
	cancel context.CancelFunc
	done   chan error
}

// holdPresence starts HoldPresence for owner and returns once it called
// held, failing the case when it returns first.
func (e *cenv[TX]) holdPresence(owner string) *holding {
	e.t.Helper()
	ctx, cancel := context.WithCancel(e.ctx)
	h := &holding{cancel: cancel, done: make(chan error, 1)}
	held := make(chan struct{})
	go func() { h.done <- e.cs.HoldPresence(ctx, owner, func() { close(held) }) }()
	e.t.Cleanup(func() {
		cancel()
		// A call the case ended itself has its error checked there; one
		// ended here returns its context's error or the session's.
		if err := <-h.done; err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) && e.inst.EndPresence == nil {
			e.t.Errorf("HoldPresence(%q) at the end of the case: %v", owner, err)
		}
	})
	select {
	case <-held:
		return h
	case err := <-h.done:
		e.t.Fatalf("HoldPresence(%q) returned before holding the presence: %v", owner, err)
	case <-time.After(presenceWait):
		e.t.Fatalf("HoldPresence(%q) did not hold the presence within %s", owner, presenceWait)
	}
	return nil
}

// ended waits for h's call to return and returns its error.
func (e *cenv[TX]) ended(h *holding, what string) error {
	e.t.Helper()
	select {
	case err := <-h.done:
		h.done <- err // for the cleanup
		return err
	case <-time.After(presenceWait):
		e.t.Fatalf("%s: HoldPresence did not return within %s", what, presenceWait)
		return nil
	}
}

// mustPresent reads OwnersPresent for owners in a transaction of its own.
func (e *cenv[TX]) mustPresent(owners ...string) []bool {
	e.t.Helper()
	x := e.begin("presence")
	defer x.mustRollback()
	present, err := e.cs.OwnersPresent(e.ctx, x.tx, owners)
	if err != nil {
		e.t.Fatalf("OwnersPresent(%q): %v", owners, err)
	}
	if len(present) != len(owners) {
		e.t.Fatalf("OwnersPresent(%q) = %v: one flag per owner wanted", owners, present)
	}
	return present
}

// testPresence: HoldPresence makes an owner present for OwnersPresent
// until its context ends or its session is lost; several holders of one
// owner keep it present until the last ends; bad owners are refused.
func testPresence[TX any](t *testing.T, h ConsumerStoreHarness[TX]) {
	runConsumer(t, h, "WhileHeld", false, func(e *cenv[TX]) {
		if got := e.mustPresent("host-a/1", "host-b/2", ""); slices.Contains(got, true) {
			e.t.Fatalf("before any HoldPresence: present %v, want none", got)
		}
		first := e.holdPresence("host-a/1")
		second := e.holdPresence("host-a/1")
		if got := e.mustPresent("host-a/1", "host-b/2", ""); !slices.Equal(got, []bool{true, false, false}) {
			e.t.Fatalf("while host-a/1 is held twice: present %v, want [true false false]", got)
		}
		first.cancel()
		if err := e.ended(first, "the first holder's context ended"); !errors.Is(err, context.Canceled) {
			e.t.Errorf("HoldPresence after its context ended: %v, want context.Canceled", err)
		}
		if got := e.mustPresent("host-a/1"); !got[0] {
			e.t.Error("host-a/1 is gone while a second session still holds it")
		}
		second.cancel()
		if err := e.ended(second, "the second holder's context ended"); !errors.Is(err, context.Canceled) {
			e.t.Errorf("HoldPresence after its context ended: %v, want context.Canceled", err)
		}
		if got := e.mustPresent("host-a/1"); got[0] {
			e.t.Error("host-a/1 is still present after every holder's context ended")
		}
	})

	runConsumer(t, h, "EndsWithItsSession", false, func(e *cenv[TX]) {
		if e.inst.EndPresence == nil {
			e.t.Skip("the adapter cannot end a presence's session")
		}
		lost := e.holdPresence("host-c/3")
		other := e.holdPresence("host-d/4")
		e.inst.EndPresence(e.t, "host-c/3")
		if got := e.mustPresent("host-c/3", "host-d/4"); !slices.Equal(got, []bool{false, true}) {
			e.t.Fatalf("after host-c/3's session ended: present %v, want [false true]", got)
		}
		err := e.ended(lost, "the session was ended")
		if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			e.t.Errorf("HoldPresence after its session ended: %v, want the session's error", err)
		}
		// The runtime holds it again after a loss.
		e.holdPresence("host-c/3")
		if got := e.mustPresent("host-c/3"); !got[0] {
			e.t.Error("host-c/3 is not present after HoldPresence held it again")
		}
		other.cancel()
	})

	runConsumer(t, h, "RefusesBadOwners", false, func(e *cenv[TX]) {
		for _, owner := range []string{"", "a\x00b", "\xff"} {
			err := e.cs.HoldPresence(e.ctx, owner, func() { e.t.Errorf("HoldPresence(%q) held", owner) })
			var invalid *core.InvalidArgumentError
			if !errors.As(err, &invalid) || invalid.Argument != "owner" {
				e.t.Errorf("HoldPresence(%q): %v, want an *InvalidArgumentError for owner", owner, err)
			}
		}
		x := e.begin("presence")
		defer x.mustRollback()
		for _, owner := range []string{"a\x00b", "\xff"} {
			_, err := e.cs.OwnersPresent(e.ctx, x.tx, []string{owner})
			var invalid *core.InvalidArgumentError
			if !errors.As(err, &invalid) || invalid.Argument != "owner" {
				e.t.Errorf("OwnersPresent(%q): %v, want an *InvalidArgumentError for owner", owner, err)
			}
		}
	})
}
