package otelchronicle_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/trace"

	"github.com/chronicle-go/chronicle/adapters/memory"
	"github.com/chronicle-go/chronicle/core"
	otelchronicle "github.com/chronicle-go/chronicle/otel"
)

// appendAllocs returns the allocations of one append of a fresh event
// through s, transaction included.
func appendAllocs(t *testing.T, mem *memory.Store, s core.Store[*memory.Tx]) float64 {
	t.Helper()
	ctx := context.Background()
	events := []core.Event{{AggregateType: "Order", AggregateID: "o-1", EventType: "E"}}
	return testing.AllocsPerRun(200, func() {
		events[0].EventID = uuid.New()
		tx, err := mem.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Append(ctx, tx, core.Any(), events); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	})
}

// With the global providers, which record nothing until the application
// sets them, an append allocates nothing more than OpenTelemetry's own
// Start of a span that records nothing (the span and its context).
func TestAppendWithoutProvidersAllocatesOnlyWhatStartDoes(t *testing.T) {
	mem := memory.NewStore()
	raw := appendAllocs(t, mem, mem)
	wrapped := appendAllocs(t, mem, otelchronicle.WrapStore[*memory.Tx](mem))
	tracer := otel.GetTracerProvider().Tracer("test")
	kind := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient)}
	start := testing.AllocsPerRun(200, func() {
		_, span := tracer.Start(context.Background(), "x", kind...)
		span.End()
	})
	t.Logf("allocations per append: %v on the memory store, %v wrapped; %v in the global tracer's Start", raw, wrapped, start)
	if wrapped > raw+start {
		t.Fatalf("the wrapper adds %v allocations per append without providers, of which Start makes %v", wrapped-raw, start)
	}
}
