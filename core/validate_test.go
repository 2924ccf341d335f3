package core_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/chronicle-go/chronicle/core"
)

func validEvent() core.Event {
	return core.Event{
		AggregateType: "Order",
		AggregateID:   "order-1",
		EventID:       uuid.New(),
		EventType:     "OrderPlaced",
		Payload:       []byte(`{"total":10}`),
	}
}

func TestPrepareEventsDefaults(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.FixedZone("X", 3600))
	e := validEvent()
	e.Metadata = []byte{}
	out, err := core.PrepareEvents([]core.Event{e}, now)
	if err != nil {
		t.Fatal(err)
	}
	got := out[0]
	if got.EventVersion != 1 {
		t.Errorf("EventVersion = %d, want 1", got.EventVersion)
	}
	want := time.Date(2026, 1, 2, 2, 4, 5, 123456000, time.UTC)
	if !got.CreatedAt.Equal(want) || got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt = %v, want %v in UTC", got.CreatedAt, want)
	}
	if got.Metadata != nil {
		t.Errorf("empty Metadata = %q, want nil", got.Metadata)
	}

	e.CreatedAt = time.Date(2020, 5, 6, 7, 8, 9, 999999999, time.FixedZone("Y", -7200))
	e.EventVersion = 3
	out, err = core.PrepareEvents([]core.Event{e}, now)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2020, 5, 6, 9, 8, 9, 999999000, time.UTC); !out[0].CreatedAt.Equal(want) || out[0].CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt = %v, want %v (truncated, UTC)", out[0].CreatedAt, want)
	}
	if out[0].EventVersion != 3 {
		t.Errorf("EventVersion = %d, want 3", out[0].EventVersion)
	}
}

func TestPrepareEventsDoesNotModifyInput(t *testing.T) {
	in := []core.Event{validEvent()}
	if _, err := core.PrepareEvents(in, time.Now()); err != nil {
		t.Fatal(err)
	}
	if in[0].EventVersion != 0 || !in[0].CreatedAt.IsZero() {
		t.Errorf("input modified: %+v", in[0])
	}
}

func TestPrepareEventsRejects(t *testing.T) {
	other := validEvent()
	other.AggregateID = "order-2"
	dupID := validEvent()
	tests := []struct {
		name  string
		batch func() []core.Event
		index int
		field string
	}{
		{"empty batch", func() []core.Event { return nil }, -1, "events"},
		{"empty aggregate type", mutate(func(e *core.Event) { e.AggregateType = "" }), 0, "AggregateType"},
		{"empty aggregate id", mutate(func(e *core.Event) { e.AggregateID = "" }), 0, "AggregateID"},
		{"empty event type", mutate(func(e *core.Event) { e.EventType = "" }), 0, "EventType"},
		{"nil event id", mutate(func(e *core.Event) { e.EventID = uuid.Nil }), 0, "EventID"},
		{"negative event version", mutate(func(e *core.Event) { e.EventVersion = -1 }), 0, "EventVersion"},
		{"event version over 32 bits", mutate(func(e *core.Event) { e.EventVersion = 1 << 31 }), 0, "EventVersion"},
		{"invalid metadata", mutate(func(e *core.Event) { e.Metadata = []byte(`{"a":`) }), 0, "Metadata"},
		{"metadata not utf-8", mutate(func(e *core.Event) { e.Metadata = []byte("{\"a\":\"\xff\"}") }), 0, "Metadata"},
		{"metadata with NUL escape", mutate(func(e *core.Event) { e.Metadata = []byte(`{"a":"x\u0000"}`) }), 0, "Metadata"},
		{"metadata key with NUL escape", mutate(func(e *core.Event) { e.Metadata = []byte(`[{"\u0000":1}]`) }), 0, "Metadata"},
		{"NUL in aggregate type", mutate(func(e *core.Event) { e.AggregateType = "Or\x00der" }), 0, "AggregateType"},
		{"NUL in aggregate id", mutate(func(e *core.Event) { e.AggregateID = "\x00" }), 0, "AggregateID"},
		{"NUL in event type", mutate(func(e *core.Event) { e.EventType = "A\x00" }), 0, "EventType"},
		{"NUL in trace id", mutate(func(e *core.Event) { e.TraceID = core.NewNullString("t\x00") }), 0, "TraceID"},
		{"NUL in correlation id", mutate(func(e *core.Event) { e.CorrelationID = core.NewNullString("\x00") }), 0, "CorrelationID"},
		{"NUL in causation id", mutate(func(e *core.Event) { e.CausationID = core.NewNullString("\x00") }), 0, "CausationID"},
		{"invalid utf-8 in aggregate id", mutate(func(e *core.Event) { e.AggregateID = "\xff\xfe" }), 0, "AggregateID"},
		{"mixed aggregates", func() []core.Event { return []core.Event{validEvent(), other} }, 1, "AggregateID"},
		{"mixed aggregate types", func() []core.Event {
			e := validEvent()
			e.AggregateType = "Invoice"
			return []core.Event{validEvent(), e}
		}, 1, "AggregateType"},
		{"duplicate event id", func() []core.Event { return []core.Event{dupID, validEvent(), dupID} }, 2, "EventID"},
		{"duplicate event id in a large batch", func() []core.Event {
			b := make([]core.Event, 100)
			for i := range b {
				b[i] = validEvent()
			}
			b[99].EventID = b[40].EventID
			return b
		}, 99, "EventID"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := core.PrepareEvents(tc.batch(), time.Now())
			if out != nil {
				t.Errorf("got events %v with an error", out)
			}
			if !errors.Is(err, core.ErrInvalidEvent) {
				t.Fatalf("err = %v, want ErrInvalidEvent", err)
			}
			var ie *core.InvalidEventError
			if !errors.As(err, &ie) {
				t.Fatalf("err %T is not *InvalidEventError", err)
			}
			if ie.Index != tc.index || ie.Field != tc.field {
				t.Errorf("index, field = %d, %q; want %d, %q (%v)", ie.Index, ie.Field, tc.index, tc.field, err)
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("message %q does not name the field", err)
			}
		})
	}
}

