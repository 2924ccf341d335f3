package coretest

import (
	"testing"

	"github.com/chronicle-go/chronicle/core"
)

// testOrdering: TransactionID, the first half of the consumer cursor.
// Along an aggregate's versions it never decreases, and (TransactionID,
// GlobalPosition) strictly increases, even when a transaction that started
// writing earlier appends to the aggregate after a younger one. Exact values
// are the database's and are not asserted.
func testOrdering[TX any](t *testing.T, h Harness[TX]) {
	streamOf := func(e *env[TX], a agg) []core.PersistedEvent {
		e.t.Helper()
		r := e.begin("reader")
		defer r.mustRollback()
		return r.mustAll(a).Events
	}

	run(t, h, "NeverFallsAlongVersions", func(e *env[TX]) {
		aggs := []agg{newAgg("Order"), newAgg("Invoice"), newAgg("Order")}
		for i := range 6 {
			x := e.begin("writer")
			for j, a := range aggs {
				if (i+j)%2 == 0 {
					x.mustAppend(core.Any(), a.events(1+j)...)
				}
			}
			x.mustCommit()
		}
		for _, a := range aggs {
			evs := streamOf(e, a)
			for _, ev := range evs {
				if ev.TransactionID < 1 {
					e.t.Errorf("%s version %d: TransactionID %d, want >= 1", a, ev.AggregateVersion, ev.TransactionID)
				}
			}
			checkCursorRises(e.t, a.String(), evs)
		}
	})

	run(t, h, "OlderTransactionAppendingLaterDoesNotLowerIt", func(e *env[TX]) {
		a, other := newAgg("Order"), newAgg("Order")
		older := e.begin("older")
		// A write gives the older transaction its transaction id now.
		older.mustAppend(core.NoStream(), other.event("First"))
		younger := e.begin("younger")
		younger.mustAppend(core.NoStream(), a.event("Created"))
		younger.mustCommit()
		older.mustAppend(core.Exact(1), a.event("Updated"))
		older.mustCommit()
		evs := streamOf(e, a)
		checkVersions(e.t, a.String(), evs, 1, 2)
		checkCursorRises(e.t, a.String(), evs)
	})

	run(t, h, "WaitingOlderTransactionDoesNotLowerIt", func(e *env[TX]) {
		a, other := newAgg("Order"), newAgg("Order")
		older := e.begin("older")
		older.mustAppend(core.NoStream(), other.event("First"))
		younger := e.begin("younger")
		younger.mustAppend(core.NoStream(), a.event("Created"))
		ch := older.appendAsync(nil, core.Any(), a.event("Updated"))
		e.untilWaiting(older, ch, "the older transaction's append to the aggregate the younger created")
		younger.mustCommit()
		if o := e.await(ch, "the older transaction's append"); o.err != nil {
			e.t.Fatalf("older transaction: Any append after the younger committed: %v", o.err)
		}
		older.mustCommit()
		evs := streamOf(e, a)
		checkVersions(e.t, a.String(), evs, 1, 2)
		checkCursorRises(e.t, a.String(), evs)
	})

	run(t, h, "RisesAcrossAppendsOfOneTransaction", func(e *env[TX]) {
		a := newAgg("Order")
		x := e.begin("writer")
		for range 4 {
			x.mustAppend(core.Any(), a.events(2)...)
		}
		own := x.mustAll(a).Events
		checkCursorRises(e.t, "own read", own)
		x.mustCommit()
		evs := streamOf(e, a)
		checkCursorRises(e.t, "after commit", evs)
		for i := range evs {
			checkSame(e.t, "committed vs own read", evs[i], own[i])
		}
	})
}
