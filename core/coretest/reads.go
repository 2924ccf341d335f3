package coretest

import (
	"fmt"
	"testing"

	"github.com/chronicle-go/chronicle/core"
	"github.com/google/uuid"
)

// testStreamReads: ReadAggregateStream returns one aggregate's events by
// version within optional inclusive bounds, never another aggregate's.
func testStreamReads[TX any](t *testing.T, h Harness[TX]) {
	// tenEvents commits versions 1..10 of a new aggregate, interleaved with
	// events of aggregates whose names resemble it, and returns a reader.
	tenEvents := func(e *env[TX]) (agg, []core.Event, *txn[TX]) {
		e.t.Helper()
		a := newAgg("Order")
		neighbours := []agg{{typ: "Invoice", id: a.id}, {typ: a.typ, id: a.id + "1"}, {typ: a.typ + "s", id: a.id}}
		var evs []core.Event
		for i := range 5 {
			x := e.begin("writer")
			pair := a.events(2)
			x.mustAppend(core.Any(), pair...)
			x.mustAppend(core.Any(), neighbours[i%len(neighbours)].events(1)...)
			x.mustCommit()
			evs = append(evs, pair...)
		}
		r := e.begin("reader")
		e.t.Cleanup(func() { _ = r.rollback() })
		return a, evs, r
	}
	window := func(name string, from, to *int64, wantFrom, wantTo int64) {
		run(t, h, name, func(e *env[TX]) {
			a, evs, r := tenEvents(e)
			s := r.mustStream(a, from, to)
			if wantFrom > wantTo {
				if !s.IsEmpty() || s.Len() != 0 || s.Version() != 0 {
					e.t.Errorf("window [%s, %s]: %d events, Version %d, want an empty stream", bound(from), bound(to), s.Len(), s.Version())
				}
				return
			}
			checkVersions(e.t, "window", s.Events, wantFrom, wantTo)
			checkIDs(e.t, "window", s.Events, evs[wantFrom-1:wantTo])
			if s.Version() != wantTo || s.Len() != int(wantTo-wantFrom+1) {
				e.t.Errorf("window Version %d Len %d, want %d, %d", s.Version(), s.Len(), wantTo, wantTo-wantFrom+1)
			}
		})
	}
	v := core.Version

	window("WholeStream", nil, nil, 1, 10)
	window("FromBound", v(4), nil, 4, 10)
	window("ToBound", nil, v(6), 1, 6)
	window("BothBounds", v(3), v(7), 3, 7)
	window("SingleVersion", v(5), v(5), 5, 5)
	window("LastVersion", v(10), v(10), 10, 10)
	window("ToBeyondEnd", v(8), v(1000), 8, 10)
	window("WindowBeyondEnd", v(11), nil, 11, 10)
	window("BoundedWindowBeyondEnd", v(20), v(30), 20, 10)

	invalid := func(name string, from, to *int64) {
		run(t, h, name, func(e *env[TX]) {
			a, _, r := tenEvents(e)
			_, err := r.readStream(a, from, to)
			wantInvalidArgument(e.t, fmt.Sprintf("window [%s, %s]", bound(from), bound(to)), err)
		})
	}
	invalid("FromAfterToIsInvalid", v(5), v(4))
	invalid("FromZeroIsInvalid", v(0), nil)
	invalid("ToZeroIsInvalid", nil, v(0))
	invalid("NegativeBoundIsInvalid", v(-3), v(2))

	run(t, h, "UnknownAggregateIsEmpty", func(e *env[TX]) {
		tenEvents(e)
		r := e.begin("reader")
		defer r.mustRollback()
		for _, a := range []agg{newAgg("Order"), {typ: "Unknown", id: "nobody"}} {
			s := r.mustAll(a)
			if !s.IsEmpty() || s.Len() != 0 || s.Version() != 0 || len(s.Events) != 0 {
				e.t.Errorf("stream %s: %d events, Version %d, want an empty stream", a, s.Len(), s.Version())
			}
		}
	})

	run(t, h, "OtherAggregatesNeverMixedIn", func(e *env[TX]) {
		a, evs, r := tenEvents(e)
		s := r.mustAll(a)
		checkIDs(e.t, "stream", s.Events, evs)
		for _, ev := range s.Events {
			if ev.AggregateType != a.typ || ev.AggregateID != a.id {
				e.t.Errorf("stream %s holds an event of %s/%s", a, ev.AggregateType, ev.AggregateID)
			}
		}
	})
}

