package coretest

import (
	"sync/atomic"
	"testing"

	"github.com/chronicle-go/chronicle/core"
)

// testTransactionState: what a failed append leaves of its transaction, as
// PostgreSQL does it. A version conflict is a result, not a statement
// error: the transaction stays usable, keeps what it did before and after,
// and commits. A NoStream conflict on an existing aggregate keeps the
// aggregate's lock until the transaction ends (INSERT … ON CONFLICT locks
// the row it conflicts with); any other conflict locks nothing (an UPDATE
// locks no row its condition rejects). A duplicate event id is a unique
// violation: the transaction is aborted at once — its writes are gone and
// its locks released before any rollback — and every later statement of it
// fails.
func testTransactionState[TX any](t *testing.T, h Harness[TX]) {
	seed := func(e *env[TX], n int) (agg, []core.Event) {
		e.t.Helper()
		a := newAgg("Order")
		evs := a.events(n)
		x := e.begin("seed")
		x.mustAppend(core.NoStream(), evs...)
		x.mustCommit()
		return a, evs
	}

	for _, c := range []struct {
		name     string
		stored   int // events of the aggregate before the conflict
		expected core.ExpectedVersion
	}{
		{"NoStreamOnAnExistingStream", 2, core.NoStream()},
		{"ExactBehind", 2, core.Exact(1)},
		{"ExactAhead", 2, core.Exact(3)},
		{"ExactOnAMissingStream", 0, core.Exact(1)},
		{"StreamExistsOnAMissingStream", 0, core.StreamExists()},
	} {
		run(t, h, "VersionConflictLeavesTheTransactionUsable/"+c.name, func(e *env[TX]) {
			a, stored := newAgg("Order"), []core.Event(nil)
			if c.stored > 0 {
				a, stored = seed(e, c.stored)
			}
			before, after := newAgg("Invoice"), newAgg("Invoice")
			earlier, later := before.event("Issued"), after.event("Issued")
			x := e.begin("writer")
			x.mustAppend(core.NoStream(), earlier)
			_, err := x.append(c.expected, a.event("Next"))
			wantConflict(e.t, c.expected.String(), err, a, c.expected, int64(c.stored))
			// The caller's other work goes on in the same transaction.
			checkIDs(e.t, "the transaction's earlier append, read after the conflict", x.mustAll(before).Events, []core.Event{earlier})
			checkResult(e.t, "an append after the conflict", x.mustAppend(core.NoStream(), later), []core.Event{later}, 1)
			x.mustCommit()
			e.wantStreamAt("the aggregate of the conflict", a, stored)
			e.wantStreamAt("work before the conflict, committed", before, []core.Event{earlier})
			e.wantStreamAt("work after the conflict, committed", after, []core.Event{later})
		})
	}

	run(t, h, "ConflictAfterWaitingLeavesTheTransactionUsable", func(e *env[TX]) {
		a, stored := seed(e, 1)
		other := newAgg("Invoice")
		win := a.event("Winner")
		tx1, tx2 := e.begin("tx1"), e.begin("tx2")
		tx1.mustAppend(core.Exact(1), win)
		ch := tx2.appendAsync(nil, core.Exact(1), a.event("Loser"))
		e.untilWaiting(tx2, ch, "tx2's Exact(1) append while tx1's is in flight")
		tx1.mustCommit()
		wantConflict(e.t, "tx2 after tx1 committed", e.await(ch, "tx2's append").err, a, core.Exact(1), 2)
		kept := other.event("Issued")
		tx2.mustAppend(core.NoStream(), kept)
		tx2.mustCommit()
		e.wantStreamAt("the contested aggregate", a, append(stored, win))
		e.wantStreamAt("tx2's other work", other, []core.Event{kept})
	})

	run(t, h, "NoStreamConflictKeepsTheAggregateLockedUntilTheEnd", func(e *env[TX]) {
		a, stored := seed(e, 1)
		var ended atomic.Bool
		tx1, tx2 := e.begin("tx1"), e.begin("tx2")
		_, err := tx1.append(core.NoStream(), a.event("Again"))
		wantConflict(e.t, "NoStream on an existing aggregate", err, a, core.NoStream(), 1)
		next := a.event("Next")
		ch := tx2.appendAsync(&ended, core.Any(), next)
		e.untilWaiting(tx2, ch, "tx2's append to the aggregate tx1's NoStream conflict locked")
		ended.Store(true)
		tx1.mustCommit()
		o := e.await(ch, "tx2's append")
		if o.err != nil {
			e.t.Fatalf("tx2: Any append after tx1 ended: %v", o.err)
		}
		if !o.after {
			e.t.Errorf("tx2's append returned before tx1 ended: the NoStream conflict keeps the aggregate locked")
		}
		checkResult(e.t, "tx2", o.res, []core.Event{next}, 2)
		tx2.mustCommit()
		e.wantStreamAt("after both", a, append(stored, next))
	})

	for _, c := range []struct {
		name     string
		stored   int
		expected core.ExpectedVersion
	}{
		{"ExactBehind", 2, core.Exact(1)},
		{"ExactAhead", 2, core.Exact(3)},
		{"ExactOnAMissingStream", 0, core.Exact(1)},
		{"StreamExistsOnAMissingStream", 0, core.StreamExists()},
	} {
		run(t, h, "ConflictLocksNothing/"+c.name, func(e *env[TX]) {
			a, stored := newAgg("Order"), []core.Event(nil)
			if c.stored > 0 {
				a, stored = seed(e, c.stored)
			}
			tx1 := e.begin("tx1")
			_, err := tx1.append(c.expected, a.event("Stale"))
			wantConflict(e.t, c.expected.String(), err, a, c.expected, int64(c.stored))
			// tx1 is still open; an append that waited for it would not
			// return before the case's deadline.
			tx2 := e.begin("tx2")
			next := a.event("Next")
			checkResult(e.t, "tx2 while tx1 is open", tx2.mustAppend(core.Any(), next), []core.Event{next}, int64(c.stored)+1)
			tx2.mustCommit()
			tx1.mustCommit()
			e.wantStreamAt("after both", a, append(stored, next))
		})
	}

	run(t, h, "DuplicateAbortsTheTransaction", func(e *env[TX]) {
		a, stored := seed(e, 1)
		b, c := newAgg("Invoice"), newAgg("Invoice")
		x := e.begin("writer")
		x.mustAppend(core.NoStream(), b.event("Issued"))
		dup := a.event("Again")
		dup.EventID = stored[0].EventID
		_, err := x.append(core.Exact(1), dup)
		wantDuplicate(e.t, "a stored id", err, a, dup.EventID)
		// The abort released x's lock on b and discarded its event at
		// once: another transaction creates b without waiting for x to
		// roll back.
		y := e.begin("other")
		created := b.event("IssuedAgain")
		checkResult(e.t, "creating the aggregate the aborted transaction created", y.mustAppend(core.NoStream(), created), []core.Event{created}, 1)
		y.mustCommit()
		if _, err := x.append(core.NoStream(), c.event("Issued")); err == nil {
			e.t.Errorf("an append in the transaction after its duplicate succeeded: the transaction must be aborted")
		}
		if err := x.commit(); err == nil {
			e.t.Errorf("committing the transaction after its duplicate succeeded: it must be aborted")
		}
		_ = x.rollback()
		e.wantStreamAt("the aggregate of the duplicate", a, stored)
		e.wantStreamAt("the aborted transaction's first aggregate", b, []core.Event{created})
		e.wantStreamAt("the append after the abort", c, nil)
	})
}
