package coretest

import (
	"errors"
	"sync/atomic"
	"testing"

	"github.com/chronicle-go/chronicle/core"
)

// testDuplicates: an EventID is stored at most once across the whole store.
// A repeat within a batch is a validation error; a repeat of a stored or
// in-flight id is ErrDuplicateEvent, distinct from a version conflict, and
// writes nothing. Like a unique index, an append whose id another
// transaction has written but not committed waits for it.
func testDuplicates[TX any](t *testing.T, h Harness[TX]) {
	// stored commits two events to a new aggregate.
	stored := func(e *env[TX]) (agg, []core.Event) {
		e.t.Helper()
		a := newAgg("Order")
		evs := a.events(2)
		x := e.begin("seed")
		x.mustAppend(core.NoStream(), evs...)
		x.mustCommit()
		return a, evs
	}

	inBatch := func(name string, size, first, repeat int) {
		run(t, h, name, func(e *env[TX]) {
			a := newAgg("Order")
			evs := a.events(size)
			evs[repeat].EventID = evs[first].EventID
			x := e.begin("writer")
			_, err := x.append(core.NoStream(), evs...)
			_ = wantInvalidEvent(e.t, "repeated id", err, repeat, "EventID")
			wantDuplicate(e.t, "repeated id", err, a, evs[first].EventID)
			x.mustRollback()
			e.wantEmptyLog("after the rejected batch")
		})
	}
	inBatch("RepeatedInBatch", 2, 0, 1)
	inBatch("RepeatedLaterInBatch", 6, 1, 4)
	inBatch("RepeatedInLargeBatch", 100, 17, 83)

	run(t, h, "StoredInSameAggregate", func(e *env[TX]) {
		a, evs := stored(e)
		dup := a.event("Again")
		dup.EventID = evs[0].EventID
		x := e.begin("writer")
		_, err := x.append(core.Any(), dup)
		wantDuplicate(e.t, "stored id", err, a, dup.EventID)
		x.mustRollback()
		e.wantStreamAt("after the duplicate", a, evs)
	})

	run(t, h, "StoredInOtherAggregate", func(e *env[TX]) {
		a, evs := stored(e)
		b := newAgg("Invoice")
		dup := b.event("Again")
		dup.EventID = evs[1].EventID
		x := e.begin("writer")
		_, err := x.append(core.NoStream(), dup)
		wantDuplicate(e.t, "stored id", err, b, dup.EventID)
		x.mustRollback()
		e.wantStreamAt("the stored aggregate", a, evs)
		e.wantStreamAt("the other aggregate", b, nil)
	})

	run(t, h, "StoredIDLaterInBatchWritesNothing", func(e *env[TX]) {
		a, evs := stored(e)
		batch := a.events(3)
		batch[2].EventID = evs[0].EventID
		x := e.begin("writer")
		_, err := x.append(core.Exact(2), batch...)
		wantDuplicate(e.t, "stored id", err, a, evs[0].EventID)
		x.mustRollback()
		e.wantStreamAt("after the duplicate", a, evs)
		// The batch's new ids were not stored either.
		y := e.begin("retry")
		y.mustAppend(core.Exact(2), batch[:2]...)
		y.mustCommit()
		e.wantStreamAt("after the retry", a, append(evs, batch[:2]...))
	})

	run(t, h, "WrittenEarlierInSameTransaction", func(e *env[TX]) {
		a := newAgg("Order")
		first := a.event("First")
		x := e.begin("writer")
		x.mustAppend(core.NoStream(), first)
		dup := a.event("Again")
		dup.EventID = first.EventID
		_, err := x.append(core.Any(), dup)
		wantDuplicate(e.t, "own uncommitted id", err, a, first.EventID)
		x.mustRollback()
		e.wantEmptyLog("after rollback")
	})

	run(t, h, "InFlightThenCommittedIsDuplicate", func(e *env[TX]) {
		a, b := newAgg("Order"), newAgg("Invoice")
		ev := a.event("Placed")
		tx1, tx2 := e.begin("tx1"), e.begin("tx2")
		tx1.mustAppend(core.NoStream(), ev)
		dup := b.event("Placed")
		dup.EventID = ev.EventID
		ch := tx2.appendAsync(nil, core.NoStream(), dup)
		e.untilWaiting(tx2, ch, "tx2's append of an id tx1 inserted")
		tx1.mustCommit()
		o := e.await(ch, "tx2's append")
		wantDuplicate(e.t, "id committed by tx1", o.err, b, ev.EventID)
		tx2.mustRollback()
		e.wantStreamAt("tx1's aggregate", a, []core.Event{ev})
		e.wantStreamAt("tx2's aggregate", b, nil)
	})

	run(t, h, "InFlightThenRolledBackIsFree", func(e *env[TX]) {
		a, b := newAgg("Order"), newAgg("Invoice")
		ev := a.event("Placed")
		var ended atomic.Bool
		tx1, tx2 := e.begin("tx1"), e.begin("tx2")
		tx1.mustAppend(core.NoStream(), ev)
		dup := b.event("Placed")
		dup.EventID = ev.EventID
		ch := tx2.appendAsync(&ended, core.NoStream(), dup)
		e.untilWaiting(tx2, ch, "tx2's append of an id tx1 inserted")
		ended.Store(true)
		tx1.mustRollback()
		o := e.await(ch, "tx2's append")
		if o.err != nil {
			e.t.Fatalf("tx2: appending an id whose writer rolled back: %v", o.err)
		}
		if !o.after {
			e.t.Errorf("tx2's append returned before tx1 rolled back: it must wait for the id's writer")
		}
		tx2.mustCommit()
		e.wantStreamAt("tx1's aggregate", a, nil)
		e.wantStreamAt("tx2's aggregate", b, []core.Event{dup})
	})

	// The error names the offending id, whichever event of the batch it is,
	// so that a caller can tell which of its commands was already applied.
	for _, c := range []struct {
		name      string
		size, dup int // the batch's size and the event repeating a stored id
	}{{"NamesTheEventIDOfAOneEventBatch", 1, 0}, {"NamesTheEventIDOfTheSecondEvent", 2, 1}} {
		run(t, h, c.name, func(e *env[TX]) {
			a, evs := stored(e)
			batch := a.events(c.size)
			batch[c.dup].EventID = evs[1].EventID
			x := e.begin("writer")
			_, err := x.append(core.Exact(2), batch...)
			wantDuplicate(e.t, "stored id", err, a, evs[1].EventID)
			var de *core.DuplicateEventError
			if errors.As(err, &de) && de.EventID != evs[1].EventID {
				e.t.Errorf("DuplicateEventError.EventID is %s, want the duplicated id %s (event %d of %d)", de.EventID, evs[1].EventID, c.dup, c.size)
			}
			x.mustRollback()
			e.wantStreamAt("after the duplicate", a, evs)
		})
	}

	run(t, h, "DuplicateIsNotAConflict", func(e *env[TX]) {
		a, evs := stored(e)
		dup := a.event("Again")
		dup.EventID = evs[1].EventID
		x := e.begin("writer")
		_, err := x.append(core.Exact(2), dup)
		wantDuplicate(e.t, "stored id with the right expectation", err, a, dup.EventID)
		if errors.Is(err, core.ErrInvalidEvent) {
			e.t.Errorf("a stored duplicate %v is reported as ErrInvalidEvent: the batch itself was valid", err)
		}
		x.mustRollback()
		e.wantStreamAt("after the duplicate", a, evs)
	})
}
