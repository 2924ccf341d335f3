package integration_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/chronicle-go/chronicle/consumer"
	"github.com/chronicle-go/chronicle/core"
	otelchronicle "github.com/chronicle-go/chronicle/otel"
)

// The OpenTelemetry wrappers on PostgreSQL over pgx: the append's trace
// context is stored in the events' trace_id column and read back, the
// Handle spans of a real processor link to the append span, and the lag
// gauges read the real status.
func TestOpenTelemetryOnPostgres(t *testing.T) {
	t.Parallel()
	ctx := testContext(t)
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) })
	opts := []otelchronicle.Option{otelchronicle.WithTracerProvider(tp), otelchronicle.WithMeterProvider(mp)}

	pool := newPool(t, 0, 8)
	cs, pgStore, names := newPgxConsumerStore(t, pool, newChannel())
	r := pgxRigFor(pool, otelchronicle.WrapStore[pgx.Tx](pgStore, opts...), names)
	reqCtx, request := tp.Tracer("test").Start(ctx, "request")
	events := newEvents("Order", 2)
	tx := r.mustBegin(t, reqCtx, false)
	r.mustAppend(t, reqCtx, tx, core.NoStream(), events...)
	r.mustCommit(t, reqCtx, tx)
	request.End()
	var appendSpan sdktrace.ReadOnlySpan
	for _, s := range spans.Ended() {
		if s.Name() == otelchronicle.SpanAppend {
			appendSpan = s
		}
	}
	if appendSpan == nil || appendSpan.Parent().SpanID() != request.SpanContext().SpanID() {
		t.Fatalf("no append span under the request: %v", spans.Ended())
	}
	for _, e := range r.readStream(t, ctx, "Order", events[0].AggregateID).Events {
		sc, ok := otelchronicle.EventSpanContext(e)
		if !ok || sc.SpanID() != appendSpan.SpanContext().SpanID() || sc.TraceID() != appendSpan.SpanContext().TraceID() {
			t.Fatalf("stored trace_id %q, want the append span %v", e.TraceID.String, appendSpan.SpanContext())
		}
	}

	handled := make(chan int, 8)
	cfg := otelchronicle.InstrumentConfig(consumer.Config{OnBatch: func(b consumer.BatchReport) { handled <- b.Events }}, opts...)
	p, err := consumer.NewProcessor[pgx.Tx](cs, []consumer.Consumer[pgx.Tx]{
		otelchronicle.WrapConsumer[pgx.Tx](nopConsumer{}, opts...),
	}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := otelchronicle.ObserveLag(p, append(opts, otelchronicle.WithLagInterval(time.Nanosecond))...); err != nil {
		t.Fatal(err)
	}
	if lag := lagOf(t, reader); lag != 2 {
		t.Fatalf("lag before the consumer ran: %d, want 2", lag)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()
	for n := 0; n < 2; {
		select {
		case k := <-handled:
			n += k
		case <-ctx.Done():
			t.Fatal("the consumer did not handle the events")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if lag := lagOf(t, reader); lag != 0 {
		t.Fatalf("lag after the consumer ran: %d, want 0", lag)
	}
	links := 0
	for _, s := range spans.Ended() {
		if s.Name() != otelchronicle.SpanHandle {
			continue
		}
		for _, l := range s.Links() {
			if l.SpanContext.SpanID() == appendSpan.SpanContext().SpanID() && l.SpanContext.TraceID() == appendSpan.SpanContext().TraceID() {
				links++
			}
		}
	}
	if links != 2 {
		t.Fatalf("%d Handle spans link to the append span, want 2", links)
	}
}

type nopConsumer struct{}

func (nopConsumer) Name() string                                              { return "otel-nop" }
func (nopConsumer) Handle(context.Context, pgx.Tx, core.PersistedEvent) error { return nil }

// lagOf collects the metrics and returns the consumer's lag gauge.
func lagOf(t *testing.T, reader *sdkmetric.ManualReader) int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if g, ok := m.Data.(metricdata.Gauge[int64]); ok && m.Name == "chronicle.consumer.lag" && len(g.DataPoints) == 1 {
				return g.DataPoints[0].Value
			}
		}
	}
	t.Fatalf("no lag gauge of one consumer in %+v", rm)
	return 0
}
