package otelchronicle

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/chronicle-go/chronicle/consumer"
	"github.com/chronicle-go/chronicle/core"
)

// The consumer runtime's span names.
const (
	SpanBatch  = "chronicle.Batch"
	SpanHandle = "chronicle.Handle"
)

// ErrorTypeHandler is error.type on a batch span and on
// chronicle.consumer.batch.duration when the consumer's Handle failed; the
// Handle span carries the handler error's own type.
const ErrorTypeHandler = "handler"

// consumerAttrs are the attributes that name a consumer on its spans and
// metrics, from its name or the checkpoint name of one of its partitions
// ("orders[3/8]"): the partition joins them as
// messaging.destination.partition.id ("3"), so that each partition is a
// series of its own.
func consumerAttrs(name string) []attribute.KeyValue {
	group, part, ok := core.ParsePartitionCheckpointName(name)
	if !ok {
		return []attribute.KeyValue{messagingSystem, semconv.MessagingConsumerGroupName(name)}
	}
	return []attribute.KeyValue{messagingSystem, semconv.MessagingConsumerGroupName(group), partitionAttr(part.Index)}
}

func partitionAttr(index int) attribute.KeyValue {
	return semconv.MessagingDestinationPartitionID(strconv.Itoa(index))
}

// WrapConsumer returns a consumer that calls c and records a span for each
// Handle (kind consumer, messaging.operation.type "process", the event's
// id, type, aggregate and position), a child of the batch span when the
// processor's Config came through InstrumentConfig, linked to the span
// context that appended the event (see EventSpanContext). A Handle that
// returns an error or panics marks its span failed (the panic goes on to
// the processor, which turns it into an error). A ScopedConsumer stays
// scoped and a PartitionedConsumer partitioned; a partitioned consumer's
// spans carry the event's partition.
//
// The link is added after the span starts, so that a Handle that is not
// sampled parses nothing: a sampler does not see it.
func WrapConsumer[TX any](c consumer.Consumer[TX], opts ...Option) consumer.Consumer[TX] {
	if c == nil {
		return nil // NewProcessor rejects it, naming the consumer's index
	}
	cfg := newConfig(opts)
	w := &handler[TX]{next: c, name: c.Name(), tracer: cfg.tracer()}
	var out consumer.Consumer[TX] = w
	if s, ok := c.(consumer.ScopedConsumer[TX]); ok {
		out = &scopedHandler[TX]{handler: w, scope: s}
	}
	if p, ok := c.(consumer.PartitionedConsumer[TX]); ok {
		w.partitions = p.Partitions()
		return consumer.Partitioned(out, w.partitions)
	}
	return out
}

type handler[TX any] struct {
	next   consumer.Consumer[TX]
	name   string // next.Name(), stable by the Consumer contract
	tracer trace.Tracer
	// partitions is next's partition count, 0 when not partitioned.
	partitions int
}

type scopedHandler[TX any] struct {
	*handler[TX]
	scope consumer.ScopedConsumer[TX]
}

var (
	_ consumer.Consumer[struct{}]       = (*handler[struct{}])(nil)
	_ consumer.ScopedConsumer[struct{}] = (*scopedHandler[struct{}])(nil)
)

// AggregateTypes returns the wrapped consumer's.
func (s *scopedHandler[TX]) AggregateTypes() []string { return s.scope.AggregateTypes() }

// Name returns the wrapped consumer's name.
func (h *handler[TX]) Name() string { return h.next.Name() }

var consumerSpan = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer)}

// Handle records a span around the wrapped Handle.
func (h *handler[TX]) Handle(ctx context.Context, tx TX, e core.PersistedEvent) (err error) {
	ctx, span := h.tracer.Start(ctx, SpanHandle, consumerSpan...)
	if span.IsRecording() {
		if sc, ok := EventSpanContext(e); ok {
			span.AddLink(trace.Link{SpanContext: sc})
		}
		span.SetAttributes(consumerAttrs(h.name)...)
		if h.partitions > 0 {
			span.SetAttributes(partitionAttr(core.PartitionOf(e.AggregateType, e.AggregateID, h.partitions)))
		}
		span.SetAttributes(semconv.MessagingOperationTypeProcess, semconv.MessagingOperationName("handle"),
			semconv.MessagingMessageID(e.EventID.String()), EventTypeKey.String(e.EventType),
			AggregateTypeKey.String(e.AggregateType), AggregateIDKey.String(e.AggregateID),
			AggregateVersionKey.Int64(e.AggregateVersion), GlobalPositionKey.Int64(e.GlobalPosition))
	}
	panicked := true
	defer func() {
		if panicked {
			// A panic, or runtime.Goexit (recover returns nil then, and
			// the goroutine goes on exiting).
			r := recover()
			if r != nil && span.IsRecording() {
				span.SetAttributes(semconv.ErrorTypeKey.String("panic"))
				span.SetStatus(codes.Error, fmt.Sprintf("panic in Handle: %v", r))
			}
			span.End()
			if r != nil {
				panic(r)
			}
			return
		}
		fail(span, err)
		span.End()
	}()
	err = h.next.Handle(ctx, tx, e)
	panicked = false
	return err
}

