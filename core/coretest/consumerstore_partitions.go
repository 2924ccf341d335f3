package coretest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/chronicle-go/chronicle/core"
)

// testPartitions checks that the partitions of a scope split the log by
// core.PartitionOf: every event in exactly one partition, in version order
// within it, through batches that take a snapshot and through pages alike,
// and that lag counts the same events.
func testPartitions[TX any](t *testing.T, h ConsumerStoreHarness[TX]) {
	runConsumer(t, h, "SplitTheLogByAggregate", false, func(e *cenv[TX]) {
		const partitions = 4
		var all []core.PersistedEvent
		for i := range 24 {
			typ := "Order"
			if i%3 == 0 {
				typ = "Invoice"
			}
			res := e.appendCommitted(newAgg(typ).events(1 + i%3)...)
			all = append(all, res.Events...)
		}
		for _, types := range [][]string{nil, {"Order"}} {
			seen := map[string]int{}
			for p := range partitions {
				scope := core.ConsumerScope{AggregateTypes: types, Partition: core.Partition{Index: p, Count: partitions}}
				// A limit of 2 takes most of each partition through pages.
				got, end := e.drainIn(core.Cursor{}, scope, 2)
				var want []core.PersistedEvent
				for _, ev := range all {
					if scope.Contains(ev.AggregateType, ev.AggregateID) {
						want = append(want, ev)
					}
				}
				if !sameEvents(got, want...) {
					e.t.Errorf("partition %s of types %v delivered %v, want %v", scope.Partition, types, ids(got), ids(want))
				}
				for _, ev := range got {
					seen[ev.EventID.String()]++
				}
				if l := e.lagIn(core.Cursor{}, scope); l.Events != int64(len(want)) || l.Estimated {
					e.t.Errorf("lag of partition %s of types %v from the start: %+v, want %d, exact", scope.Partition, types, l, len(want))
				}
				if l := e.lagIn(end, scope); l.Events != 0 {
					e.t.Errorf("lag of partition %s after draining it: %+v, want 0", scope.Partition, l)
				}
			}
			for _, ev := range all {
				wantSeen := 1
				if len(types) > 0 && !slices.Contains(types, ev.AggregateType) {
					wantSeen = 0
				}
				if n := seen[ev.EventID.String()]; n != wantSeen {
					e.t.Errorf("types %v: event %d of %s/%s delivered by %d partitions, want %d", types, ev.GlobalPosition, ev.AggregateType, ev.AggregateID, n, wantSeen)
				}
			}
		}
		// One partition of one is the whole log.
		got, _ := e.drainIn(core.Cursor{}, core.ConsumerScope{Partition: core.Partition{Index: 0, Count: 1}}, 100)
		if !sameEvents(got, all...) {
			e.t.Errorf("partition 0/1 delivered %d events, want all %d", len(got), len(all))
		}
	})

	runConsumer(t, h, "BadPartitionsAreRefused", false, func(e *cenv[TX]) {
		x := e.begin("reader")
		defer x.mustRollback()
		for _, p := range []core.Partition{{Index: 0, Count: -1}, {Index: 4, Count: 4}, {Index: -1, Count: 4}, {Index: 1, Count: 0},
			{Index: 0, Count: core.MaxPartitions + 1}} {
			scope := core.ConsumerScope{Partition: p}
			_, err := e.cs.ReadConsumerBatch(e.ctx, x.tx, core.Cursor{}, scope, 10)
			wantInvalidArgument(e.t, fmt.Sprintf("a batch of partition %+v", p), err)
			_, err = e.cs.Lag(e.ctx, x.tx, core.Cursor{}, scope)
			wantInvalidArgument(e.t, fmt.Sprintf("the lag of partition %+v", p), err)
		}
		// The transaction is still usable: bad input is refused before I/O.
		x.mustBatch(core.Cursor{}, nil, 10)
	})
}

