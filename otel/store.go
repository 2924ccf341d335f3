package otelchronicle

import (
	"context"
	"errors"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/chronicle-go/chronicle/core"
)

// The store's span names: the library and the method.
const (
	SpanAppend                  = "chronicle.Append"
	SpanTombstone               = "chronicle.Tombstone"
	SpanReadAggregateStream     = "chronicle.ReadAggregateStream"
	SpanSaveSnapshot            = "chronicle.SaveSnapshot"
	SpanLoadAggregate           = "chronicle.LoadAggregate"
	SpanReadEvents              = "chronicle.ReadEvents"
	SpanGetLatestGlobalPosition = "chronicle.GetLatestGlobalPosition"
)

// WrapStore returns a core.Store that calls s and records, for every call,
// a span (kind client, db.system.name "postgresql", db.operation.name the
// method's name, error.type and status Error on failure), and for Append
// for Append and Tombstone the metrics chronicle.append.duration and
// chronicle.events.appended (see the package documentation).
//
// Append stores the trace context of its span in each event's TraceID
// that the application left absent, as a W3C traceparent, so that
// consumers can link to it (see EventSpanContext and WrapConsumer); a
// TraceID the application set is kept as it is, and the caller's events
// are never modified (Append copies them when it fills one in). Without a
// span context in ctx and no tracer provider set, nothing is filled in.
// Tombstone does the same with its final event's TraceID.
//
// Only the store's port is wrapped: pass the adapter's own store where its
// other methods are needed (NewConsumerStore, SchemaSQL, the operator's
// DeleteStream). A nil s gives a store whose methods return
// core.ErrInvalidArgument.
func WrapStore[TX any](s core.Store[TX], opts ...Option) core.Store[TX] {
	c := newConfig(opts)
	return &store[TX]{next: s, tracer: c.tracer(), metrics: newStoreMetrics(c.meter())}
}

type store[TX any] struct {
	next    core.Store[TX]
	tracer  trace.Tracer
	metrics storeMetrics
}

var _ core.Store[struct{}] = (*store[struct{}])(nil)

// clientSpan is the start option of every store span, made once so that a
// call passes no new slice.
var clientSpan = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient)}

func errNilStore() error {
	return &core.InvalidArgumentError{Argument: "store", Reason: "otelchronicle.WrapStore was given a nil store"}
}

// Append records a span and the append metrics around the wrapped Append.
func (s *store[TX]) Append(ctx context.Context, tx TX, expected core.ExpectedVersion, events []core.Event) (core.AppendResult, error) {
	if s.next == nil {
		return core.AppendResult{}, errNilStore()
	}
	start := time.Now()
	ctx, span := s.tracer.Start(ctx, SpanAppend, clientSpan...)
	defer span.End()
	aggType := ""
	if len(events) > 0 {
		aggType = events[0].AggregateType
	}
	if span.IsRecording() {
		attrs := []attribute.KeyValue{
			dbSystem, semconv.DBOperationName("Append"),
			EventCountKey.Int(len(events)), ExpectedVersionKey.String(expected.String()),
		}
		if len(events) > 0 {
			attrs = append(attrs, AggregateTypeKey.String(aggType), AggregateIDKey.String(events[0].AggregateID))
		}
		span.SetAttributes(attrs...)
	}
	res, err := s.next.Append(ctx, tx, expected, withTraceContext(ctx, events))
	outcome := outcomeOf(err)
	if span.IsRecording() {
		span.SetAttributes(OutcomeKey.String(outcome))
		if err == nil {
			span.SetAttributes(AggregateVersionKey.Int64(res.ToVersion()))
		}
	}
	fail(span, err)
	s.metrics.record(ctx, "Append", time.Since(start), aggType, outcome, err, len(res.Events))
	return res, err
}

