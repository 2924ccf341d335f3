package coretest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/chronicle-go/chronicle/core"
)

// testBatches: a batch delivers the snapshot diff — the committed events
// whose writer is visible now and not in the cursor's snapshot — by
// GlobalPosition, paged with the upper snapshot fixed when it is larger
// than the limit. Each committed writer falls into exactly one diff.
func testBatches[TX any](t *testing.T, h ConsumerStoreHarness[TX]) {
	runConsumer(t, h, "EmptyLogStillAdvances", false, func(e *cenv[TX]) {
		b := e.batch(core.Cursor{}, nil, 10)
		if len(b.Events) != 0 || b.Next.Paging() || b.Next.Snapshot.IsZero() {
			e.t.Errorf("empty log: %d events, Next %s; want none and the current snapshot", len(b.Events), b.Next)
		}
	})

	runConsumer(t, h, "DeliversTheDiffInPositionOrder", false, func(e *cenv[TX]) {
		a, b := newAgg("Order"), newAgg("Invoice")
		first := e.appendCommitted(a.events(3)...)
		second := e.appendCommitted(b.events(2)...)
		third := e.appendCommitted(a.events(1)...)
		all := byPosition(first.Events, second.Events, third.Events)

		whole := e.batch(core.Cursor{}, nil, 100)
		if !sameEvents(whole.Events, all...) {
			e.t.Fatalf("the batch holds %v, want the appended events by position %v", ids(whole.Events), ids(all))
		}
		for i, ev := range whole.Events {
			checkSame(e.t, "batch event", ev, all[i])
		}
		if again := e.batch(whole.Next, nil, 100); len(again.Events) != 0 {
			e.t.Errorf("the batch after Next holds %d events again", len(again.Events))
		}
		later := e.appendCommitted(b.events(1)...)
		if next := e.batch(whole.Next, nil, 100); !sameEvents(next.Events, later.Events...) {
			e.t.Errorf("the batch after a later append holds %v, want %v", ids(next.Events), ids(later.Events))
		}
	})

	runConsumer(t, h, "EarlyWriterIsDeliveredInALaterDiff", false, func(e *cenv[TX]) {
		t1 := e.begin("early writer")
		early := t1.mustAppend(newAgg("Order").events(2)...)
		late := e.appendCommitted(newAgg("Order").events(1)...)
		b1 := e.batch(core.Cursor{}, nil, 100)
		if !sameEvents(b1.Events, late.Events...) {
			e.t.Fatalf("with the early writer open: %v, want only the committed writer's %v", ids(b1.Events), ids(late.Events))
		}
		for _, ev := range early.Events {
			if b1.Next.Delivered(ev) {
				e.t.Errorf("Next %s counts the open writer's event (writer %d) as delivered", b1.Next, ev.TransactionID)
			}
		}
		t1.mustCommit()
		if early.Events[0].GlobalPosition > late.Events[0].GlobalPosition {
			e.t.Fatalf("the early writer's positions are not below the later writer's")
		}
		b2 := e.batch(b1.Next, nil, 100)
		if !sameEvents(b2.Events, early.Events...) {
			e.t.Errorf("after the early writer committed: %v, want its events %v (their positions are lower)", ids(b2.Events), ids(early.Events))
		}
	})

	runConsumer(t, h, "RolledBackWritersNeverAppear", false, func(e *cenv[TX]) {
		x := e.begin("rolled back")
		gone := x.mustAppend(newAgg("Order").events(2)...)
		kept := e.appendCommitted(newAgg("Order").events(1)...)
		b1 := e.batch(core.Cursor{}, nil, 100)
		x.mustRollback()
		got, _ := e.drain(b1.Next, nil, 1)
		got = append(b1.Events, got...)
		if !sameEvents(got, kept.Events...) {
			e.t.Errorf("delivered %v, want only the committed %v (not the rolled back %v)", ids(got), ids(kept.Events), ids(gone.Events))
		}
	})

	runConsumer(t, h, "OwnIDIsRunningInTheBatch", false, func(e *cenv[TX]) {
		x := e.begin("writer")
		own := x.mustAppend(newAgg("Order").events(2)...)
		b := x.mustBatch(core.Cursor{}, nil, 10)
		if len(b.Events) != 0 {
			e.t.Errorf("the writer's batch holds %d of its own uncommitted events", len(b.Events))
		}
		for _, ev := range own.Events {
			if b.Next.Delivered(ev) {
				e.t.Errorf("the writer's Next %s counts its own event (writer %d) as delivered", b.Next, ev.TransactionID)
			}
		}
		x.mustCommit()
		got, _ := e.drain(b.Next, nil, 10)
		if !sameEvents(got, own.Events...) {
			e.t.Errorf("after the writer committed: %v, want its events once %v", ids(got), ids(own.Events))
		}
	})

	runConsumer(t, h, "PagesThroughALargeDiffWithTheUpperFixed", false, func(e *cenv[TX]) {
		for _, c := range []struct {
			events, limit int
		}{{7, 3}, {6, 3}, {4, 1}} {
			var appended [][]core.PersistedEvent
			start := e.batch(core.Cursor{}, nil, 1000).Next
			for n := 0; n < c.events; {
				k := min(2, c.events-n)
				appended = append(appended, e.appendCommitted(newAgg("Order").events(k)...).Events)
				n += k
			}
			want := byPosition(appended...)
			first := e.batch(start, nil, c.limit)
			if len(first.Events) != c.limit || !first.Next.Paging() {
				e.t.Fatalf("%d events, limit %d: first page holds %d, Next %s; want a full page and a paging cursor", c.events, c.limit, len(first.Events), first.Next)
			}
			if first.Next.Snapshot.String() != start.Snapshot.String() || first.Next.Position != first.Events[c.limit-1].GlobalPosition {
				e.t.Errorf("paging Next %s; want the cursor's snapshot %s and the last position %d", first.Next, start.Snapshot, first.Events[c.limit-1].GlobalPosition)
			}
			upper := first.Next.Upper
			// Committed after the first page: not in this diff.
			later := e.appendCommitted(newAgg("Order").events(1)...)
			got, after := first.Events, first.Next
			for page := 0; after.Paging(); page++ {
				if page > c.events {
					e.t.Fatalf("paging did not end after %d pages", page)
				}
				p := e.batch(after, nil, c.limit)
				if p.Next.Paging() && (p.Next.Upper.String() != upper.String() || p.Next.Snapshot.String() != start.Snapshot.String()) {
					e.t.Errorf("page %d: Next %s; want the snapshots %s and %s kept", page, p.Next, start.Snapshot, upper)
				}
				got = append(got, p.Events...)
				if !p.Next.Paging() && p.Next.Snapshot.String() != upper.String() {
					e.t.Errorf("the exhausted diff gives Next %s, want the upper snapshot %s", p.Next, upper)
				}
				after = p.Next
			}
			if !sameEvents(got, want...) {
				e.t.Errorf("%d events, limit %d: pages hold %v, want %v", c.events, c.limit, ids(got), ids(want))
			}
			if rest, _ := e.drain(after, nil, c.limit); !sameEvents(rest, later.Events...) {
				e.t.Errorf("the next diff holds %v, want the event committed while paging %v", ids(rest), ids(later.Events))
			}
		}
	})

	runConsumer(t, h, "ScopedBatchesKeepOnlyTheirTypesAndAdvance", false, func(e *cenv[TX]) {
		o1 := e.appendCommitted(newAgg("Order").events(2)...)
		i1 := e.appendCommitted(newAgg("Invoice").events(1)...)
		s1 := e.appendCommitted(newAgg("Shipment").events(2)...)
		o2 := e.appendCommitted(newAgg("Order").events(1)...)
		all := byPosition(o1.Events, i1.Events, s1.Events, o2.Events)

		if orders := e.batch(core.Cursor{}, []string{"Order"}, 100); !sameEvents(orders.Events, byPosition(o1.Events, o2.Events)...) {
			e.t.Errorf("batch of Order: %v, want the Order events %v", ids(orders.Events), ids(byPosition(o1.Events, o2.Events)))
		}
		two := []string{"Shipment", "Invoice"}
		if got, _ := e.drain(core.Cursor{}, two, 1); !sameEvents(got, byPosition(i1.Events, s1.Events)...) {
			e.t.Errorf("batches of Shipment and Invoice: %v, want %v", ids(got), ids(byPosition(i1.Events, s1.Events)))
		}
		none := e.batch(core.Cursor{}, []string{"Nothing"}, 100)
		if len(none.Events) != 0 || none.Next.Paging() {
			e.t.Errorf("batch of a type without events: %d events, Next %s", len(none.Events), none.Next)
		}
		for _, ev := range all {
			if !none.Next.Delivered(ev) {
				e.t.Errorf("the empty scoped batch did not advance past event %d (writer %d): Next %s", ev.GlobalPosition, ev.TransactionID, none.Next)
			}
		}
	})

	runConsumer(t, h, "EmptyBatchAdvancesToNow", false, func(e *cenv[TX]) {
		_, at := e.drain(core.Cursor{}, nil, 10)
		e.appendCommitted(newAgg("Order").events(1)...)
		_, at = e.drain(at, nil, 10)
		x := e.begin("open")
		open := x.mustAppend(newAgg("Order").events(1)...)
		empty := e.batch(at, nil, 10)
		if len(empty.Events) != 0 || !empty.Next.Snapshot.Contains(at.Snapshot) {
			e.t.Errorf("batch with nothing new: %d events, Next %s from %s", len(empty.Events), empty.Next, at)
		}
		x.mustCommit()
		if got := e.batch(empty.Next, nil, 10); !sameEvents(got.Events, open.Events...) {
			e.t.Errorf("after the empty batch: %v, want the writer open during it %v", ids(got.Events), ids(open.Events))
		}
	})

	runConsumer(t, h, "ConcurrentWritersAreDeliveredOnceInAggregateOrder", false, func(e *cenv[TX]) {
		e.concurrentDelivery()
	})
}

