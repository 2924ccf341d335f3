package core_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/chronicle-go/chronicle/core"
)

// FuzzPrepareEvents checks that validation never panics, that it either
// returns a full batch or a typed error, and that whatever it accepts is
// storable in PostgreSQL text and JSONB columns.
func FuzzPrepareEvents(f *testing.F) {
	f.Add("Order", "order-1", "OrderPlaced", []byte(`{}`), "trace", 0, false)
	f.Add("", "x", "y", []byte(`{"a":`), "", -1, true)
	f.Add("Order", "a\x00b", "T", []byte(`{"k":"\u0000"}`), "\xff", 1, false)
	f.Add("Ünïcödé", "🙂", "T", []byte(`[1,2,{"x":null}]`), "t\x00", 7, true)
	f.Fuzz(func(t *testing.T, aggType, aggID, eventType string, metadata []byte, trace string, version int, secondOtherAggregate bool) {
		first := core.Event{AggregateType: aggType, AggregateID: aggID, EventID: uuid.New(), EventType: eventType,
			EventVersion: version, Metadata: metadata, TraceID: core.NewNullString(trace)}
		second := first
		second.EventID = uuid.New()
		if secondOtherAggregate {
			second.AggregateID += "-other"
		}
		out, err := core.PrepareEvents([]core.Event{first, second}, time.Now())
		if err != nil {
			if out != nil {
				t.Fatalf("events returned with error %v", err)
			}
			var ie *core.InvalidEventError
			if !errors.Is(err, core.ErrInvalidEvent) || !errors.As(err, &ie) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		if len(out) != 2 {
			t.Fatalf("got %d events, want 2", len(out))
		}
		for _, e := range out {
			for _, s := range []string{e.AggregateType, e.AggregateID, e.EventType, e.TraceID.String} {
				if strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) {
					t.Fatalf("accepted text PostgreSQL cannot store: %q", s)
				}
			}
			if e.AggregateType == "" || e.AggregateID == "" || e.EventType == "" || e.EventVersion < 1 {
				t.Fatalf("accepted incomplete event %+v", e)
			}
			if e.Metadata != nil && !json.Valid(e.Metadata) {
				t.Fatalf("accepted invalid JSON %q", e.Metadata)
			}
		}
		if out[0].AggregateID != out[1].AggregateID {
			t.Fatalf("accepted a batch of two aggregates")
		}
	})
}
