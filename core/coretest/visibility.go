package coretest

import (
	"testing"

	"github.com/chronicle-go/chronicle/core"
)

// testVisibility: appends are transactional, as in PostgreSQL at READ
// COMMITTED. Uncommitted events are visible to their own transaction only,
// readers never wait for writers, a commit shows the events to every
// statement that starts after it, and a rollback leaves no trace but gaps in
// the global positions.
func testVisibility[TX any](t *testing.T, h Harness[TX]) {
	run(t, h, "UncommittedInvisibleToOtherTransactions", func(e *env[TX]) {
		a := newAgg("Order")
		w := e.begin("writer")
		w.mustAppend(core.NoStream(), a.events(3)...)

		r := e.begin("reader")
		defer r.mustRollback()
		if s := r.mustAll(a); !s.IsEmpty() {
			e.t.Errorf("another transaction reads %d uncommitted events of the stream", s.Len())
		}
		if evs := r.mustEvents(0, 100); len(evs) != 0 {
			e.t.Errorf("another transaction reads %d uncommitted events of the log", len(evs))
		}
		if p := r.mustLatest(); p != 0 {
			e.t.Errorf("another transaction sees latest global position %d, want 0", p)
		}
		w.mustRollback()
	})

	run(t, h, "UncommittedVisibleToOwnTransaction", func(e *env[TX]) {
		a := newAgg("Order")
		evs := a.events(3)
		w := e.begin("writer")
		res := w.mustAppend(core.NoStream(), evs...)
		s := w.mustAll(a)
		checkIDs(e.t, "own stream read", s.Events, evs)
		log := w.mustEvents(0, 100)
		checkIDs(e.t, "own log read", log, evs)
		for i := range log {
			checkSame(e.t, "own log read", log[i], res.Events[i])
		}
		if p := w.mustLatest(); p != res.GlobalPositions[2] {
			e.t.Errorf("own latest global position %d, want %d", p, res.GlobalPositions[2])
		}
		w.mustRollback()
	})

	run(t, h, "CommitShowsEventsToOpenTransactions", func(e *env[TX]) {
		a := newAgg("Order")
		evs := a.events(2)
		r := e.begin("reader")
		defer r.mustRollback()
		if s := r.mustAll(a); !s.IsEmpty() {
			e.t.Fatalf("stream holds %d events before any append", s.Len())
		}
		w := e.begin("writer")
		res := w.mustAppend(core.NoStream(), evs...)
		w.mustCommit()
		// READ COMMITTED: each statement sees what was committed before it.
		checkIDs(e.t, "stream read after the commit", r.mustAll(a).Events, evs)
		checkIDs(e.t, "log read after the commit", r.mustEvents(0, 10), evs)
		if p := r.mustLatest(); p != res.GlobalPositions[1] {
			e.t.Errorf("latest global position %d, want %d", p, res.GlobalPositions[1])
		}
	})

	run(t, h, "RollbackDiscardsEventsAndHead", func(e *env[TX]) {
		a := newAgg("Order")
		w := e.begin("writer")
		w.mustAppend(core.NoStream(), a.events(3)...)
		w.mustRollback()
		e.wantEmptyLog("after rollback")

		// The head went with the events: the aggregate starts at 1 again.
		evs := a.events(1)
		x := e.begin("writer again")
		checkResult(e.t, "append after rollback", x.mustAppend(core.NoStream(), evs...), evs, 1)
		x.mustCommit()
		e.wantStreamAt("after the second append", a, evs)
		r := e.begin("reader")
		defer r.mustRollback()
		checkIDs(e.t, "log", r.mustEvents(0, 100), evs)
	})

	run(t, h, "RollbackKeepsEarlierCommits", func(e *env[TX]) {
		a := newAgg("Order")
		stored := a.events(2)
		x := e.begin("seed")
		x.mustAppend(core.NoStream(), stored...)
		x.mustCommit()

		w := e.begin("writer")
		w.mustAppend(core.Exact(2), a.events(2)...)
		w.mustRollback()
		e.wantStreamAt("after rollback", a, stored)
		r := e.begin("reader")
		defer r.mustRollback()
		checkIDs(e.t, "log", r.mustEvents(0, 100), stored)
	})

	run(t, h, "RollbackOfOneTransactionKeepsAnothers", func(e *env[TX]) {
		a, b := newAgg("Order"), newAgg("Order")
		kept := b.events(2)
		w1, w2 := e.begin("rolled back"), e.begin("committed")
		w1.mustAppend(core.NoStream(), a.events(2)...)
		w2.mustAppend(core.NoStream(), kept...)
		w1.mustRollback()
		w2.mustCommit()
		e.wantStreamAt("stream a", a, nil)
		e.wantStreamAt("stream b", b, kept)
		r := e.begin("reader")
		defer r.mustRollback()
		checkIDs(e.t, "log", r.mustEvents(0, 100), kept)
	})
}
