package coretest

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/chronicle-go/chronicle/core"
)

// hostileTexts are valid values that would break SQL built by string
// concatenation, or a driver's quoting: data must reach the database only
// as parameters and come back byte for byte.
var hostileTexts = []string{
	`O'Brien`, `''`, `"quoted"`, `back\slash\`, `\x00`, `\\'`, `$1`, `$2::text`, `$$ dollar $$`, `$tag$ body $tag$`,
	`'); DROP TABLE events; --`, `x' OR '1'='1`, `/* comment`, `-- comment`, `;`, `%s %d %%`, `?`, `:name`,
	"tab\tnew\nline\rcr", "\x01\x1f\x7f control", "\u2028\u2029", "🙂 ü 日本", `{"json":"looking"}`, `E'\\x41'`, `U&'\0041'`,
}

// testBadInput: hostile but valid values round-trip through every field
// and select nothing else; the largest inputs (a 16 MiB payload, a batch of
// 10,000 events) are stored whole; an expected version at the int64 edge
// is a clean conflict.
func testBadInput[TX any](t *testing.T, h Harness[TX]) {
	run(t, h, "HostileTextRoundTrips", func(e *env[TX]) {
		for i, s := range hostileTexts {
			a := agg{typ: s, id: s + "-" + newAgg("x").id}
			ev := a.event(s)
			ev.Payload = []byte(s)
			ev.Metadata = []byte(`{"v":` + jsonString(s) + `,` + jsonString(s) + `:1}`)
			ev.TraceID, ev.CorrelationID, ev.CausationID = core.NewNullString(s), core.NewNullString(s), core.NewNullString(s)
			x := e.begin("writer")
			res := x.mustAppend(core.NoStream(), ev)
			checkStored(e.t, "append result of "+jsonString(s), res.Events[0], ev, 1)
			x.mustCommit()
			r := e.begin("reader")
			got := r.mustAll(a)
			if got.Len() != 1 {
				e.t.Fatalf("aggregate %s reads back %d events, want 1", jsonString(a.id), got.Len())
			}
			checkStored(e.t, "stream read of "+jsonString(s), got.Events[0], ev, 1)
			if log := r.mustEvents(0, len(hostileTexts)+1); len(log) != i+1 {
				e.t.Fatalf("log holds %d events after %d appends", len(log), i+1)
			}
			r.mustRollback()
		}
	})

	run(t, h, "HostileIDSelectsOnlyItself", func(e *env[TX]) {
		victim := agg{typ: "Order", id: "victim"}
		x := e.begin("writer")
		x.mustAppend(core.NoStream(), victim.events(2)...)
		x.mustCommit()
		r := e.begin("reader")
		defer r.mustRollback()
		for _, id := range []string{`x' OR '1'='1`, `victim' --`, `%`, `_ictim`, `victim\`, `victim'`} {
			if s := r.mustAll(agg{typ: "Order", id: id}); s.Len() != 0 {
				e.t.Errorf("aggregate id %s read %d events of another aggregate", jsonString(id), s.Len())
			}
		}
		if s := r.mustAll(agg{typ: "Order' OR '1'='1", id: "victim"}); s.Len() != 0 {
			e.t.Errorf("a hostile aggregate type read %d events of another aggregate", s.Len())
		}
	})

	run(t, h, "Payload16MiB", func(e *env[TX]) {
		a := newAgg("Blob")
		ev := a.event("Uploaded")
		ev.Payload = make([]byte, 16<<20)
		rng := rand.New(rand.NewPCG(3, 4))
		for i := range ev.Payload {
			ev.Payload[i] = byte(rng.UintN(256))
		}
		x := e.begin("writer")
		x.mustAppend(core.NoStream(), ev)
		x.mustCommit()
		r := e.begin("reader")
		defer r.mustRollback()
		checkStored(e.t, "16 MiB payload", r.mustAll(a).Events[0], ev, 1)
	})

	run(t, h, "TenThousandEventBatch", func(e *env[TX]) {
		a := newAgg("Order")
		evs := a.events(10000)
		x := e.begin("writer")
		res := x.mustAppend(core.NoStream(), evs...)
		checkResult(e.t, "10,000 events", res, evs, 1)
		x.mustCommit()
		r := e.begin("reader")
		defer r.mustRollback()
		s := r.mustAll(a)
		checkVersions(e.t, "10,000 events read back", s.Events, 1, 10000)
		checkIDs(e.t, "10,000 events read back", s.Events, evs)
	})

	run(t, h, "ExactMaxInt64Conflicts", func(e *env[TX]) {
		missing := newAgg("Order")
		x := e.begin("writer")
		_, err := x.append(core.Exact(math.MaxInt64), missing.event("Placed"))
		wantConflict(e.t, "Exact(MaxInt64) on a missing stream", err, missing, core.Exact(math.MaxInt64), 0)
		x.mustRollback()
		e.wantEmptyLog("after the conflict on a missing stream")

		a := newAgg("Order")
		seed := a.events(2)
		y := e.begin("seed")
		y.mustAppend(core.NoStream(), seed...)
		y.mustCommit()
		z := e.begin("writer")
		_, err = z.append(core.Exact(math.MaxInt64), a.event("Next"))
		wantConflict(e.t, "Exact(MaxInt64) on a stream at 2", err, a, core.Exact(math.MaxInt64), 2)
		z.mustRollback()
		e.wantStreamAt("after the conflict", a, seed)
	})
}

// jsonString quotes s as a JSON string, escaping what JSON requires, so
// that the hostile texts make valid metadata.
func jsonString(s string) string {
	const hex = "0123456789abcdef"
	b := []byte{'"'}
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[r>>4], hex[r&0xf])
		default:
			b = append(b, string(r)...)
		}
	}
	return string(append(b, '"'))
}