// Tombstone records a span and the append metrics around the wrapped
// Tombstone, and carries the trace context in the tombstone's TraceID.
func (s *store[TX]) Tombstone(ctx context.Context, tx TX, aggregateType, aggregateID string, expected core.ExpectedVersion, t core.Tombstone) (core.AppendResult, error) {
	if s.next == nil {
		return core.AppendResult{}, errNilStore()
	}
	start := time.Now()
	ctx, span := s.tracer.Start(ctx, SpanTombstone, clientSpan...)
	defer span.End()
	if span.IsRecording() {
		span.SetAttributes(dbSystem, semconv.DBOperationName("Tombstone"), ExpectedVersionKey.String(expected.String()),
			AggregateTypeKey.String(aggregateType), AggregateIDKey.String(aggregateID))
	}
	if !t.TraceID.Valid {
		if tp := traceparent(ctx); tp != "" {
			t.TraceID = core.NewNullString(tp)
		}
	}
	res, err := s.next.Tombstone(ctx, tx, aggregateType, aggregateID, expected, t)
	outcome := outcomeOf(err)
	if span.IsRecording() {
		span.SetAttributes(OutcomeKey.String(outcome))
		if err == nil {
			span.SetAttributes(AggregateVersionKey.Int64(res.ToVersion()))
		}
	}
	fail(span, err)
	s.metrics.record(ctx, "Tombstone", time.Since(start), aggregateType, outcome, err, len(res.Events))
	return res, err
}

// SaveSnapshot records a span around the wrapped SaveSnapshot.
func (s *store[TX]) SaveSnapshot(ctx context.Context, tx TX, aggregateType, aggregateID string, version int64, stateSchemaVersion int, state []byte) error {
	if s.next == nil {
		return errNilStore()
	}
	ctx, span := s.tracer.Start(ctx, SpanSaveSnapshot, clientSpan...)
	defer span.End()
	if span.IsRecording() {
		span.SetAttributes(dbSystem, semconv.DBOperationName("SaveSnapshot"),
			AggregateTypeKey.String(aggregateType), AggregateIDKey.String(aggregateID),
			AggregateVersionKey.Int64(version), StateSchemaVersionKey.Int(stateSchemaVersion))
	}
	err := s.next.SaveSnapshot(ctx, tx, aggregateType, aggregateID, version, stateSchemaVersion, state)
	fail(span, err)
	return err
}

// LoadAggregate records a span around the wrapped LoadAggregate.
func (s *store[TX]) LoadAggregate(ctx context.Context, tx TX, aggregateType, aggregateID string, stateSchemaVersion int) (core.LoadedAggregate, error) {
	if s.next == nil {
		return core.LoadedAggregate{}, errNilStore()
	}
	ctx, span := s.tracer.Start(ctx, SpanLoadAggregate, clientSpan...)
	defer span.End()
	if span.IsRecording() {
		span.SetAttributes(dbSystem, semconv.DBOperationName("LoadAggregate"),
			AggregateTypeKey.String(aggregateType), AggregateIDKey.String(aggregateID), StateSchemaVersionKey.Int(stateSchemaVersion))
	}
	loaded, err := s.next.LoadAggregate(ctx, tx, aggregateType, aggregateID, stateSchemaVersion)
	fail(span, err)
	if err == nil && span.IsRecording() {
		span.SetAttributes(EventCountKey.Int(loaded.Stream.Len()), AggregateVersionKey.Int64(loaded.Version()),
			SnapshotLoadedKey.Bool(loaded.Snapshot != nil))
	}
	return loaded, err
}

// outcomeOf returns an append's chronicle.append.outcome.
func outcomeOf(err error) string {
	switch {
	case errors.Is(err, core.ErrOptimisticConcurrency):
		return OutcomeConflict
	case err != nil:
		return OutcomeError
	}
	return OutcomeAppended
}

// ReadAggregateStream records a span around the wrapped read.
func (s *store[TX]) ReadAggregateStream(ctx context.Context, tx TX, aggregateType, aggregateID string, fromVersion, toVersion *int64) (core.Stream, error) {
	if s.next == nil {
		return core.Stream{}, errNilStore()
	}
	ctx, span := s.tracer.Start(ctx, SpanReadAggregateStream, clientSpan...)
	defer span.End()
	if span.IsRecording() {
		span.SetAttributes(dbSystem, semconv.DBOperationName("ReadAggregateStream"),
			AggregateTypeKey.String(aggregateType), AggregateIDKey.String(aggregateID))
		if fromVersion != nil {
			span.SetAttributes(FromVersionKey.Int64(*fromVersion))
		}
		if toVersion != nil {
			span.SetAttributes(ToVersionKey.Int64(*toVersion))
		}
	}
	stream, err := s.next.ReadAggregateStream(ctx, tx, aggregateType, aggregateID, fromVersion, toVersion)
	fail(span, err)
	if err == nil && span.IsRecording() {
		span.SetAttributes(EventCountKey.Int(stream.Len()), AggregateVersionKey.Int64(stream.Version()))
	}
	return stream, err
}