// testGlobalReads: ReadEvents pages through the global log by position and
// GetLatestGlobalPosition returns its visible head.
func testGlobalReads[TX any](t *testing.T, h Harness[TX]) {
	// fill commits the events of several aggregates, interleaved, in
	// batches of varying size over several transactions, and returns them
	// by id with the aggregate's events in version order.
	fill := func(e *env[TX], total int) (map[uuid.UUID]core.PersistedEvent, map[agg][]uuid.UUID) {
		e.t.Helper()
		aggs := []agg{newAgg("Order"), newAgg("Invoice"), newAgg("Customer"), newAgg("Order"), newAgg("Shipment"), newAgg("Order"), newAgg("Refund")}
		byID := make(map[uuid.UUID]core.PersistedEvent, total)
		byAgg := map[agg][]uuid.UUID{}
		n, turn := 0, 0
		for n < total {
			x := e.begin("writer")
			for range 4 {
				size := min(1+turn%13, total-n)
				if size == 0 {
					break
				}
				a := aggs[turn%len(aggs)]
				turn++
				res := x.mustAppend(core.Any(), a.events(size)...)
				for _, ev := range res.Events {
					byID[ev.EventID] = ev
					byAgg[a] = append(byAgg[a], ev.EventID)
				}
				n += size
			}
			x.mustCommit()
		}
		return byID, byAgg
	}

	run(t, h, "EmptyLog", func(e *env[TX]) {
		r := e.begin("reader")
		defer r.mustRollback()
		if evs := r.mustEvents(0, 10); len(evs) != 0 {
			e.t.Errorf("empty store: %d events", len(evs))
		}
		if p := r.mustLatest(); p != 0 {
			e.t.Errorf("empty store: latest global position %d, want 0", p)
		}
	})

	run(t, h, "PagesThroughThousandEvents", func(e *env[TX]) {
		const total, page = 1000, 97
		byID, byAgg := fill(e, total)
		r := e.begin("reader")
		defer r.mustRollback()
		var all []core.PersistedEvent
		from, pages := int64(0), 0
		for {
			got := r.mustEvents(from, page)
			pages++
			for i, ev := range got {
				if ev.GlobalPosition <= from {
					e.t.Fatalf("page %d: position %d is not after %d", pages, ev.GlobalPosition, from)
				}
				if i > 0 && ev.GlobalPosition <= got[i-1].GlobalPosition {
					e.t.Fatalf("page %d: positions not strictly increasing: %d then %d", pages, got[i-1].GlobalPosition, ev.GlobalPosition)
				}
			}
			all = append(all, got...)
			if len(got) < page {
				break
			}
			from = got[len(got)-1].GlobalPosition
		}
		if len(all) != total || pages != total/page+1 {
			e.t.Fatalf("read %d events in %d pages, want %d in %d", len(all), pages, total, total/page+1)
		}
		seen := map[uuid.UUID]bool{}
		version := map[agg]int64{}
		for _, ev := range all {
			want, ok := byID[ev.EventID]
			if !ok || seen[ev.EventID] {
				e.t.Fatalf("event %s read twice or never appended", ev.EventID)
			}
			seen[ev.EventID] = true
			checkSame(e.t, "log read vs append result", ev, want)
			a := agg{typ: ev.AggregateType, id: ev.AggregateID}
			version[a]++
			if ev.AggregateVersion != version[a] {
				e.t.Errorf("aggregate %s: version %d follows %d in the log", a, ev.AggregateVersion, version[a]-1)
			}
		}
		for a, ids := range byAgg {
			if version[a] != int64(len(ids)) {
				e.t.Errorf("aggregate %s: %d events in the log, want %d", a, version[a], len(ids))
			}
		}
		if p := r.mustLatest(); p != all[len(all)-1].GlobalPosition {
			e.t.Errorf("latest global position %d, want the last read %d", p, all[len(all)-1].GlobalPosition)
		}
	})

	run(t, h, "LimitCapsThePage", func(e *env[TX]) {
		fill(e, 10)
		r := e.begin("reader")
		defer r.mustRollback()
		all := r.mustEvents(0, 100)
		if len(all) != 10 {
			e.t.Fatalf("%d events, want 10", len(all))
		}
		for _, limit := range []int{1, 3, 10} {
			got := r.mustEvents(0, limit)
			if len(got) != limit {
				e.t.Errorf("limit %d: %d events", limit, len(got))
				continue
			}
			for i := range got {
				checkSame(e.t, fmt.Sprintf("limit %d", limit), got[i], all[i])
			}
		}
	})

	run(t, h, "FromPositionIsExclusive", func(e *env[TX]) {
		fill(e, 10)
		r := e.begin("reader")
		defer r.mustRollback()
		all := r.mustEvents(0, 100)
		got := r.mustEvents(all[4].GlobalPosition, 100)
		if len(got) != 5 || got[0].EventID != all[5].EventID {
			e.t.Errorf("after position %d: %d events starting at %d, want 5 starting at %d", all[4].GlobalPosition, len(got), got[0].GlobalPosition, all[5].GlobalPosition)
		}
		// A position between two stored ones (gaps are allowed) starts at
		// the next stored event.
		if all[5].GlobalPosition-all[4].GlobalPosition > 1 {
			if got := r.mustEvents(all[4].GlobalPosition+1, 1); len(got) != 1 || got[0].EventID != all[5].EventID {
				e.t.Errorf("reading from inside a gap does not start at the next event")
			}
		}
	})

	run(t, h, "FromBeyondEndIsEmpty", func(e *env[TX]) {
		fill(e, 5)
		r := e.begin("reader")
		defer r.mustRollback()
		last := r.mustLatest()
		for _, from := range []int64{last, last + 1, last + 1000} {
			if got := r.mustEvents(from, 10); len(got) != 0 {
				e.t.Errorf("after position %d (latest %d): %d events, want none", from, last, len(got))
			}
		}
	})

	run(t, h, "LatestIsHighestPosition", func(e *env[TX]) {
		byID, _ := fill(e, 25)
		var highest int64
		for _, ev := range byID {
			highest = max(highest, ev.GlobalPosition)
		}
		r := e.begin("reader")
		defer r.mustRollback()
		if p := r.mustLatest(); p != highest {
			e.t.Errorf("latest global position %d, want %d", p, highest)
		}
	})

	for _, c := range []struct {
		name  string
		from  int64
		limit int
	}{
		{"ZeroLimitIsInvalid", 0, 0},
		{"NegativeLimitIsInvalid", 0, -1},
		{"NegativeFromIsInvalid", -1, 10},
	} {
		run(t, h, c.name, func(e *env[TX]) {
			fill(e, 3)
			r := e.begin("reader")
			defer r.mustRollback()
			_, err := r.readEvents(c.from, c.limit)
			wantInvalidArgument(e.t, fmt.Sprintf("ReadEvents(%d, %d)", c.from, c.limit), err)
		})
	}
}
