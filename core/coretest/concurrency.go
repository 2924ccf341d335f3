package coretest

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chronicle-go/chronicle/core"
)

// testConcurrency: transactions racing on one aggregate. The head's lock
// serialises writers of an aggregate until commit or rollback; a waiting
// writer then re-checks its expectation. Writers of different aggregates
// never wait on each other. A case that asserts a wait first sees the
// waiter blocked on the lock (Instance.AwaitLockWait) and only then ends the
// holder; the others assert only what holds whichever goroutine runs first.
func testConcurrency[TX any](t *testing.T, h Harness[TX]) {
	seed := func(e *env[TX], a agg, n int) []core.Event {
		e.t.Helper()
		evs := a.events(n)
		x := e.begin("seed")
		x.mustAppend(core.NoStream(), evs...)
		x.mustCommit()
		return evs
	}

	run(t, h, "AnyAndAnyBothSucceedOneAfterTheOther", func(e *env[TX]) {
		a := newAgg("Order")
		stored := seed(e, a, 1)
		first, second := a.events(2), a.events(2)
		var ended atomic.Bool

		tx1, tx2 := e.begin("tx1"), e.begin("tx2")
		checkResult(e.t, "tx1", tx1.mustAppend(core.Any(), first...), first, 2)
		ch := tx2.appendAsync(&ended, core.Any(), second...)
		e.untilWaiting(tx2, ch, "tx2's Any append to the aggregate tx1 appended to")
		ended.Store(true)
		tx1.mustCommit()

		o := e.await(ch, "tx2's append")
		if o.err != nil {
			e.t.Fatalf("tx2: Any append after tx1 committed: %v", o.err)
		}
		if !o.after {
			e.t.Errorf("tx2's append returned before tx1 committed: it must wait for the aggregate's lock")
		}
		checkResult(e.t, "tx2", o.res, second, 4)
		tx2.mustCommit()
		e.wantStreamAt("after both", a, append(append(stored, first...), second...))
	})

	run(t, h, "AnyAndAnyOnNewAggregate", func(e *env[TX]) {
		a := newAgg("Order")
		first, second := a.events(1), a.events(3)
		var ended atomic.Bool
		tx1, tx2 := e.begin("tx1"), e.begin("tx2")
		tx1.mustAppend(core.Any(), first...)
		ch := tx2.appendAsync(&ended, core.Any(), second...)
		e.untilWaiting(tx2, ch, "tx2's Any append to the aggregate tx1 appended to")
		ended.Store(true)
		tx1.mustCommit()
		o := e.await(ch, "tx2's append")
		if o.err != nil {
			e.t.Fatalf("tx2: Any append after tx1 created the aggregate: %v", o.err)
		}
		if !o.after {
			e.t.Errorf("tx2's append returned before tx1 committed: it must wait for the aggregate's lock")
		}
		checkResult(e.t, "tx2", o.res, second, 2)
		tx2.mustCommit()
		e.wantStreamAt("after both", a, append(first, second...))
	})

	run(t, h, "ManyAnyWritersGetContiguousVersions", func(e *env[TX]) {
		const writers, batch = 8, 3
		a := newAgg("Order")
		txs := make([]*txn[TX], writers)
		for i := range txs {
			txs[i] = e.begin("writer")
		}
		type done struct {
			o         outcome
			commitErr error
		}
		results := make(chan done, writers)
		for _, x := range txs {
			go func() {
				res, err := x.append(core.Any(), a.events(batch)...)
				d := done{o: outcome{res: res, err: err}}
				if err == nil {
					d.commitErr = x.commit()
				} else {
					_ = x.rollback()
				}
				results <- d
			}()
		}
		taken := map[int64]bool{}
		writerIDs := map[int64]bool{}
		for range writers {
			var d done
			select {
			case d = <-results:
			case <-e.ctx.Done():
				e.t.Fatalf("writers did not finish: %v", e.ctx.Err())
			}
			if d.o.err != nil || d.commitErr != nil {
				e.t.Fatalf("concurrent Any writer failed: append %v, commit %v", d.o.err, d.commitErr)
			}
			// FromVersion is the version the writer found, ToVersion the
			// one it left.
			from := d.o.res.FromVersion()
			if d.o.res.ToVersion() != from+batch || from%batch != 0 || taken[from] {
				e.t.Errorf("a writer found version %d and left %d: overlapping or misaligned", from, d.o.res.ToVersion())
			}
			taken[from] = true
			id := checkOneWriter(e.t, "a writer's events", d.o.res.Events)
			if writerIDs[id] {
				e.t.Errorf("two concurrent writers share TransactionID %d", id)
			}
			writerIDs[id] = true
		}
		r := e.begin("reader")
		defer r.mustRollback()
		s := r.mustAll(a)
		checkVersions(e.t, "stream", s.Events, 1, writers*batch)
		seen := map[string]bool{}
		for _, ev := range s.Events {
			if seen[ev.EventID.String()] {
				e.t.Errorf("event %s stored twice", ev.EventID)
			}
			seen[ev.EventID.String()] = true
		}
		checkPositionsRise(e.t, "stream", s.Events)
	})

	run(t, h, "ExactAndExactFirstWins", func(e *env[TX]) {
		a := newAgg("Order")
		stored := seed(e, a, 1)
		win, lose := a.event("Winner"), a.event("Loser")
		tx1, tx2 := e.begin("tx1"), e.begin("tx2")
		tx1.mustAppend(core.Exact(1), win)
		ch := tx2.appendAsync(nil, core.Exact(1), lose)
		e.untilWaiting(tx2, ch, "tx2's Exact(1) append while tx1's is in flight")
		tx1.mustCommit()
		o := e.await(ch, "tx2's append")
		wantConflict(e.t, "tx2", o.err, a, core.Exact(1), 2)
		tx2.mustRollback()
		e.wantStreamAt("after the race", a, append(stored, win))
	})

	run(t, h, "ExactAndExactRaceExactlyOneWins", func(e *env[TX]) {
		a := newAgg("Order")
		stored := seed(e, a, 2)
		ev1, ev2 := a.event("One"), a.event("Two")
		tx1, tx2 := e.begin("tx1"), e.begin("tx2")
		ch1 := tx1.appendAsync(nil, core.Exact(2), ev1)
		ch2 := tx2.appendAsync(nil, core.Exact(2), ev2)

		// Whichever append returns first: a success is committed, which
		// lets the other finish; a conflict means the other has won.
		var first, second outcome
		var firstTx, secondTx *txn[TX]
		var firstEv, secondEv core.Event
		select {
		case first = <-ch1:
			firstTx, secondTx, firstEv, secondEv = tx1, tx2, ev1, ev2
		case first = <-ch2:
			firstTx, secondTx, firstEv, secondEv = tx2, tx1, ev2, ev1
		case <-e.ctx.Done():
			e.t.Fatalf("neither append returned: %v", e.ctx.Err())
		}
		other := ch2
		if firstTx == tx2 {
			other = ch1
		}
		var winner core.Event
		if first.err == nil {
			firstTx.mustCommit()
			second = e.await(other, "the other append")
			wantConflict(e.t, "the later append", second.err, a, core.Exact(2), 3)
			secondTx.mustRollback()
			winner = firstEv
		} else {
			wantConflict(e.t, "the first append to return", first.err, a, core.Exact(2), 3)
			firstTx.mustRollback()
			second = e.await(other, "the other append")
			if second.err != nil {
				e.t.Fatalf("both appends failed: %v; %v", first.err, second.err)
			}
			secondTx.mustCommit()
			winner = secondEv
		}
		e.wantStreamAt("after the race", a, append(stored, winner))
	})

	run(t, h, "ExactLoserSucceedsWhenWinnerRollsBack", func(e *env[TX]) {
		a := newAgg("Order")
		stored := seed(e, a, 1)
		var ended atomic.Bool
		tx1, tx2 := e.begin("tx1"), e.begin("tx2")
		tx1.mustAppend(core.Exact(1), a.event("RolledBack"))
		ev := a.event("Survivor")
		ch := tx2.appendAsync(&ended, core.Exact(1), ev)
		e.untilWaiting(tx2, ch, "tx2's Exact(1) append while tx1's is in flight")
		ended.Store(true)
		tx1.mustRollback()
		o := e.await(ch, "tx2's append")
		if o.err != nil {
			e.t.Fatalf("tx2: Exact(1) after tx1 rolled back: %v", o.err)
		}
		if !o.after {
			e.t.Errorf("tx2's append returned before tx1 rolled back: it must wait for the aggregate's lock")
		}
		checkResult(e.t, "tx2", o.res, []core.Event{ev}, 2)
		tx2.mustCommit()
		e.wantStreamAt("after the race", a, append(stored, ev))
	})

	run(t, h, "NoStreamAndNoStreamOneCreates", func(e *env[TX]) {
		a := newAgg("Order")
		win := a.event("Created")
		tx1, tx2 := e.begin("tx1"), e.begin("tx2")
		tx1.mustAppend(core.NoStream(), win)
		ch := tx2.appendAsync(nil, core.NoStream(), a.event("AlsoCreated"))
		e.untilWaiting(tx2, ch, "tx2's NoStream append while tx1 creates the aggregate")
		tx1.mustCommit()
		o := e.await(ch, "tx2's append")
		wantConflict(e.t, "tx2", o.err, a, core.NoStream(), 1)
		tx2.mustRollback()
		e.wantStreamAt("after the race", a, []core.Event{win})
	})

	run(t, h, "NoStreamLoserSucceedsWhenWinnerRollsBack", func(e *env[TX]) {
		a := newAgg("Order")
		var ended atomic.Bool
		tx1, tx2 := e.begin("tx1"), e.begin("tx2")
		tx1.mustAppend(core.NoStream(), a.event("RolledBack"))
		ev := a.event("Created")
		ch := tx2.appendAsync(&ended, core.NoStream(), ev)
		e.untilWaiting(tx2, ch, "tx2's NoStream append while tx1 creates the aggregate")
		ended.Store(true)
		tx1.mustRollback()
		o := e.await(ch, "tx2's append")
		if o.err != nil {
			e.t.Fatalf("tx2: NoStream after tx1 rolled back: %v", o.err)
		}
		if !o.after {
			e.t.Errorf("tx2's append returned before tx1 rolled back: it must wait for the aggregate's lock")
		}
		checkResult(e.t, "tx2", o.res, []core.Event{ev}, 1)
		tx2.mustCommit()
		e.wantStreamAt("after the race", a, []core.Event{ev})
	})

	// An UPDATE waits only for a row it can see: a head another
	// transaction is inserting is invisible, so Exact and StreamExists
	// conflict at once with actual 0 instead of waiting for the creator.
	for _, expected := range []core.ExpectedVersion{core.StreamExists(), core.Exact(1)} {
		run(t, h, expected.String()+"WhileAnotherTransactionCreatesTheStreamConflictsAtOnce", func(e *env[TX]) {
			a, other := newAgg("Order"), newAgg("Invoice")
			created := a.event("Created")
			tx1, tx2 := e.begin("tx1"), e.begin("tx2")
			tx1.mustAppend(core.NoStream(), created)
			// tx1 stays open: an append that waited for it would not
			// return before the case's deadline.
			_, err := tx2.append(expected, a.event("Next"))
			wantConflict(e.t, "tx2 while tx1 creates the stream", err, a, expected, 0)
			kept := other.event("Issued")
			tx2.mustAppend(core.NoStream(), kept)
			tx2.mustCommit()
			tx1.mustCommit()
			e.wantStreamAt("the created stream", a, []core.Event{created})
			e.wantStreamAt("tx2's other work", other, []core.Event{kept})
		})
	}

	// The same rule for a version a writer in flight will reach: the
	// committed head does not match, so the append does not wait.
	run(t, h, "ExactOfAVersionInFlightConflictsAtOnce", func(e *env[TX]) {
		a := newAgg("Order")
		stored := seed(e, a, 1)
		next := a.event("Next")
		tx1, tx2 := e.begin("tx1"), e.begin("tx2")
		tx1.mustAppend(core.Exact(1), next)
		_, err := tx2.append(core.Exact(2), a.event("Early"))
		wantConflict(e.t, "Exact(2) while tx1 appends version 2", err, a, core.Exact(2), 1)
		tx2.mustCommit()
		tx1.mustCommit()
		e.wantStreamAt("after both", a, append(stored, next))
	})

	run(t, h, "StreamExistsWaitsForAWriterOfAnExistingStream", func(e *env[TX]) {
		a := newAgg("Order")
		stored := seed(e, a, 1)
		first, second := a.event("First"), a.event("Second")
		var ended atomic.Bool
		tx1, tx2 := e.begin("tx1"), e.begin("tx2")
		tx1.mustAppend(core.Any(), first)
		ch := tx2.appendAsync(&ended, core.StreamExists(), second)
		e.untilWaiting(tx2, ch, "tx2's StreamExists append while tx1 appends")
		ended.Store(true)
		tx1.mustCommit()
		o := e.await(ch, "tx2's append")
		if o.err != nil {
			e.t.Fatalf("tx2: StreamExists after tx1 committed: %v", o.err)
		}
		if !o.after {
			e.t.Errorf("tx2's append returned before tx1 committed: it must wait for the aggregate's lock")
		}
		checkResult(e.t, "tx2", o.res, []core.Event{second}, 3)
		tx2.mustCommit()
		e.wantStreamAt("after both", a, append(stored, first, second))
	})

	// Two transactions each waiting for the other's aggregate: the database
	// fails one append (PostgreSQL: 40P01, deadlock_timeout after the
	// cycle forms) with ErrOptimisticConcurrency wrapping its error. The
	// victim's transaction is aborted at once, releasing its locks before
	// any rollback, so the other append goes on; the victim then fails
	// every statement and commits nothing.
	run(t, h, "DeadlockIsAConflictThatAbortsTheVictim", func(e *env[TX]) {
		a, b := newAgg("Order"), newAgg("Order")
		fromA, fromB := a.event("First"), b.event("First")
		toB, toA := b.event("FromTx1"), a.event("FromTx2")
		tx1, tx2 := e.begin("tx1"), e.begin("tx2")
		tx1.mustAppend(core.NoStream(), fromA)
		tx2.mustAppend(core.NoStream(), fromB)
		ch1 := tx1.appendAsync(nil, core.Any(), toB)
		ch2 := tx2.appendAsync(nil, core.Any(), toA)
		// The survivor finishes without the victim rolling back, so both
		// outcomes arrive while both transactions are still open.
		o1, o2 := e.await(ch1, "tx1's append to tx2's aggregate"), e.await(ch2, "tx2's append to tx1's aggregate")
		if (o1.err == nil) == (o2.err == nil) {
			e.t.Fatalf("the deadlock: tx1's append %v, tx2's %v; want exactly one to fail", o1.err, o2.err)
		}
		victim, survivor, lost, gained, target := tx1, tx2, a, toA, b
		victimErr, survivorRes := o1.err, o2.res
		if o2.err != nil {
			victim, survivor, lost, gained, target = tx2, tx1, b, toB, a
			victimErr, survivorRes = o2.err, o1.res
		}
		wantConflict(e.t, "the deadlock's victim", victimErr, target, core.Any(), -1)
		var ce *core.ConcurrencyError
		if errors.As(victimErr, &ce) && (ce.Actual != -1 || ce.Err == nil) {
			e.t.Errorf("the deadlock's conflict has Actual %d and Err %v; want -1 (unknown) and the database's error", ce.Actual, ce.Err)
		}
		// The victim's own aggregate was rolled back with it: the survivor
		// created it anew.
		checkResult(e.t, "the survivor's append", survivorRes, []core.Event{gained}, 1)
		if _, err := victim.append(core.Any(), newAgg("Order").event("AfterTheDeadlock")); err == nil {
			e.t.Errorf("an append in the deadlock's victim succeeded: its transaction must be aborted")
		}
		_ = victim.rollback()
		survivor.mustCommit()
		kept := fromA
		if lost == a {
			kept = fromB
		}
		e.wantStreamAt("the victim's aggregate", lost, []core.Event{gained})
		e.wantStreamAt("the survivor's aggregate", target, []core.Event{kept})
	})

	run(t, h, "DifferentAggregatesDoNotWait", func(e *env[TX]) {
		a := newAgg("Order")
		others := []agg{newAgg("Order"), {typ: "Invoice", id: a.id}}
		tx1 := e.begin("tx1")
		tx1.mustAppend(core.NoStream(), a.event("Held"))
		for _, b := range others {
			tx2 := e.begin("tx2")
			ch := tx2.appendAsync(nil, core.NoStream(), b.event("Free"))
			select {
			case o := <-ch:
				if o.err != nil {
					e.t.Fatalf("appending to %s while %s is locked: %v", b, a, o.err)
				}
			case <-time.After(10 * time.Second):
				// Too long for a lock-free append on any store: it waits on
				// tx1, which holds another aggregate.
				e.t.Fatalf("appending to %s waited for the writer of %s", b, a)
			}
			tx2.mustCommit()
		}
		tx1.mustCommit()
	})
}
