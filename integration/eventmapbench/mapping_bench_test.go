package eventmapbench

import (
	"testing"
	"time"

	"github.com/chronicle-go/chronicle/core"
	v1 "github.com/chronicle-go/chronicle/examples/eventmap-codegen/domain/user/events/v1"
	v2 "github.com/chronicle-go/chronicle/examples/eventmap-codegen/domain/user/events/v2"
	"github.com/chronicle-go/chronicle/examples/eventmap-codegen/domain/user/userevents"
)

// batch is a mix of the example's events, as a command might emit them.
var batch = []any{
	v2.UserRegistered{UserID: "u-1", Email: "ada@example.com", FirstName: "Ada", LastName: "Lovelace"},
	v1.UserEmailChanged{UserID: "u-1", Email: "ada@lovelace.example"},
	&v2.AccountClosed{UserID: "u-1", Reason: "moved", ClosedAt: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)},
}

// Mapping domain events to core.Event: JSON encoding and a fresh id each.
func BenchmarkToESEvents(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := userevents.ToESEvents("User", "u-1", batch, userevents.WithMetadata([]byte(`{}`))); err != nil {
			b.Fatal(err)
		}
	}
}

// Mapping stored events back to the domain structs: JSON decoding.
func BenchmarkFromESEvents(b *testing.B) {
	events, err := userevents.ToESEvents("User", "u-1", batch)
	if err != nil {
		b.Fatal(err)
	}
	stored := make([]core.PersistedEvent, len(events))
	for i, e := range events {
		stored[i] = core.PersistedEvent{AggregateType: e.AggregateType, AggregateID: e.AggregateID, EventID: e.EventID,
			EventType: e.EventType, EventVersion: e.EventVersion, Payload: e.Payload, AggregateVersion: int64(i + 1)}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := userevents.FromESEvents[any](stored); err != nil {
			b.Fatal(err)
		}
	}
}