// ReadEvents records a span around the wrapped read.
func (s *store[TX]) ReadEvents(ctx context.Context, tx TX, fromPosition int64, limit int) ([]core.PersistedEvent, error) {
	if s.next == nil {
		return nil, errNilStore()
	}
	ctx, span := s.tracer.Start(ctx, SpanReadEvents, clientSpan...)
	defer span.End()
	if span.IsRecording() {
		span.SetAttributes(dbSystem, semconv.DBOperationName("ReadEvents"),
			FromPositionKey.Int64(fromPosition), LimitKey.Int(limit))
	}
	events, err := s.next.ReadEvents(ctx, tx, fromPosition, limit)
	fail(span, err)
	if err == nil && span.IsRecording() {
		span.SetAttributes(EventCountKey.Int(len(events)))
	}
	return events, err
}

// GetLatestGlobalPosition records a span around the wrapped read.
func (s *store[TX]) GetLatestGlobalPosition(ctx context.Context, tx TX) (int64, error) {
	if s.next == nil {
		return 0, errNilStore()
	}
	ctx, span := s.tracer.Start(ctx, SpanGetLatestGlobalPosition, clientSpan...)
	defer span.End()
	if span.IsRecording() {
		span.SetAttributes(dbSystem, semconv.DBOperationName("GetLatestGlobalPosition"))
	}
	pos, err := s.next.GetLatestGlobalPosition(ctx, tx)
	fail(span, err)
	if err == nil && span.IsRecording() {
		span.SetAttributes(GlobalPositionKey.Int64(pos))
	}
	return pos, err
}

// fail marks span as failed with err, when err is not nil: status Error,
// error.type, and the error as an exception event.
func fail(span trace.Span, err error) {
	if err == nil || !span.IsRecording() {
		return
	}
	span.SetAttributes(semconv.ErrorTypeKey.String(errorType(err)))
	span.RecordError(err)
	span.SetStatus(codes.Error, err.Error())
}

// storeMetrics are the append instruments.
type storeMetrics struct {
	duration metric.Float64Histogram
	appended metric.Int64Counter
}

func newStoreMetrics(m metric.Meter) storeMetrics {
	// An instrument that cannot be made (an invalid name, which ours are
	// not) comes back as a no-op one with the error, which goes to the
	// global error handler.
	duration, err := m.Float64Histogram("chronicle.append.duration",
		metric.WithUnit("s"),
		metric.WithDescription("Duration of event store appends and tombstones, by operation, aggregate type and outcome."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	handle(err)
	appended, err := m.Int64Counter("chronicle.events.appended",
		metric.WithUnit("{event}"),
		metric.WithDescription("Events appended, tombstones included (by calls that returned no error; their transactions may still roll back), by aggregate type."))
	handle(err)
	return storeMetrics{duration: duration, appended: appended}
}

// durationBuckets are the histogram boundaries in seconds, from 100 µs (an
// append to a local server takes a few hundred microseconds, below the
// SDK's default first bucket of 5 ms) to 10 s.
var durationBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

func (m storeMetrics) record(ctx context.Context, op string, d time.Duration, aggType, outcome string, err error, n int) {
	if m.duration.Enabled(ctx) {
		attrs := []attribute.KeyValue{dbSystem, semconv.DBOperationName(op), AggregateTypeKey.String(aggType), OutcomeKey.String(outcome)}
		if err != nil {
			attrs = append(attrs, semconv.ErrorTypeKey.String(errorType(err)))
		}
		m.duration.Record(ctx, d.Seconds(), metric.WithAttributes(attrs...))
	}
	if n > 0 && m.appended.Enabled(ctx) {
		m.appended.Add(ctx, int64(n), metric.WithAttributes(AggregateTypeKey.String(aggType)))
	}
}

// handle reports an error of the OpenTelemetry API to its global handler.
func handle(err error) {
	if err != nil {
		otel.Handle(err)
	}
}
