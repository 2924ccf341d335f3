package coretest

import (
	"testing"

	"github.com/chronicle-go/chronicle/core"
)

// testOrdering: TransactionID names an event's writer, which consumers
// compare with their cursor's snapshot. All events one transaction appends,
// in one call or several, share one TransactionID; events of different
// transactions have different ones, whichever began or wrote first. Along
// an aggregate's versions GlobalPosition rises, even when a transaction
// that took its id earlier appends to the aggregate after a younger one.
// Exact values are the database's and are not asserted.
func testOrdering[TX any](t *testing.T, h Harness[TX]) {
	streamOf := func(e *env[TX], a agg) []core.PersistedEvent {
		e.t.Helper()
		r := e.begin("reader")
		defer r.mustRollback()
		return r.mustAll(a).Events
	}

	run(t, h, "OneTransactionOneID", func(e *env[TX]) {
		aggs := []agg{newAgg("Order"), newAgg("Invoice"), newAgg("Order")}
		seen := map[int64]int{}
		for i := range 6 {
			x := e.begin("writer")
			var mine []core.PersistedEvent
			for j, a := range aggs {
				if (i+j)%2 == 0 {
					mine = append(mine, x.mustAppend(core.Any(), a.events(1+j)...).Events...)
				}
			}
			x.mustCommit()
			id := checkOneWriter(e.t, "one transaction's appends", mine)
			if id < 1 {
				e.t.Errorf("writer %d: TransactionID %d, want >= 1", i, id)
			}
			if prev, dup := seen[id]; dup {
				e.t.Errorf("writers %d and %d share TransactionID %d", prev, i, id)
			}
			seen[id] = i
		}
		for _, a := range aggs {
			evs := streamOf(e, a)
			checkPositionsRise(e.t, a.String(), evs)
		}
	})

	run(t, h, "ConcurrentTransactionsHaveDifferentIDs", func(e *env[TX]) {
		a, b := newAgg("Order"), newAgg("Order")
		x, y := e.begin("x"), e.begin("y")
		rx := x.mustAppend(core.NoStream(), a.events(2)...)
		ry := y.mustAppend(core.NoStream(), b.events(2)...)
		rx2 := x.mustAppend(core.Exact(2), a.event("Later"))
		idx := checkOneWriter(e.t, "x's appends", append(rx.Events, rx2.Events...))
		idy := checkOneWriter(e.t, "y's appends", ry.Events)
		if idx == idy {
			e.t.Errorf("two open transactions share TransactionID %d", idx)
		}
		y.mustCommit()
		x.mustCommit()
		// The ids stored are those the appends returned.
		if got := streamOf(e, a); len(got) != 3 || got[2].TransactionID != idx {
			e.t.Errorf("stored stream of x: %d events; want 3 with TransactionID %d", len(got), idx)
		}
		if got := streamOf(e, b); len(got) != 2 || got[1].TransactionID != idy {
			e.t.Errorf("stored stream of y: %d events; want 2 with TransactionID %d", len(got), idy)
		}
	})

	run(t, h, "OlderTransactionAppendingLaterKeepsItsID", func(e *env[TX]) {
		a, other := newAgg("Order"), newAgg("Order")
		older := e.begin("older")
		// A write gives the older transaction its transaction id now.
		first := older.mustAppend(core.NoStream(), other.event("First"))
		younger := e.begin("younger")
		young := younger.mustAppend(core.NoStream(), a.event("Created"))
		younger.mustCommit()
		late := older.mustAppend(core.Exact(1), a.event("Updated"))
		older.mustCommit()
		idOld := checkOneWriter(e.t, "the older transaction's appends", append(first.Events, late.Events...))
		if young.Events[0].TransactionID == idOld {
			e.t.Errorf("the younger and the older transaction share TransactionID %d", idOld)
		}
		evs := streamOf(e, a)
		checkVersions(e.t, a.String(), evs, 1, 2)
		checkPositionsRise(e.t, a.String(), evs)
	})

	run(t, h, "WaitingOlderTransactionKeepsItsID", func(e *env[TX]) {
		a, other := newAgg("Order"), newAgg("Order")
		older := e.begin("older")
		first := older.mustAppend(core.NoStream(), other.event("First"))
		younger := e.begin("younger")
		young := younger.mustAppend(core.NoStream(), a.event("Created"))
		ch := older.appendAsync(nil, core.Any(), a.event("Updated"))
		e.untilWaiting(older, ch, "the older transaction's append to the aggregate the younger created")
		younger.mustCommit()
		o := e.await(ch, "the older transaction's append")
		if o.err != nil {
			e.t.Fatalf("older transaction: Any append after the younger committed: %v", o.err)
		}
		older.mustCommit()
		idOld := checkOneWriter(e.t, "the older transaction's appends", append(first.Events, o.res.Events...))
		if young.Events[0].TransactionID == idOld {
			e.t.Errorf("the younger and the older transaction share TransactionID %d", idOld)
		}
		evs := streamOf(e, a)
		checkVersions(e.t, a.String(), evs, 1, 2)
		checkPositionsRise(e.t, a.String(), evs)
	})

	run(t, h, "OwnReadsShowTheID", func(e *env[TX]) {
		a := newAgg("Order")
		x := e.begin("writer")
		var appended []core.PersistedEvent
		for range 4 {
			appended = append(appended, x.mustAppend(core.Any(), a.events(2)...).Events...)
		}
		id := checkOneWriter(e.t, "appends", appended)
		own := x.mustAll(a).Events
		checkPositionsRise(e.t, "own read", own)
		if got := checkOneWriter(e.t, "own read", own); got != id {
			e.t.Errorf("own read: TransactionID %d, the appends returned %d", got, id)
		}
		x.mustCommit()
		evs := streamOf(e, a)
		checkPositionsRise(e.t, "after commit", evs)
		for i := range evs {
			checkSame(e.t, "committed vs own read", evs[i], own[i])
		}
	})
}
