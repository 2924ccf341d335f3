package coretest

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/chronicle-go/chronicle/core"
	"github.com/google/uuid"
)

// testValidation: every rule of core.PrepareEvents, through Append. A bad
// batch is rejected before any I/O with an *core.InvalidEventError naming
// the event and field, writes nothing, and leaves the transaction usable.
func testValidation[TX any](t *testing.T, h Harness[TX]) {
	for _, c := range []struct {
		name   string
		size   int // events in the batch
		index  int // the bad event
		field  string
		mutate func(*core.Event)
	}{
		{"EmptyAggregateType", 1, 0, "AggregateType", func(e *core.Event) { e.AggregateType = "" }},
		{"EmptyAggregateID", 2, 1, "AggregateID", func(e *core.Event) { e.AggregateID = "" }},
		{"EmptyEventType", 3, 2, "EventType", func(e *core.Event) { e.EventType = "" }},
		{"MixedAggregateIDs", 3, 1, "AggregateID", func(e *core.Event) { e.AggregateID += "-other" }},
		{"NilEventID", 2, 1, "EventID", func(e *core.Event) { e.EventID = uuid.Nil }},
		{"NegativeEventVersion", 1, 0, "EventVersion", func(e *core.Event) { e.EventVersion = -1 }},
		{"InvalidJSONMetadata", 2, 0, "Metadata", func(e *core.Event) { e.Metadata = []byte(`{"user":`) }},
		{"NonJSONMetadata", 1, 0, "Metadata", func(e *core.Event) { e.Metadata = []byte(`user=1`) }},
		{"InvalidUTF8Metadata", 1, 0, "Metadata", func(e *core.Event) { e.Metadata = []byte("\"\xff\"") }},
		{"NULInMetadataValue", 2, 1, "Metadata", func(e *core.Event) { e.Metadata = []byte(`{"a":"x\u0000y"}`) }},
		{"NULInMetadataKey", 1, 0, "Metadata", func(e *core.Event) { e.Metadata = []byte(`{"\u0000":1}`) }},
		// Valid JSON that jsonb rejects (SQLSTATE 22P02, 22003): the same
		// batch must fail before any I/O on every adapter.
		{"LoneHighSurrogateInMetadata", 1, 0, "Metadata", func(e *core.Event) { e.Metadata = []byte(`{"a":"\ud800"}`) }},
		{"LoneLowSurrogateInMetadata", 2, 1, "Metadata", func(e *core.Event) { e.Metadata = []byte(`{"a":"x\udc00y"}`) }},
		{"HighSurrogateBeforeNonSurrogate", 1, 0, "Metadata", func(e *core.Event) { e.Metadata = []byte(`["\ud83d\u0041"]`) }},
		{"TwoHighSurrogates", 1, 0, "Metadata", func(e *core.Event) { e.Metadata = []byte(`["\ud83d\ud83d\ude00"]`) }},
		{"LoneSurrogateInMetadataKey", 1, 0, "Metadata", func(e *core.Event) { e.Metadata = []byte(`{"\udbff":1}`) }},
		{"NumberBeyondNumericRange", 1, 0, "Metadata", func(e *core.Event) { e.Metadata = []byte(`{"a":1e1000000}`) }},
		{"NumberWith131073DigitsBeforeThePoint", 2, 0, "Metadata", func(e *core.Event) { e.Metadata = []byte(`[1e131072]`) }},
		{"NumberWith16384DigitsAfterThePoint", 1, 0, "Metadata", func(e *core.Event) { e.Metadata = []byte(`{"a":-1e-16384}`) }},
		{"NumberScaleFromTrailingZeros", 1, 0, "Metadata", func(e *core.Event) { e.Metadata = []byte(`[1.0e-16383]`) }},
		{"ZeroWithExponentBeyondNumeric", 1, 0, "Metadata", func(e *core.Event) { e.Metadata = []byte(`[0e1073741823]`) }},
		{"NULInAggregateType", 1, 0, "AggregateType", func(e *core.Event) { e.AggregateType = "Ord\x00er" }},
		{"NULInAggregateID", 1, 0, "AggregateID", func(e *core.Event) { e.AggregateID += "\x00" }},
		{"NULInEventType", 2, 1, "EventType", func(e *core.Event) { e.EventType = "\x00Placed" }},
		{"NULInTraceID", 2, 0, "TraceID", func(e *core.Event) { e.TraceID = core.NewNullString("t\x00") }},
		{"NULInCorrelationID", 2, 1, "CorrelationID", func(e *core.Event) { e.CorrelationID = core.NewNullString("\x00") }},
		{"NULInCausationID", 1, 0, "CausationID", func(e *core.Event) { e.CausationID = core.NewNullString("c\x00c") }},
		{"InvalidUTF8InAggregateType", 1, 0, "AggregateType", func(e *core.Event) { e.AggregateType = "Ord\xc3er" }},
		{"InvalidUTF8InAggregateID", 1, 0, "AggregateID", func(e *core.Event) { e.AggregateID += "\xff" }},
		{"InvalidUTF8InEventType", 2, 1, "EventType", func(e *core.Event) { e.EventType = "Placed\xe2\x82" }},
		{"InvalidUTF8InTraceID", 1, 0, "TraceID", func(e *core.Event) { e.TraceID = core.NewNullString("\xff") }},
		{"InvalidUTF8InCorrelationID", 1, 0, "CorrelationID", func(e *core.Event) { e.CorrelationID = core.NewNullString("\xfe") }},
		{"InvalidUTF8InCausationID", 3, 2, "CausationID", func(e *core.Event) { e.CausationID = core.NewNullString("ok\x80") }},
		{"BadEventLateInBatch", 8, 6, "EventType", func(e *core.Event) { e.EventType = "" }},
	} {
		run(t, h, c.name, func(e *env[TX]) {
			a := newAgg("Order")
			evs := a.events(c.size)
			c.mutate(&evs[c.index])
			x := e.begin("writer")
			_, err := x.append(core.Any(), evs...)
			_ = wantInvalidEvent(e.t, c.name, err, c.index, c.field)
			x.mustRollback()
			e.wantEmptyLog("after the rejected batch")
		})
	}

	run(t, h, "MetadataAtJSONBLimitsIsStored", func(e *env[TX]) {
		// The edges jsonb still accepts: a surrogate pair, a literal
		// backslash-u, 131072 digits before the point, 16383 after, a zero
		// with a large exponent.
		a := newAgg("Order")
		ev := a.event("Placed")
		ev.Metadata = []byte(`{"pair":"\ud83d\ude00","escaped":"\\ud800","big":-9.99e131071,"small":1e-16383,` +
			`"zero":0e1073741822,"fraction":0.` + strings.Repeat("0", 16382) + `1}`)
		x := e.begin("writer")
		x.mustAppend(core.NoStream(), ev)
		x.mustCommit()
		r := e.begin("reader")
		defer r.mustRollback()
		checkStored(e.t, "metadata at jsonb's limits", r.mustAll(a).Events[0], ev, 1)
	})

	if strconv.IntSize == 64 {
		run(t, h, "EventVersionBeyond32Bits", func(e *env[TX]) {
			ev := newAgg("Order").event("Placed")
			ev.EventVersion = 1 << 31
			x := e.begin("writer")
			_, err := x.append(core.Any(), ev)
			_ = wantInvalidEvent(e.t, "EventVersion 1<<31", err, 0, "EventVersion")
			x.mustRollback()
			e.wantEmptyLog("after the rejected batch")
		})
	}

	run(t, h, "MixedAggregateTypes", func(e *env[TX]) {
		a := newAgg("Order")
		evs := []core.Event{a.event("Placed"), agg{typ: "Invoice", id: a.id}.event("Placed")}
		x := e.begin("writer")
		_, err := x.append(core.Any(), evs...)
		if ie := wantInvalidEvent(e.t, "mixed types", err, 1, fieldOf(err)); ie.Field != "AggregateType" && ie.Field != "AggregateID" {
			e.t.Errorf("mixed types: error names field %q, want AggregateType or AggregateID", ie.Field)
		}
		x.mustRollback()
		e.wantEmptyLog("after the rejected batch")
	})

	for _, c := range []struct {
		name   string
		events []core.Event
	}{{"NilBatch", nil}, {"EmptyBatch", []core.Event{}}} {
		run(t, h, c.name, func(e *env[TX]) {
			x := e.begin("writer")
			_, err := x.append(core.Any(), c.events...)
			_ = wantInvalidEvent(e.t, c.name, err, -1, "events")
			if !errors.Is(err, core.ErrNoEvents) {
				e.t.Errorf("%s: error %v is not ErrNoEvents", c.name, err)
			}
			x.mustRollback()
			e.wantEmptyLog("after the empty append")
		})
	}

	run(t, h, "ValidationComesBeforeVersionCheck", func(e *env[TX]) {
		a := newAgg("Order")
		x := e.begin("seed")
		x.mustAppend(core.NoStream(), a.events(1)...)
		x.mustCommit()
		bad := a.event("")
		y := e.begin("writer")
		_, err := y.append(core.NoStream(), bad)
		_ = wantInvalidEvent(e.t, "bad event with a stale expectation", err, 0, "EventType")
		y.mustRollback()
	})

	run(t, h, "TransactionUsableAfterRejectedBatch", func(e *env[TX]) {
		// Validation happens before any I/O, so PostgreSQL never saw the
		// bad batch and the transaction goes on.
		a := newAgg("Order")
		x := e.begin("writer")
		bad := a.events(2)
		bad[1].EventID = uuid.Nil
		_, err := x.append(core.NoStream(), bad...)
		_ = wantInvalidEvent(e.t, "nil id", err, 1, "EventID")
		good := a.events(2)
		checkResult(e.t, "valid batch after the rejected one", x.mustAppend(core.NoStream(), good...), good, 1)
		x.mustCommit()
		e.wantStreamAt("after commit", a, good)
	})
}

// fieldOf returns the field an *core.InvalidEventError names, so a case
// that accepts several fields can check the rest of the error.
func fieldOf(err error) string {
	var ie *core.InvalidEventError
	if errors.As(err, &ie) {
		return ie.Field
	}
	return ""
}