func mutate(f func(*core.Event)) func() []core.Event {
	return func() []core.Event {
		e := validEvent()
		f(&e)
		return []core.Event{e}
	}
}

func TestPrepareEventsErrorKinds(t *testing.T) {
	_, err := core.PrepareEvents(nil, time.Now())
	if !errors.Is(err, core.ErrNoEvents) || !errors.Is(err, core.ErrInvalidEvent) {
		t.Errorf("empty batch: %v, want ErrNoEvents and ErrInvalidEvent", err)
	}
	e := validEvent()
	_, err = core.PrepareEvents([]core.Event{e, e}, time.Now())
	var de *core.DuplicateEventError
	if !errors.Is(err, core.ErrDuplicateEvent) || !errors.As(err, &de) || de.EventID != e.EventID {
		t.Errorf("duplicate id: %v, want ErrDuplicateEvent naming %s", err, e.EventID)
	}
	if errors.Is(err, core.ErrOptimisticConcurrency) {
		t.Errorf("duplicate id must not be a concurrency conflict")
	}
}

func TestPrepareEventsAcceptsEdgeValues(t *testing.T) {
	e := validEvent()
	e.AggregateID = "Ünïcödé-集合-🙂"
	e.Metadata = []byte(`{"escaped":"back\\u0000slash"}`) // a literal backslash-u, not NUL
	e.TraceID = core.NewNullString("")
	e.Payload = []byte{0, 1, 2, 0xff} // payload is bytes, NUL allowed
	if _, err := core.PrepareEvents([]core.Event{e}, time.Now()); err != nil {
		t.Fatalf("valid edge event rejected: %v", err)
	}
}

func TestValidateReadLimit(t *testing.T) {
	for _, tc := range []struct {
		from  int64
		limit int
		arg   string
	}{{0, 0, "limit"}, {0, -5, "limit"}, {-1, 10, "fromPosition"}} {
		err := core.ValidateReadLimit(tc.from, tc.limit)
		var ae *core.InvalidArgumentError
		if !errors.Is(err, core.ErrInvalidArgument) || !errors.As(err, &ae) || ae.Argument != tc.arg {
			t.Errorf("ValidateReadLimit(%d, %d) = %v, want invalid %s", tc.from, tc.limit, err, tc.arg)
		}
	}
	if err := core.ValidateReadLimit(0, 1); err != nil {
		t.Errorf("ValidateReadLimit(0, 1) = %v", err)
	}
}