// concurrentDelivery appends from several goroutines — to shared
// aggregates, some transactions rolled back, some holding their id for a
// while — while a consumer reads batches of 3, and checks that it delivers
// every committed event exactly once, each aggregate's in version order.
func (e *cenv[TX]) concurrentDelivery() {
	const writers, rounds = 4, 15
	aggs := []agg{newAgg("Order"), newAgg("Order"), newAgg("Invoice")}
	var mu sync.Mutex
	committed := map[string]core.PersistedEvent{}
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			errs <- func() error {
				for r := range rounds {
					tx, err := e.cs.Begin(e.ctx)
					if err != nil {
						return err
					}
					var mine []core.PersistedEvent
					for range 1 + rng.IntN(2) {
						a := aggs[rng.IntN(len(aggs))]
						res, err := e.inst.Store.Append(e.ctx, tx, core.Any(), a.events(1+rng.IntN(3)))
						if errors.Is(err, core.ErrOptimisticConcurrency) {
							// A deadlock between writers of the same
							// aggregates in another order: roll back.
							mine = nil
							break
						}
						if err != nil {
							_ = e.cs.Rollback(e.ctx, tx)
							return fmt.Errorf("writer %d round %d: %w", w, r, err)
						}
						mine = append(mine, res.Events...)
					}
					if mine == nil || rng.IntN(5) == 0 {
						if err := e.cs.Rollback(e.ctx, tx); err != nil {
							return err
						}
						continue
					}
					if err := e.cs.Commit(e.ctx, tx); err != nil {
						return fmt.Errorf("writer %d round %d: committing: %w", w, r, err)
					}
					mu.Lock()
					for _, ev := range mine {
						committed[ev.EventID.String()] = ev
					}
					mu.Unlock()
				}
				return nil
			}()
		}()
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()

	delivered := map[string]int{}
	lastVersion := map[string]int64{}
	var at core.Cursor
	consume := func(b core.ConsumerBatch) {
		for _, ev := range b.Events {
			id := ev.EventID.String()
			delivered[id]++
			if delivered[id] > 1 {
				e.t.Errorf("event %s (position %d) delivered twice", id, ev.GlobalPosition)
			}
			key := ev.AggregateType + "/" + ev.AggregateID
			if ev.AggregateVersion <= lastVersion[key] {
				e.t.Errorf("%s: version %d delivered after version %d", key, ev.AggregateVersion, lastVersion[key])
			}
			lastVersion[key] = ev.AggregateVersion
		}
		at = b.Next
	}
	for running := true; running; {
		select {
		case <-finished:
			running = false
		default:
		}
		consume(e.batch(at, nil, 3))
	}
	for range writers {
		if err := <-errs; err != nil {
			e.t.Fatalf("a writer failed: %v", err)
		}
	}
	rest, end := e.drain(at, nil, 3)
	consume(core.ConsumerBatch{Events: rest, Next: end})
	for id, ev := range committed {
		if delivered[id] != 1 {
			e.t.Errorf("committed event %s (position %d, writer %d) delivered %d times; cursor %s", id, ev.GlobalPosition, ev.TransactionID, delivered[id], at)
		}
	}
	for id := range delivered {
		if _, ok := committed[id]; !ok {
			e.t.Errorf("delivered event %s was never committed", id)
		}
	}
	if len(committed) == 0 {
		e.t.Error("no writer committed anything")
	}
}

