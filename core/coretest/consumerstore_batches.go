package coretest

import (
	"testing"
	"time"

	"github.com/chronicle-go/chronicle/core"
)

// testBatches: a consumer reads committed events in cursor order below the
// frontier, batch by batch; a scope filters by aggregate type exactly; the
// count of events behind a cursor is exact.
func testBatches[TX any](t *testing.T, h ConsumerStoreHarness[TX]) {
	runConsumer(t, h, "EmptyLogHasAFrontier", false, func(e *cenv[TX]) {
		x := e.begin("reader")
		defer x.mustRollback()
		b := x.mustBatch(core.Cursor{}, nil, 10)
		if len(b.Events) != 0 || b.Frontier < 1 {
			e.t.Errorf("empty log: %d events, frontier %d; want none and a frontier >= 1", len(b.Events), b.Frontier)
		}
		if f := x.mustFrontier(); f < 1 {
			e.t.Errorf("Frontier %d, want >= 1", f)
		}
	})

	runConsumer(t, h, "ReadsCommittedEventsInCursorOrderInPages", false, func(e *cenv[TX]) {
		a, b := newAgg("Order"), newAgg("Invoice")
		first := e.appendCommitted(a.events(3)...)
		second := e.appendCommitted(b.events(2)...)
		third := e.appendCommitted(a.events(1)...)
		all := append(append(append([]core.PersistedEvent{}, first.Events...), second.Events...), third.Events...)

		whole := e.batchWhen(core.Cursor{}, nil, 100, "the frontier passing the committed events",
			func(b core.ConsumerBatch) bool { return len(b.Events) == len(all) })
		if !hasAll(whole.Events, all...) {
			e.t.Errorf("the batch does not hold the appended events in commit order")
		}
		for i, ev := range whole.Events {
			checkSame(e.t, "batch event", ev, all[i])
		}

		// Page through with limit 2, as a consumer does.
		var paged []core.PersistedEvent
		after := core.Cursor{}
		for page := 0; len(paged) < len(all); page++ {
			if page > len(all) {
				e.t.Fatalf("paging did not end: %d events read", len(paged))
			}
			x := e.begin("page")
			p := x.mustBatch(after, nil, 2)
			x.mustRollback()
			if len(p.Events) == 0 {
				e.t.Fatalf("page %d after %s is empty with %d of %d events read", page, after, len(paged), len(all))
			}
			paged = append(paged, p.Events...)
			after = core.CursorOf(p.Events[len(p.Events)-1])
		}
		if !hasAll(paged, all...) {
			e.t.Error("paging with limit 2 does not give the events in order")
		}
		x := e.begin("end")
		defer x.mustRollback()
		if p := x.mustBatch(after, nil, 2); len(p.Events) != 0 {
			e.t.Errorf("after the last event: %d events", len(p.Events))
		}
	})

	runConsumer(t, h, "OwnUncommittedEventsAreNotInTheBatch", false, func(e *cenv[TX]) {
		a := newAgg("Order")
		x := e.begin("writer")
		res := x.mustAppend(a.events(2)...)
		b := x.mustBatch(core.Cursor{}, nil, 10)
		if len(b.Events) != 0 {
			e.t.Errorf("the writer's batch holds %d of its own uncommitted events", len(b.Events))
		}
		if b.Frontier > res.Events[0].TransactionOrder {
			e.t.Errorf("the writer's frontier %d is above its own events' order %d", b.Frontier, res.Events[0].TransactionOrder)
		}
		x.mustRollback()
	})

	runConsumer(t, h, "ScopedBatchesAndCountsKeepOnlyTheirTypes", false, func(e *cenv[TX]) {
		o1 := e.appendCommitted(newAgg("Order").events(2)...)
		i1 := e.appendCommitted(newAgg("Invoice").events(1)...)
		s1 := e.appendCommitted(newAgg("Shipment").events(2)...)
		o2 := e.appendCommitted(newAgg("Order").events(1)...)
		all := e.batchWhen(core.Cursor{}, nil, 100, "the frontier passing the committed events",
			func(b core.ConsumerBatch) bool { return len(b.Events) == 6 })

		orders := e.batchWhen(core.Cursor{}, []string{"Order"}, 100, "the scoped batch", func(core.ConsumerBatch) bool { return true })
		if !hasAll(orders.Events, append(append([]core.PersistedEvent{}, o1.Events...), o2.Events...)...) || len(orders.Events) != 3 {
			e.t.Errorf("batch of Order: %d events, want the 3 Order events in order", len(orders.Events))
		}
		two := e.batchWhen(core.Cursor{}, []string{"Shipment", "Invoice"}, 100, "the scoped batch", func(core.ConsumerBatch) bool { return true })
		if !hasAll(two.Events, append(append([]core.PersistedEvent{}, i1.Events...), s1.Events...)...) || len(two.Events) != 3 {
			e.t.Errorf("batch of Shipment and Invoice: %d events, want the Invoice and Shipment events in order", len(two.Events))
		}
		none := e.batchWhen(core.Cursor{}, []string{"Nothing"}, 100, "the scoped batch", func(core.ConsumerBatch) bool { return true })
		if len(none.Events) != 0 || none.Frontier <= all.Events[5].TransactionOrder {
			e.t.Errorf("batch of a type without events: %d events, frontier %d; want none, and the frontier past every event (%d)",
				len(none.Events), none.Frontier, all.Events[5].TransactionOrder)
		}

		x := e.begin("counter")
		defer x.mustRollback()
		for _, c := range []struct {
			after core.Cursor
			types []string
			want  int64
		}{
			{core.Cursor{}, nil, 6},
			{core.CursorOf(all.Events[1]), nil, 4},
			{core.CursorOf(all.Events[5]), nil, 0},
			{core.Cursor{}, []string{"Order"}, 3},
			{core.CursorOf(all.Events[1]), []string{"Order"}, 1},
			{core.Cursor{}, []string{"Invoice", "Shipment"}, 3},
			{core.Cursor{}, []string{"Nothing"}, 0},
		} {
			n, err := e.cs.CountEventsAfter(e.ctx, x.tx, c.after, c.types)
			if err != nil {
				e.t.Fatalf("counting after %s of %v: %v", c.after, c.types, err)
			}
			if n != c.want {
				e.t.Errorf("counting after %s of %v: %d, want %d", c.after, c.types, n, c.want)
			}
		}
	})
}

