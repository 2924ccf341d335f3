package coretest

import (
	"bytes"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/chronicle-go/chronicle/core"
)

// testRoundTrip: every field of an event reads back as appended, with the
// documented defaults, from the append result, the stream and the log.
func testRoundTrip[TX any](t *testing.T, h Harness[TX]) {
	// roundTrip appends ev alone to its new aggregate, commits, and checks
	// the event in the append result, the stream and the global log.
	roundTrip := func(e *env[TX], ev core.Event) core.PersistedEvent {
		e.t.Helper()
		a := agg{typ: ev.AggregateType, id: ev.AggregateID}
		x := e.begin("writer")
		res := x.mustAppend(core.NoStream(), ev)
		checkStored(e.t, "append result", res.Events[0], ev, 1)
		x.mustCommit()

		r := e.begin("reader")
		defer r.mustRollback()
		s := r.mustAll(a)
		if s.Len() != 1 {
			e.t.Fatalf("stream holds %d events, want 1", s.Len())
		}
		checkStored(e.t, "stream read", s.Events[0], ev, 1)
		checkSame(e.t, "stream read vs append result", s.Events[0], res.Events[0])
		log := r.mustEvents(0, 10)
		if len(log) != 1 {
			e.t.Fatalf("log holds %d events, want 1", len(log))
		}
		checkSame(e.t, "log read vs append result", log[0], res.Events[0])
		return s.Events[0]
	}

	run(t, h, "AllFields", func(e *env[TX]) {
		ev := newAgg("Order").event("OrderPlaced")
		ev.EventVersion = 3
		ev.Payload = []byte(`{"total":42,"items":["a","b"]}`)
		ev.Metadata = []byte(`{"user":"u-1","tags":["x",1,true,null],"nested":{"k":1.5}}`)
		ev.CreatedAt = time.Date(2024, 2, 29, 23, 59, 58, 123456000, time.UTC)
		ev.TraceID = core.NewNullString("trace-1")
		ev.CorrelationID = core.NewNullString("correlation-1")
		ev.CausationID = core.NewNullString("causation-1")
		roundTrip(e, ev)
	})

	run(t, h, "NullStringsUnset", func(e *env[TX]) {
		got := roundTrip(e, newAgg("Order").event("OrderPlaced"))
		if got.TraceID.Valid || got.CorrelationID.Valid || got.CausationID.Valid {
			e.t.Errorf("unset tracing ids read back set: %+v %+v %+v", got.TraceID, got.CorrelationID, got.CausationID)
		}
	})

	run(t, h, "NullStringsSetToEmpty", func(e *env[TX]) {
		// An empty but present id is not an absent one.
		ev := newAgg("Order").event("OrderPlaced")
		ev.TraceID = core.NewNullString("")
		ev.CorrelationID = core.NewNullString("")
		ev.CausationID = core.NewNullString("")
		got := roundTrip(e, ev)
		if !got.TraceID.Valid || !got.CorrelationID.Valid || !got.CausationID.Valid {
			e.t.Errorf("empty tracing ids read back unset: %+v %+v %+v", got.TraceID, got.CorrelationID, got.CausationID)
		}
	})

	run(t, h, "NullStringUnsetIgnoresString", func(e *env[TX]) {
		// Valid decides; String of an unset NullString is not stored (it may
		// even hold bytes that a set one could not).
		ev := newAgg("Order").event("OrderPlaced")
		ev.TraceID = core.NullString{String: "ignored\x00", Valid: false}
		got := roundTrip(e, ev)
		if got.TraceID != (core.NullString{}) {
			e.t.Errorf("TraceID read back as %+v, want the zero NullString", got.TraceID)
		}
	})

	run(t, h, "MetadataNilStaysNil", func(e *env[TX]) {
		got := roundTrip(e, newAgg("Order").event("OrderPlaced"))
		if got.Metadata != nil {
			e.t.Errorf("Metadata %q, want nil", got.Metadata)
		}
	})

	run(t, h, "MetadataEmptySliceIsNil", func(e *env[TX]) {
		ev := newAgg("Order").event("OrderPlaced")
		ev.Metadata = []byte{}
		got := roundTrip(e, ev)
		if got.Metadata != nil {
			e.t.Errorf("Metadata %q, want nil", got.Metadata)
		}
	})

	run(t, h, "MetadataEmptyObject", func(e *env[TX]) {
		ev := newAgg("Order").event("OrderPlaced")
		ev.Metadata = []byte(`{}`)
		got := roundTrip(e, ev)
		if got.Metadata == nil {
			e.t.Errorf("Metadata {} read back as nil")
		}
	})

	run(t, h, "MetadataKeepsJSONValue", func(e *env[TX]) {
		// Key order and white space may change in JSONB; the value may not.
		ev := newAgg("Order").event("OrderPlaced")
		ev.Metadata = []byte(" {\"z\": 1, \"a\": [1, 2, {\"ü\": \"日本\"}], \"big\": 12345678901234, \"esc\": \"tab\\tquote\\\"\"} ")
		roundTrip(e, ev)
	})

	run(t, h, "UnicodeIdentifiers", func(e *env[TX]) {
		a := agg{typ: "Commande-Ωμέγα", id: "日本-🚀-ü-" + newAgg("x").id}
		ev := a.event("Événement✓Проверка")
		ev.TraceID = core.NewNullString("трасса-🚀")
		roundTrip(e, ev)
	})

	run(t, h, "LargePayload", func(e *env[TX]) {
		ev := newAgg("Blob").event("Uploaded")
		ev.Payload = make([]byte, 1<<20)
		rng := rand.New(rand.NewPCG(1, 2))
		for i := range ev.Payload {
			ev.Payload[i] = byte(rng.UintN(256))
		}
		roundTrip(e, ev)
	})

	run(t, h, "BinaryPayload", func(e *env[TX]) {
		// Payloads are bytes, not text: NUL and invalid UTF-8 are fine.
		ev := newAgg("Blob").event("Uploaded")
		ev.Payload = []byte{0x00, 0xff, 0xfe, 0x00, 'a', 0x80, 0x00}
		roundTrip(e, ev)
	})

	run(t, h, "EmptyPayload", func(e *env[TX]) {
		ev := newAgg("Order").event("OrderTouched")
		ev.Payload = nil
		got := roundTrip(e, ev)
		if len(got.Payload) != 0 {
			e.t.Errorf("Payload %q, want empty", got.Payload)
		}
	})

	run(t, h, "CreatedAtMicrosecondsInUTC", func(e *env[TX]) {
		zone := time.FixedZone("UTC+05:30", 5*3600+1800)
		ev := newAgg("Order").event("OrderPlaced")
		ev.CreatedAt = time.Date(2031, 7, 4, 9, 8, 7, 123456789, zone)
		got := roundTrip(e, ev)
		want := time.Date(2031, 7, 4, 3, 38, 7, 123456000, time.UTC)
		if !got.CreatedAt.Equal(want) || got.CreatedAt.Nanosecond() != 123456000 {
			e.t.Errorf("CreatedAt %s, want %s", got.CreatedAt.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
		}
	})

	run(t, h, "ZeroCreatedAtIsNow", func(e *env[TX]) {
		before := time.Now().Add(-time.Minute)
		got := roundTrip(e, newAgg("Order").event("OrderPlaced"))
		after := time.Now().Add(time.Minute)
		if got.CreatedAt.Before(before) || got.CreatedAt.After(after) {
			e.t.Errorf("CreatedAt %s, want about now", got.CreatedAt)
		}
		if got.CreatedAt.Nanosecond()%1000 != 0 {
			e.t.Errorf("CreatedAt %s has sub-microsecond digits", got.CreatedAt.Format(time.RFC3339Nano))
		}
	})

	run(t, h, "EventVersionDefaultsToOne", func(e *env[TX]) {
		ev := newAgg("Order").event("OrderPlaced")
		ev.EventVersion = 0
		if got := roundTrip(e, ev); got.EventVersion != 1 {
			e.t.Errorf("EventVersion %d, want 1", got.EventVersion)
		}
	})

	run(t, h, "CallerBuffersNotShared", func(e *env[TX]) {
		// Neither the caller's input nor a read result may alias stored data.
		a := newAgg("Order")
		ev := a.event("OrderPlaced")
		ev.Payload = []byte(`{"v":1}`)
		ev.Metadata = []byte(`{"m":1}`)
		x := e.begin("writer")
		res := x.mustAppend(core.NoStream(), ev)
		ev.Payload[5], ev.Metadata[5] = '9', '9'
		res.Events[0].Payload[5] = '8'
		if len(res.Events[0].Metadata) > 0 {
			res.Events[0].Metadata[0] = ' '
		}
		x.mustCommit()

		r := e.begin("reader")
		defer r.mustRollback()
		first := r.mustAll(a).Events[0]
		if !bytes.Equal(first.Payload, []byte(`{"v":1}`)) {
			e.t.Errorf("Payload %q, want {\"v\":1}", first.Payload)
		}
		checkMetadata(e.t, "metadata", first.Metadata, []byte(`{"m":1}`))
		for i := range first.Payload {
			first.Payload[i] = 'x'
		}
		again := r.mustEvents(0, 1)[0]
		if !bytes.Equal(again.Payload, []byte(`{"v":1}`)) {
			e.t.Errorf("after changing a read result: Payload %q, want {\"v\":1}", again.Payload)
		}
	})
}
