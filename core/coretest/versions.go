package coretest

import (
	"testing"

	"github.com/chronicle-go/chronicle/core"
)

// testVersions: the store assigns each aggregate contiguous versions from 1,
// across batches, appends and transactions.
func testVersions[TX any](t *testing.T, h Harness[TX]) {
	run(t, h, "FirstAppendStartsAtOne", func(e *env[TX]) {
		a := newAgg("Order")
		evs := a.events(1)
		x := e.begin("writer")
		checkResult(e.t, "append", x.mustAppend(core.Any(), evs...), evs, 1)
		x.mustCommit()
	})

	run(t, h, "BatchGetsContiguousVersions", func(e *env[TX]) {
		a := newAgg("Order")
		evs := a.events(5)
		x := e.begin("writer")
		res := x.mustAppend(core.NoStream(), evs...)
		checkResult(e.t, "append", res, evs, 1)
		for i := range evs {
			checkStored(e.t, "append result", res.Events[i], evs[i], int64(i+1))
		}
		x.mustCommit()
		e.wantStreamAt("after commit", a, evs)
	})

	run(t, h, "AppendsContinueAcrossTransactions", func(e *env[TX]) {
		a := newAgg("Order")
		var all []core.Event
		for _, n := range []int{3, 1, 4} {
			evs := a.events(n)
			x := e.begin("writer")
			checkResult(e.t, "append", x.mustAppend(core.Any(), evs...), evs, int64(len(all)+1))
			x.mustCommit()
			all = append(all, evs...)
		}
		e.wantStreamAt("after three appends", a, all)
	})

	run(t, h, "AppendsContinueWithinOneTransaction", func(e *env[TX]) {
		a := newAgg("Order")
		first, second := a.events(2), a.events(3)
		x := e.begin("writer")
		checkResult(e.t, "first append", x.mustAppend(core.NoStream(), first...), first, 1)
		checkResult(e.t, "second append", x.mustAppend(core.Exact(2), second...), second, 3)
		x.mustCommit()
		e.wantStreamAt("after commit", a, append(first, second...))
	})

	run(t, h, "AggregatesHaveTheirOwnVersions", func(e *env[TX]) {
		// Same id under another type, and another id under the same type,
		// are different aggregates.
		a := newAgg("Order")
		b := agg{typ: "Invoice", id: a.id}
		c := agg{typ: a.typ, id: a.id + "0"}
		x := e.begin("writer")
		x.mustAppend(core.NoStream(), a.events(2)...)
		for _, other := range []agg{b, c} {
			evs := other.events(1)
			checkResult(e.t, "append to "+other.String(), x.mustAppend(core.NoStream(), evs...), evs, 1)
		}
		x.mustCommit()
	})

	run(t, h, "StreamVersionIsHeadVersion", func(e *env[TX]) {
		a := newAgg("Order")
		x := e.begin("writer")
		x.mustAppend(core.Any(), a.events(2)...)
		res := x.mustAppend(core.Any(), a.events(2)...)
		x.mustCommit()
		r := e.begin("reader")
		defer r.mustRollback()
		s := r.mustAll(a)
		if s.Version() != res.ToVersion() || s.Version() != 4 || s.Len() != 4 || s.IsEmpty() {
			e.t.Errorf("stream Version %d Len %d IsEmpty %v, want 4, 4, false", s.Version(), s.Len(), s.IsEmpty())
		}
	})

	run(t, h, "GlobalPositionsRiseWithVersions", func(e *env[TX]) {
		a, b := newAgg("Order"), newAgg("Invoice")
		for range 3 {
			x := e.begin("writer")
			x.mustAppend(core.Any(), a.events(2)...)
			x.mustAppend(core.Any(), b.events(1)...)
			x.mustCommit()
		}
		r := e.begin("reader")
		defer r.mustRollback()
		s := r.mustAll(a)
		checkVersions(e.t, "stream", s.Events, 1, 6)
		for i := 1; i < s.Len(); i++ {
			if s.Events[i].GlobalPosition <= s.Events[i-1].GlobalPosition {
				e.t.Errorf("version %d has position %d, not above version %d's %d", i+1, s.Events[i].GlobalPosition, i, s.Events[i-1].GlobalPosition)
			}
		}
	})
}