// testSnapshots: CurrentSnapshot shows committed writers and not running
// ones, the caller's own id included; Writers finds running writers by id.
func testSnapshots[TX any](t *testing.T, h ConsumerStoreHarness[TX]) {
	runConsumer(t, h, "CurrentSnapshotShowsCommittedWritersOnly", false, func(e *cenv[TX]) {
		done := e.appendCommitted(newAgg("Order").events(1)...)
		w := e.begin("running writer")
		running := w.mustAppend(newAgg("Order").events(1)...)
		x := e.begin("observer")
		defer x.mustRollback()
		s := x.mustSnapshot()
		if !s.Visible(done.Events[0].TransactionID) {
			e.t.Errorf("a committed writer (%d) is not visible in %s", done.Events[0].TransactionID, s)
		}
		if s.Visible(running.Events[0].TransactionID) {
			e.t.Errorf("a running writer (%d) is visible in %s", running.Events[0].TransactionID, s)
		}
		own := x.mustAppend(newAgg("Order").events(1)...)
		s2 := x.mustSnapshot()
		id := own.Events[0].TransactionID
		// Not visible: listed as running, or at or above Xmax (PostgreSQL's
		// xmax is one past the latest completed transaction, so a running
		// transaction's id may lie above it).
		if s2.Visible(id) {
			e.t.Errorf("the caller's own id %d is visible in %s", id, s2)
		}
		if !s2.Contains(s) {
			e.t.Errorf("a later snapshot %s does not contain an earlier one %s", s2, s)
		}
		w.mustCommit()
		if s3 := x.mustSnapshot(); !s3.Visible(running.Events[0].TransactionID) || s3.Visible(id) {
			e.t.Errorf("after the writer committed: %s; want it visible and the caller's own id %d still running", s3, id)
		}
	})

	runConsumer(t, h, "WritersFindsRunningTransactionsByID", false, func(e *cenv[TX]) {
		done := e.appendCommitted(newAgg("Order").events(1)...)
		w := e.begin("running writer")
		res := w.mustAppend(newAgg("Order").events(1)...)
		id := res.Events[0].TransactionID
		x := e.begin("observer")
		defer x.mustRollback()
		if got := x.mustWriters(); len(got) != 0 {
			e.t.Errorf("Writers of no ids: %+v", got)
		}
		got := x.mustWriters(done.Events[0].TransactionID, id, 1<<62)
		if len(got) != 1 || got[0].TransactionID != id || got[0].Started.IsZero() {
			e.t.Fatalf("Writers among an ended, a running and an unknown id: %+v; want the running writer %d", got, id)
		}
		if got[0].Started.After(res.Events[0].CreatedAt.Add(time.Minute)) {
			e.t.Errorf("the writer started %s, after its event was created %s", got[0].Started, res.Events[0].CreatedAt)
		}
		w.mustRollback()
		if got := x.mustWriters(id); len(got) != 0 {
			e.t.Errorf("Writers after the writer rolled back: %+v", got)
		}
	})
}

