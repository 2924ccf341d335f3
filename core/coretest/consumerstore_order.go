package coretest

import (
	"testing"

	"github.com/chronicle-go/chronicle/core"
)

// testTransactionOrder: the store detects a log moved into another cluster
// (stored orders at or above the current one) and recovers by raising the
// order offset, after which new events and the frontier continue above
// every stored order.
func testTransactionOrder[TX any](t *testing.T, h ConsumerStoreHarness[TX]) {
	runConsumer(t, h, "StoredMaxCountsEventsAndCheckpoints", false, func(e *cenv[TX]) {
		x := e.begin("empty")
		st := x.mustOrder()
		x.mustRollback()
		if st.StoredMax != 0 || st.Moved() || st.Current < 1 {
			e.t.Errorf("empty log: %+v; want StoredMax 0, not moved", st)
		}
		res := e.appendCommitted(newAgg("Order").events(2)...)
		x = e.begin("after append")
		st = x.mustOrder()
		x.mustRollback()
		if st.StoredMax != res.Events[1].TransactionOrder || st.Moved() {
			e.t.Errorf("after an append at order %d: %+v; want that StoredMax, not moved", res.Events[1].TransactionOrder, st)
		}
		// A cursor moved to the frontier may sit above every event.
		x = e.begin("op")
		f := x.mustFrontier()
		x.mustSet("c", core.Cursor{TransactionOrder: f})
		x.mustCommit()
		x = e.begin("after set")
		st = x.mustOrder()
		x.mustRollback()
		if st.StoredMax != max(f, res.Events[1].TransactionOrder) || st.Moved() {
			e.t.Errorf("after a checkpoint at %d: %+v; want StoredMax %d, not moved", f, st, max(f, res.Events[1].TransactionOrder))
		}
	})

	runConsumer(t, h, "MovedLogIsDetectedAndRecovered", false, func(e *cenv[TX]) {
		if e.inst.SimulateMove == nil {
			e.t.Skip("the harness cannot simulate a move to another cluster")
		}
		a := newAgg("Order")
		res := e.appendCommitted(a.events(1)...)
		x := e.begin("op")
		x.mustSet("c", core.CursorOf(res.Events[0]))
		x.mustCommit()
		x = e.begin("noop")
		st, err := e.cs.RaiseOrderOffset(e.ctx, x.tx)
		if err != nil {
			e.t.Fatalf("RaiseOrderOffset before any move: %v", err)
		}
		x.mustCommit()
		if st.Moved() || st.StoredMax != res.Events[0].TransactionOrder {
			e.t.Errorf("RaiseOrderOffset before any move: %+v", st)
		}

		e.inst.SimulateMove(e.t)
		x = e.begin("check")
		moved := x.mustOrder()
		x.mustRollback()
		if !moved.Moved() || moved.StoredMax != res.Events[0].TransactionOrder {
			e.t.Fatalf("after the move: %+v; want Moved with StoredMax %d", moved, res.Events[0].TransactionOrder)
		}

		x = e.begin("recover")
		st, err = e.cs.RaiseOrderOffset(e.ctx, x.tx)
		if err != nil {
			e.t.Fatalf("RaiseOrderOffset: %v", err)
		}
		if st.Moved() || st.Current != st.StoredMax+1 || st.StoredMax != moved.StoredMax {
			e.t.Errorf("RaiseOrderOffset returned %+v; want Current = StoredMax+1 = %d", st, moved.StoredMax+1)
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
		if next.Events[0].TransactionOrder <= moved.StoredMax {
			e.t.Errorf("an append after the recovery got order %d, not above the stored %d", next.Events[0].TransactionOrder, moved.StoredMax)
		}
		// A consumer at the old events still gets the new one, in order.
		b := e.batchWhen(core.CursorOf(res.Events[0]), nil, 10, "the frontier passing the append after the recovery",
			func(b core.ConsumerBatch) bool { return len(b.Events) == 1 })
		if b.Events[0].EventID != next.Events[0].EventID {
			e.t.Errorf("the batch after the recovery holds %s, want %s", b.Events[0].EventID, next.Events[0].EventID)
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
