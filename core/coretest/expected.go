package coretest

import (
	"errors"
	"strings"
	"testing"

	"github.com/chronicle-go/chronicle/core"
)

// testExpected: each expected-version kind succeeding and conflicting. A
// conflict names the aggregate, the expectation and the actual version,
// writes nothing and leaves the head where it was; the outcome is checked
// in a new transaction. (What the conflict leaves of its own transaction is
// testTransactionState's.)
func testExpected[TX any](t *testing.T, h Harness[TX]) {
	// seed commits n events to a new aggregate.
	seed := func(e *env[TX], n int) (agg, []core.Event) {
		e.t.Helper()
		a := newAgg("Order")
		evs := a.events(n)
		x := e.begin("seed")
		x.mustAppend(core.NoStream(), evs...)
		x.mustCommit()
		return a, evs
	}
	// succeeds appends one event with expected to an aggregate at version
	// n and checks it got version n+1.
	succeeds := func(e *env[TX], a agg, n int64, expected core.ExpectedVersion) {
		e.t.Helper()
		ev := a.event("Next")
		x := e.begin("writer")
		res := x.mustAppend(expected, ev)
		checkResult(e.t, expected.String(), res, []core.Event{ev}, n+1)
		x.mustCommit()
	}
	// conflicts appends one event with expected to an aggregate holding
	// stored, asserts the conflict, and checks that nothing changed.
	conflicts := func(e *env[TX], a agg, stored []core.Event, expected core.ExpectedVersion) {
		e.t.Helper()
		x := e.begin("writer")
		_, err := x.append(expected, a.event("Next"))
		wantConflict(e.t, expected.String(), err, a, expected, int64(len(stored)))
		x.mustRollback()
		e.wantStreamAt("after the conflict", a, stored)
	}

	run(t, h, "AnyCreatesStream", func(e *env[TX]) {
		succeeds(e, newAgg("Order"), 0, core.Any())
	})
	run(t, h, "AnyAppendsToExistingStream", func(e *env[TX]) {
		a, _ := seed(e, 3)
		succeeds(e, a, 3, core.Any())
	})
	run(t, h, "NoStreamCreatesStream", func(e *env[TX]) {
		succeeds(e, newAgg("Order"), 0, core.NoStream())
	})
	run(t, h, "NoStreamConflictsWhenStreamExists", func(e *env[TX]) {
		a, evs := seed(e, 2)
		conflicts(e, a, evs, core.NoStream())
	})
	run(t, h, "ExactZeroIsNoStream", func(e *env[TX]) {
		if !core.Exact(0).IsNoStream() {
			e.t.Fatal("Exact(0) is not NoStream")
		}
		succeeds(e, newAgg("Order"), 0, core.Exact(0))
		a, evs := seed(e, 1)
		conflicts(e, a, evs, core.Exact(0))
	})
	run(t, h, "ExactMatchingSucceeds", func(e *env[TX]) {
		a, _ := seed(e, 3)
		succeeds(e, a, 3, core.Exact(3))
		succeeds(e, a, 4, core.Exact(4))
	})
	run(t, h, "ExactBehindConflicts", func(e *env[TX]) {
		a, evs := seed(e, 3)
		conflicts(e, a, evs, core.Exact(2))
	})
	run(t, h, "ExactAheadConflicts", func(e *env[TX]) {
		a, evs := seed(e, 3)
		conflicts(e, a, evs, core.Exact(4))
	})
	run(t, h, "ExactOnMissingStreamConflictsAndCreatesNothing", func(e *env[TX]) {
		a := newAgg("Order")
		conflicts(e, a, nil, core.Exact(1))
		// The aggregate was not created: NoStream still starts it at 1.
		succeeds(e, a, 0, core.NoStream())
	})
	run(t, h, "StreamExistsSucceedsOnExistingStream", func(e *env[TX]) {
		a, _ := seed(e, 2)
		succeeds(e, a, 2, core.StreamExists())
	})
	run(t, h, "StreamExistsOnMissingStreamConflictsAndCreatesNothing", func(e *env[TX]) {
		a := newAgg("Order")
		conflicts(e, a, nil, core.StreamExists())
		succeeds(e, a, 0, core.NoStream())
	})
	run(t, h, "NegativeExactIsInvalidArgument", func(e *env[TX]) {
		a := newAgg("Order")
		x := e.begin("writer")
		_, err := x.append(core.Exact(-1), a.event("Next"))
		wantInvalidArgument(e.t, "Exact(-1)", err)
		if errors.Is(err, core.ErrOptimisticConcurrency) {
			e.t.Errorf("Exact(-1): %v is also a concurrency conflict", err)
		}
		x.mustRollback()
		e.wantEmptyLog("after Exact(-1)")
	})
	run(t, h, "ExpectationSeesOwnUncommittedAppends", func(e *env[TX]) {
		a := newAgg("Order")
		x := e.begin("writer")
		x.mustAppend(core.NoStream(), a.event("First"))
		second := a.event("Second")
		checkResult(e.t, "StreamExists in the same transaction", x.mustAppend(core.StreamExists(), second), []core.Event{second}, 2)
		_, err := x.append(core.Exact(1), a.event("Stale"))
		wantConflict(e.t, "Exact(1) in the same transaction", err, a, core.Exact(1), 2)
		// The conflict keeps the transaction's own appends.
		first := x.mustAll(a).Events
		x.mustCommit()
		if len(first) != 2 {
			e.t.Errorf("the transaction reads %d of its events after its conflict, want 2", len(first))
		}
		e.wantStreamAt("after commit", a, []core.Event{{EventID: first[0].EventID}, second})
	})
	run(t, h, "ConflictReportsExpectationAndActual", func(e *env[TX]) {
		a, evs := seed(e, 5)
		for _, exp := range []core.ExpectedVersion{core.NoStream(), core.Exact(7), core.Exact(1)} {
			x := e.begin("writer")
			_, err := x.append(exp, a.event("Next"))
			wantConflict(e.t, exp.String(), err, a, exp, 5)
			if err != nil && !strings.Contains(err.Error(), a.id) {
				e.t.Errorf("%s: message %q does not name the aggregate", exp, err)
			}
			x.mustRollback()
		}
		e.wantStreamAt("after the conflicts", a, evs)
	})
}