// lagOf measures the lag in a transaction of its own.
func (e *cenv[TX]) lagOf(after core.Cursor, types []string) core.Lag {
	e.t.Helper()
	x := e.begin("status")
	defer x.mustRollback()
	return x.mustLag(after, types)
}

// testLag: Lag counts the committed events a cursor has not delivered,
// exactly up to core.LagExactLimit.
func testLag[TX any](t *testing.T, h ConsumerStoreHarness[TX]) {
	runConsumer(t, h, "ExactCountAndOldest", false, func(e *cenv[TX]) {
		at := func(day int) time.Time { return time.Date(2024, 3, day, 12, 0, 0, 0, time.UTC) }
		dated := func(a agg, days ...int) []core.Event {
			evs := a.events(len(days))
			for i, d := range days {
				evs[i].CreatedAt = at(d)
			}
			return evs
		}
		if l := e.lagOf(core.Cursor{}, nil); l.Events != 0 || l.Estimated || !l.Oldest.IsZero() {
			e.t.Errorf("lag of an empty log: %+v", l)
		}
		e.appendCommitted(dated(newAgg("Order"), 5, 6)...)
		b1 := e.batch(core.Cursor{}, nil, 100)
		e.appendCommitted(dated(newAgg("Invoice"), 3)...)
		e.appendCommitted(dated(newAgg("Order"), 9, 4, 8)...)
		open := e.begin("open writer")
		open.mustAppend(dated(newAgg("Order"), 1)...)
		defer open.mustRollback()

		for _, c := range []struct {
			what   string
			after  core.Cursor
			types  []string
			events int64
			oldest int
		}{
			{"from the start", core.Cursor{}, nil, 6, 3},
			{"after the first batch", b1.Next, nil, 4, 3},
			{"of Order from the start", core.Cursor{}, []string{"Order"}, 5, 4},
			{"of Order after the first batch", b1.Next, []string{"Order"}, 3, 4},
			{"of Nothing", core.Cursor{}, []string{"Nothing"}, 0, 0},
		} {
			l := e.lagOf(c.after, c.types)
			want := core.Lag{Events: c.events}
			if c.oldest > 0 {
				want.Oldest = at(c.oldest)
			}
			if l.Events != want.Events || l.Estimated || !l.Oldest.Equal(want.Oldest) {
				e.t.Errorf("lag %s: %+v, want %d events, oldest %s, exact", c.what, l, want.Events, want.Oldest)
			}
		}
		page := e.batch(b1.Next, nil, 2)
		if !page.Next.Paging() {
			e.t.Fatalf("a batch of 2 of 4 events does not page: %s", page.Next)
		}
		if l := e.lagOf(page.Next, nil); l.Events != 2 || l.Estimated {
			e.t.Errorf("lag inside a page after 2 of 4 events: %+v, want 2, exact", l)
		}
		_, end := e.drain(page.Next, nil, 100)
		if l := e.lagOf(end, nil); l.Events != 0 || !l.Oldest.IsZero() {
			e.t.Errorf("lag after everything committed was delivered: %+v; want none (the open writer's event does not count)", l)
		}
	})

	runConsumer(t, h, "EstimatedBeyondTheExactLimit", false, func(e *cenv[TX]) {
		const per, appends = 275, 4 // 1,100 events
		for range appends {
			e.appendCommitted(newAgg("Order").events(per)...)
		}
		total := int64(per * appends)
		l := e.lagOf(core.Cursor{}, nil)
		if !l.Estimated || l.Events < core.LagExactLimit+1 {
			e.t.Errorf("lag of %d undelivered events: %+v; want Estimated and at least %d", total, l, core.LagExactLimit+1)
		}
		if d := l.Events - total; d*4 > total || -d*4 > total {
			e.t.Errorf("lag of %d undelivered events in a dense log estimated as %d: off by more than 25%%", total, l.Events)
		}
		if s := e.lagOf(core.Cursor{}, []string{"Order"}); !s.Estimated || s.Events < core.LagExactLimit+1 {
			e.t.Errorf("scoped lag of %d undelivered events: %+v; want Estimated and at least %d", total, s, core.LagExactLimit+1)
		}
		b := e.batch(core.Cursor{}, nil, int(total)+1)
		if l := e.lagOf(b.Next, nil); l.Events != 0 || l.Estimated {
			e.t.Errorf("lag after delivering everything: %+v", l)
		}
	})
}