// InstrumentConfig returns cfg with hooks that record a span per batch
// that read events (chronicle.Batch: kind consumer, started when the batch
// began, messaging.batch.message_count, the cursor it read after; parent
// of the batch's Handle spans) and the consumer metrics:
// chronicle.consumer.batch.duration, chronicle.consumer.handler.failures,
// chronicle.consumer.stops and chronicle.consumer.events.handled (see the
// package documentation). Hooks cfg already has (OnBatchStart, OnBatch,
// OnStop) are kept and called too, within the batch span. Pass the result
// to consumer.NewProcessor, and the consumers through WrapConsumer for the
// Handle spans.
func InstrumentConfig(cfg consumer.Config, opts ...Option) consumer.Config {
	c := newConfig(opts)
	b := newBatchTelemetry(c)
	onStart, onBatch, onStop := cfg.OnBatchStart, cfg.OnBatch, cfg.OnStop
	cfg.OnBatchStart = func(ctx context.Context, start consumer.BatchStart) (context.Context, func(consumer.BatchEnd)) {
		ctx, end := b.start(ctx, start)
		if onStart == nil {
			return ctx, end
		}
		inner, innerEnd := onStart(ctx, start)
		if inner == nil {
			inner = ctx
		}
		return inner, func(e consumer.BatchEnd) {
			if innerEnd != nil {
				innerEnd(e)
			}
			end(e)
		}
	}
	cfg.OnBatch = func(r consumer.BatchReport) {
		b.committed(r)
		if onBatch != nil {
			onBatch(r)
		}
	}
	cfg.OnStop = func(name string, err error) {
		b.stopped(name)
		if onStop != nil {
			onStop(name, err)
		}
	}
	return cfg
}

// batchTelemetry records the batch spans and the consumer metrics.
type batchTelemetry struct {
	tracer   trace.Tracer
	duration metric.Float64Histogram
	failures metric.Int64Counter
	stops    metric.Int64Counter
	handled  metric.Int64Counter
}

func newBatchTelemetry(c config) *batchTelemetry {
	m := c.meter()
	b := &batchTelemetry{tracer: c.tracer()}
	var err error
	b.duration, err = m.Float64Histogram("chronicle.consumer.batch.duration",
		metric.WithUnit("s"),
		metric.WithDescription("Duration of consumer batches that read events, from the start of their transaction to its commit or rollback."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	handle(err)
	b.failures, err = m.Int64Counter("chronicle.consumer.handler.failures",
		metric.WithUnit("{failure}"),
		metric.WithDescription("Batches rolled back because the consumer's Handle returned an error or panicked."))
	handle(err)
	b.stops, err = m.Int64Counter("chronicle.consumer.stops",
		metric.WithUnit("{stop}"),
		metric.WithDescription("Consumers this process stopped after MaxAttempts consecutive failures."))
	handle(err)
	b.handled, err = m.Int64Counter("chronicle.consumer.events.handled",
		metric.WithUnit("{event}"),
		metric.WithDescription("Events handled by committed consumer batches."))
	handle(err)
	return b
}

// start begins a batch's span, started when the batch began.
func (b *batchTelemetry) start(ctx context.Context, s consumer.BatchStart) (context.Context, func(consumer.BatchEnd)) {
	ctx, span := b.tracer.Start(ctx, SpanBatch, trace.WithSpanKind(trace.SpanKindConsumer), trace.WithTimestamp(s.Started))
	if span.IsRecording() {
		span.SetAttributes(consumerAttrs(s.Consumer)...)
		span.SetAttributes(semconv.MessagingOperationTypeProcess, semconv.MessagingOperationName("batch"),
			semconv.MessagingBatchMessageCount(s.Events), CursorKey.String(s.From.String()))
	}
	return ctx, func(e consumer.BatchEnd) {
		b.end(ctx, span, s, e)
	}
}

func (b *batchTelemetry) end(ctx context.Context, span trace.Span, s consumer.BatchStart, e consumer.BatchEnd) {
	defer span.End()
	errType := ""
	switch {
	case e.HandlerFailed:
		errType = ErrorTypeHandler
	case e.Err != nil:
		errType = errorType(e.Err)
	}
	if e.Err != nil && span.IsRecording() {
		span.SetAttributes(semconv.ErrorTypeKey.String(errType))
		span.RecordError(e.Err)
		span.SetStatus(codes.Error, e.Err.Error())
	}
	if b.duration.Enabled(ctx) {
		attrs := consumerAttrs(s.Consumer)
		if errType != "" {
			attrs = append(attrs, semconv.ErrorTypeKey.String(errType))
		}
		b.duration.Record(ctx, time.Since(s.Started).Seconds(), metric.WithAttributes(attrs...))
	}
	if e.HandlerFailed && b.failures.Enabled(ctx) {
		b.failures.Add(ctx, 1, metric.WithAttributes(consumerAttrs(s.Consumer)...))
	}
}

// committed counts the events of a committed batch.
func (b *batchTelemetry) committed(r consumer.BatchReport) {
	ctx := context.Background()
	if r.Events > 0 && b.handled.Enabled(ctx) {
		b.handled.Add(ctx, int64(r.Events), metric.WithAttributes(consumerAttrs(r.Consumer)...))
	}
}

// stopped counts a consumer this process stopped.
func (b *batchTelemetry) stopped(name string) {
	ctx := context.Background()
	if b.stops.Enabled(ctx) {
		b.stops.Add(ctx, 1, metric.WithAttributes(consumerAttrs(name)...))
	}
}
