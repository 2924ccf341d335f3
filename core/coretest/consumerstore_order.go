package coretest

import (
	"errors"
	"testing"

	"github.com/chronicle-go/chronicle/core"
)

// testTransactionOrder: the store detects a log moved into another cluster
// (stored ids ahead of the current one), refuses appends that would sort
// behind consumers' cursors, and recovers by raising the order offset, after
// which new events are delivered to cursors saved before the move.
func testTransactionOrder[TX any](t *testing.T, h ConsumerStoreHarness[TX]) {
	runConsumer(t, h, "StoredMaxCountsEventsAndCursors", false, func(e *cenv[TX]) {
		order := func(what string) core.OrderStatus {
			e.t.Helper()
			x := e.begin(what)
			defer x.mustRollback()
			st := x.mustOrder()
			if st.Moved() || st.Current < st.StoredMax || st.Current < 1 {
				e.t.Errorf("%s: %+v; want not moved", what, st)
			}
			return st
		}
		if st := order("empty"); st.StoredMax != 0 {
			e.t.Errorf("empty log: StoredMax %d, want 0", st.StoredMax)
		}
		res := e.appendCommitted(newAgg("Order").events(2)...)
		want := res.Events[0].TransactionID + 1
		if st := order("after an append"); st.StoredMax != want {
			e.t.Errorf("after an append by writer %d: StoredMax %d, want %d", want-1, st.StoredMax, want)
		}
		// A cursor at the current snapshot may sit above every event.
		at := e.pagingCursor()
		// pagingCursor's writers appended events too.
		want = order("after more appends").StoredMax
		x := e.begin("op")
		x.mustSet("c", core.Cursor{Snapshot: at.Snapshot})
		x.mustCommit()
		want = max(want, at.Snapshot.Xmax)
		if st := order("after a checkpoint"); st.StoredMax != want {
			e.t.Errorf("after a checkpoint at %s: StoredMax %d, want %d", at.Snapshot, st.StoredMax, want)
		}
		x = e.begin("op")
		x.mustSet("d", at)
		x.mustCommit()
		want = max(want, at.Upper.Xmax)
		if st := order("after a paging checkpoint"); st.StoredMax != want {
			e.t.Errorf("after a checkpoint at %s: StoredMax %d, want %d (its upper snapshot counts)", at, st.StoredMax, want)
		}
	})

	runConsumer(t, h, "MovedLogIsDetectedAndRecovered", false, func(e *cenv[TX]) {
		if e.inst.SimulateMove == nil {
			e.t.Skip("the harness cannot simulate a move to another cluster")
		}
		a := newAgg("Order")
		old := e.appendCommitted(a.events(1)...)
		got, saved := e.drain(core.Cursor{}, nil, 10)
		if !sameEvents(got, old.Events...) {
			e.t.Fatalf("before the move: delivered %v, want %v", ids(got), ids(old.Events))
		}
		x := e.begin("op")
		x.mustSet("c", saved)
		x.mustCommit()
		x = e.begin("noop")
		before := x.mustOrder()
		st, err := e.cs.RaiseOrderOffset(e.ctx, x.tx)
		if err != nil {
			e.t.Fatalf("RaiseOrderOffset before any move: %v", err)
		}
		x.mustCommit()
		if st.Moved() || st.Offset != before.Offset || st.StoredMax != before.StoredMax {
			e.t.Errorf("RaiseOrderOffset before any move: %+v, was %+v; want nothing changed", st, before)
		}

		e.inst.SimulateMove(e.t)
		x = e.begin("check")
		moved := x.mustOrder()
		x.mustRollback()
		if !moved.Moved() || moved.StoredMax != before.StoredMax {
			e.t.Fatalf("after the move: %+v; want Moved with StoredMax %d", moved, before.StoredMax)
		}

		x = e.begin("append while moved")
		_, err = e.inst.Store.Append(e.ctx, x.tx, core.Any(), a.events(1))
		var detail *core.TransactionOrderMovedError
		if !errors.Is(err, core.ErrTransactionOrderMoved) || !errors.As(err, &detail) || !detail.Status.Moved() {
			e.t.Errorf("an append to a moved log: %v; want ErrTransactionOrderMoved with a moved status", err)
		}
		if s, err := e.inst.Store.ReadAggregateStream(e.ctx, x.tx, a.typ, a.id, nil, nil); err != nil || len(s.Events) != 1 {
			e.t.Errorf("after the refused append the transaction reads %d events (%v); want it usable, with nothing written", len(s.Events), err)
		}
		x.mustRollback()

		x = e.begin("recover")
		st, err = e.cs.RaiseOrderOffset(e.ctx, x.tx)
		if err != nil {
			e.t.Fatalf("RaiseOrderOffset: %v", err)
		}
		if st.Moved() || st.Current < st.StoredMax || st.StoredMax != moved.StoredMax {
			e.t.Errorf("RaiseOrderOffset returned %+v; want Current at or above StoredMax %d", st, moved.StoredMax)
		}
		x.mustCommit()
		raised := st.Offset

		x = e.begin("check again")
		st = x.mustOrder()
		x.mustRollback()
		if st.Moved() || st.Offset != raised {
			e.t.Errorf("after the recovery: %+v; want not moved, offset %d", st, raised)
		}
		next := e.appendCommitted(a.events(1)...)
		if next.Events[0].TransactionID < moved.StoredMax {
			e.t.Errorf("an append after the recovery got TransactionID %d, below the stored max %d", next.Events[0].TransactionID, moved.StoredMax)
		}
		// A consumer at the cursor saved before the move gets the new
		// event, and only it.
		x = e.begin("batch")
		cp, claimed := x.claimNow("c")
		if !claimed {
			e.t.Fatal("not claimed")
		}
		x.mustRollback()
		if got, _ := e.drain(cp.Cursor, nil, 10); !sameEvents(got, next.Events...) {
			e.t.Errorf("after the recovery the saved cursor delivers %v, want only the new event %v", ids(got), ids(next.Events))
		}

		// Once recovered, raising again changes nothing.
		x = e.begin("again")
		again, err := e.cs.RaiseOrderOffset(e.ctx, x.tx)
		if err != nil {
			e.t.Fatalf("RaiseOrderOffset again: %v", err)
		}
		x.mustCommit()
		if again.Offset != raised || again.Moved() {
			e.t.Errorf("RaiseOrderOffset again: %+v; want the offset %d kept", again, raised)
		}
	})
}