// lagIn measures the lag of scope in a transaction of its own.
func (e *cenv[TX]) lagIn(after core.Cursor, scope core.ConsumerScope) core.Lag {
	e.t.Helper()
	x := e.begin("lag")
	defer x.mustRollback()
	return x.mustLagIn(after, scope)
}

// testProgress checks the progress fields of a checkpoint: Delivered is
// stored as saved, DeliveredSince is set when the row is created and kept
// by later saves, and SetCheckpoint restarts both.
func testProgress[TX any](t *testing.T, h ConsumerStoreHarness[TX]) {
	runConsumer(t, h, "DeliveredSinceTheCursorWasSet", false, func(e *cenv[TX]) {
		x := e.begin("first batch")
		cp, _ := x.claimNow("c")
		if cp.Delivered != 0 || !cp.DeliveredSince.IsZero() {
			e.t.Errorf("a new checkpoint's progress: %d since %s, want 0 and zero", cp.Delivered, cp.DeliveredSince)
		}
		cp.Delivered = 5
		x.mustSave(cp)
		x.mustCommit()
		first, _ := e.committedCheckpoints()
		if len(first) != 1 || first[0].Delivered != 5 || first[0].DeliveredSince.IsZero() || !first[0].DeliveredSince.Equal(first[0].UpdatedAt) {
			e.t.Fatalf("after the first save: %+v; want Delivered 5 since the row's creation (its UpdatedAt)", first)
		}
		checkUTCTime(e.t, "DeliveredSince", first[0].DeliveredSince)

		x = e.begin("second batch")
		cp, _ = x.claimNow("c")
		if cp.Delivered != 5 || !cp.DeliveredSince.Equal(first[0].DeliveredSince) {
			e.t.Errorf("claimed progress %d since %s, want 5 since %s", cp.Delivered, cp.DeliveredSince, first[0].DeliveredSince)
		}
		cp.Delivered, cp.DeliveredSince = 12, time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
		x.mustSave(cp)
		x.mustCommit()
		second, _ := e.committedCheckpoints()
		if second[0].Delivered != 12 || !second[0].DeliveredSince.Equal(first[0].DeliveredSince) {
			e.t.Errorf("after the second save: %d since %s, want 12 since %s (a save keeps the start)", second[0].Delivered, second[0].DeliveredSince, first[0].DeliveredSince)
		}

		x = e.begin("reset")
		x.mustSet("c", core.Cursor{})
		x.mustCommit()
		reset, _ := e.committedCheckpoints()
		if reset[0].Delivered != 0 || reset[0].DeliveredSince.Before(second[0].UpdatedAt) || !reset[0].DeliveredSince.Equal(reset[0].UpdatedAt) {
			e.t.Errorf("after SetCheckpoint: %d since %s, want 0 since the set (%s)", reset[0].Delivered, reset[0].DeliveredSince, reset[0].UpdatedAt)
		}

		x = e.begin("new with a start")
		given := time.Date(2030, 5, 6, 7, 8, 9, 1999, time.UTC)
		cp, _ = x.claimNow("e")
		cp.Delivered, cp.DeliveredSince = 3, given
		x.mustSave(cp)
		x.mustCommit()
		withStart, _ := e.committedCheckpoints()
		if got := withStart[len(withStart)-1]; got.ConsumerName != "e" || got.Delivered != 3 || !got.DeliveredSince.Equal(given.Truncate(time.Microsecond)) {
			e.t.Errorf("a new checkpoint saved with DeliveredSince %s: %+v, want it stored (to the microsecond)", given, got)
		}

		x = e.begin("set new")
		x.mustSet("d", core.Cursor{})
		x.mustCommit()
		created, _ := e.committedCheckpoints()
		if d := created[1]; d.ConsumerName != "d" || d.Delivered != 0 || !d.DeliveredSince.Equal(d.UpdatedAt) {
			e.t.Errorf("a checkpoint SetCheckpoint created: %+v, want Delivered 0 since its creation", d)
		}
	})
}