// testFrontier: nothing can commit behind the frontier. A transaction that
// holds an id keeps the frontier at or below it until it ends, so a
// consumer whose cursor moved up to a frontier still gets every event
// committed later, and FrontierHolders names that transaction.
func testFrontier[TX any](t *testing.T, h ConsumerStoreHarness[TX]) {
	runConsumer(t, h, "OpenWriterHoldsTheFrontierAndNothingIsSkipped", false, func(e *cenv[TX]) {
		before := e.appendCommitted(newAgg("Order").events(1)...)
		writer := e.begin("open writer")
		open := writer.mustAppend(newAgg("Order").events(2)...)
		later := e.appendCommitted(newAgg("Order").events(1)...)

		b := e.batchWhen(core.Cursor{}, nil, 10, "the frontier passing the event committed before the open writer",
			func(b core.ConsumerBatch) bool { return hasAll(b.Events, before.Events...) })
		if b.Frontier > open.Events[0].TransactionOrder {
			e.t.Errorf("frontier %d is above the open writer's order %d", b.Frontier, open.Events[0].TransactionOrder)
		}
		for _, ev := range b.Events {
			if ev.EventID == later.Events[0].EventID {
				e.t.Errorf("the batch holds an event committed after the open writer began (order %d, frontier %d)", ev.TransactionOrder, b.Frontier)
			}
		}
		if len(b.Events) != 1 {
			e.t.Errorf("batch holds %d events with the writer open, want 1", len(b.Events))
		}
		// A consumer that read a short batch moves its cursor to the frontier.
		cursor := core.Cursor{TransactionOrder: b.Frontier}
		writer.mustCommit()

		rest := append(append([]core.PersistedEvent{}, open.Events...), later.Events...)
		got := e.batchWhen(cursor, nil, 10, "the frontier passing the writer's commit",
			func(b core.ConsumerBatch) bool { return len(b.Events) >= len(rest) })
		if !hasAll(got.Events, rest...) || len(got.Events) != len(rest) {
			e.t.Errorf("after the cursor at the old frontier: %d events; want the open writer's two and then the later one", len(got.Events))
		}
	})

	runConsumer(t, h, "FrontierHoldersNameAnOpenTransaction", false, func(e *cenv[TX]) {
		writer := e.begin("open writer")
		res := writer.mustAppend(newAgg("Order").events(1)...)
		x := e.begin("observer")
		defer x.mustRollback()
		st := x.mustOrder()
		xid := res.Events[0].TransactionOrder - st.Offset
		holders, err := e.cs.FrontierHolders(e.ctx, x.tx)
		if err != nil {
			e.t.Fatalf("FrontierHolders: %v", err)
		}
		found := false
		for i, h := range holders {
			if i > 0 && h.TransactionID < holders[i-1].TransactionID {
				e.t.Errorf("holders not oldest first: %d after %d", h.TransactionID, holders[i-1].TransactionID)
			}
			if h.TransactionID != xid {
				continue
			}
			found = true
			if h.State != "idle in transaction" {
				e.t.Errorf("the open writer's state %q, want %q", h.State, "idle in transaction")
			}
			if h.Started.IsZero() || h.Started.After(res.Events[0].CreatedAt.Add(time.Minute)) {
				e.t.Errorf("the open writer started %s, its event was created %s", h.Started, res.Events[0].CreatedAt)
			}
		}
		if !found {
			e.t.Errorf("no holder with the open writer's transaction id %d among %+v", xid, holders)
		}
		if f := x.mustFrontier(); f > res.Events[0].TransactionOrder {
			e.t.Errorf("frontier %d is above the open writer's order %d", f, res.Events[0].TransactionOrder)
		}
		writer.mustRollback()
	})

	runConsumer(t, h, "AClaimHoldsTheFrontier", false, func(e *cenv[TX]) {
		batch := e.begin("batch")
		batch.claimNow("c")
		// The claim took a transaction id below the later writer's, so
		// the frontier stays at or below the claim's until it ends.
		x := e.begin("observer")
		defer x.mustRollback()
		later := e.appendCommitted(newAgg("Order").events(1)...)
		if f2 := x.mustFrontier(); f2 > later.Events[0].TransactionOrder {
			e.t.Errorf("frontier %d passed an event committed while a claim was held (order %d)", f2, later.Events[0].TransactionOrder)
		}
		batch.mustCommit()
	})
}
