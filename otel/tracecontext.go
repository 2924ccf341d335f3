package otelchronicle

import (
	"context"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/chronicle-go/chronicle/core"
)

// The trace context of an append travels with its events in
// core.Event.TraceID, as a W3C traceparent
// ("00-<trace id>-<span id>-<flags>", 55 characters): the format every
// OpenTelemetry SDK and most tracing systems read, and one that fits the
// column without touching the event's Metadata, which is the
// application's JSON. The trace state is not carried.

// traceparentHeader is the W3C Trace Context field the carrier holds.
const traceparentHeader = "traceparent"

// traceparentCarrier is a propagation.TextMapCarrier of one traceparent,
// so that injecting and extracting need no map.
type traceparentCarrier struct{ value string }

func (c *traceparentCarrier) Get(key string) string {
	if key == traceparentHeader {
		return c.value
	}
	return ""
}

func (c *traceparentCarrier) Set(key, value string) {
	if key == traceparentHeader {
		c.value = value
	}
}

func (c *traceparentCarrier) Keys() []string { return []string{traceparentHeader} }

// traceparent returns the W3C traceparent of ctx's span context, "" when
// ctx holds no valid one.
func traceparent(ctx context.Context) string {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return "" // before the carrier, which escapes to the heap
	}
	var c traceparentCarrier
	propagation.TraceContext{}.Inject(ctx, &c)
	return c.value
}

// EventSpanContext returns the span context that appended e, read from
// e.TraceID when it holds a W3C traceparent (as WrapStore's Append stores
// it), marked remote. ok is false when TraceID is absent or holds anything
// else, such as an id the application set itself. Use it to link work
// done on an event to the trace that appended it, as WrapConsumer does.
func EventSpanContext(e core.PersistedEvent) (sc trace.SpanContext, ok bool) {
	if !e.TraceID.Valid || len(e.TraceID.String) < 55 { // shorter than any traceparent
		return trace.SpanContext{}, false
	}
	c := traceparentCarrier{value: e.TraceID.String}
	sc = trace.SpanContextFromContext(propagation.TraceContext{}.Extract(context.Background(), &c))
	return sc, sc.IsValid()
}

// withTraceContext returns events with TraceID set to ctx's traceparent
// wherever the application left it absent, copying the slice only when it
// changes one: the caller's events stay as they were. A TraceID the
// application set is never replaced.
func withTraceContext(ctx context.Context, events []core.Event) []core.Event {
	missing := false
	for i := range events {
		if !events[i].TraceID.Valid {
			missing = true
			break
		}
	}
	if !missing {
		return events
	}
	tp := traceparent(ctx)
	if tp == "" {
		return events
	}
	out := make([]core.Event, len(events))
	copy(out, events)
	for i := range out {
		if !out[i].TraceID.Valid {
			out[i].TraceID = core.NewNullString(tp)
		}
	}
	return out
}