func TestValidateVersionBounds(t *testing.T) {
	v := core.Version
	for _, tc := range []struct {
		from, to *int64
		ok       bool
	}{
		{nil, nil, true}, {v(1), nil, true}, {nil, v(5), true}, {v(3), v(3), true},
		{v(4), v(3), false}, {v(0), nil, false}, {nil, v(-1), false},
	} {
		err := core.ValidateVersionBounds(tc.from, tc.to)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, core.ErrInvalidArgument)) {
			t.Errorf("ValidateVersionBounds(%v, %v) = %v, want ok=%v", tc.from, tc.to, err, tc.ok)
		}
	}
}

// What PostgreSQL 15's jsonb accepts and rejects beyond the JSON grammar,
// each checked against a server with SELECT $1::jsonb (see the memory
// adapter's FuzzMetadataMatchesPostgres for the running comparison).
var (
	jsonbAccepts = []string{
		`"\ud800\udc00"`, `"\uD83D\uDE00"`, `{"\udbff\udfff":1}`, `"\uFFFE"`, `"\\u0000"`, `"\\ud800"`, `"\/\b\f\n\r\t\"\\"`,
		`1e131071`, `9.99e131071`, `-9.99e131071`, `0.0001e131075`, `0.00001e131076`, `1e-16383`, `0e-16383`,
		`0.00000e-16378`, `123456789e-16383`, `0e1000000`, `0e1073741822`, `-0`, `1E+5`, `1e-0`,
		`[0.` + strings.Repeat("0", 16382) + `1]`, `1` + strings.Repeat("0", 131071), `0.` + strings.Repeat("9", 16383),
	}
	jsonbRejects = []string{
		`"\ud800"`, `"\udc00"`, `"x\udfffy"`, `"\ud800\ud800\udc00"`, `"\ud800x"`, `"\ud800\n"`, `"\ud800\u0041"`,
		`{"\ud800":1}`, `"\u0000"`, `"a\u0000"`, `{"\u0000":1}`,
		`1e1000000`, `1e131072`, `10e131071`, `0.0001e131076`, `1e-16384`, `1.0e-16383`, `0e-16384`, `0.0e-16383`,
		`0e1073741823`, `0e-1073741822`, `0e-1073741823`, `0e99999999999999999999`, `1e-99999999999999999999`,
		`[0.` + strings.Repeat("0", 16383) + `1]`, `1` + strings.Repeat("0", 131072), `0.` + strings.Repeat("9", 16384),
	}
)

func TestPrepareEventsMetadataIsAsStrictAsJSONB(t *testing.T) {
	for _, m := range jsonbAccepts {
		e := validEvent()
		e.Metadata = []byte(m)
		if _, err := core.PrepareEvents([]core.Event{e}, time.Now()); err != nil {
			t.Errorf("metadata %.60s rejected, jsonb accepts it: %v", m, err)
		}
	}
	for _, m := range jsonbRejects {
		if !json.Valid([]byte(m)) {
			continue // the JSON syntax check rejects it: tested elsewhere
		}
		e := validEvent()
		e.Metadata = []byte(m)
		_, err := core.PrepareEvents([]core.Event{validEvent(), e}, time.Now())
		var ie *core.InvalidEventError
		if !errors.As(err, &ie) || ie.Index != 1 || ie.Field != "Metadata" {
			t.Errorf("metadata %.60s: %v, want ErrInvalidEvent for event 1's Metadata (jsonb rejects it)", m, err)
		}
	}
}

func TestValidateConsumerName(t *testing.T) {
	for _, bad := range []string{"", "a\x00b", "\x00", "caf\xe9", "\xff"} {
		err := core.ValidateConsumerName(bad)
		var ae *core.InvalidArgumentError
		if !errors.Is(err, core.ErrInvalidArgument) || !errors.As(err, &ae) || ae.Argument != "consumer" {
			t.Errorf("ValidateConsumerName(%q) = %v, want an *InvalidArgumentError for the consumer", bad, err)
		}
	}
	for _, good := range []string{"orders", "Ünïcödé 🙂", `it's "quoted"`, " "} {
		if err := core.ValidateConsumerName(good); err != nil {
			t.Errorf("ValidateConsumerName(%q) = %v", good, err)
		}
	}
}
