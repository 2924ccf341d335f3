package otelchronicle_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/chronicle-go/chronicle/adapters/memory"
	"github.com/chronicle-go/chronicle/core"
	otelchronicle "github.com/chronicle-go/chronicle/otel"
)

func orderEvents(id string, n int) []core.Event {
	events := make([]core.Event, n)
	for i := range events {
		events[i] = core.Event{AggregateType: "Order", AggregateID: id, EventID: uuid.New(), EventType: "LineAdded"}
	}
	return events
}

// inTx runs fn in a memory transaction and commits it when fn succeeds.
func inTx(t *testing.T, s *memory.Store, fn func(tx *memory.Tx) error) error {
	t.Helper()
	tx, err := s.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func TestAppendSpanCarriesItsTraceContextIntoTheEvents(t *testing.T) {
	tel := newTelemetry(t)
	mem := memory.NewStore()
	store := otelchronicle.WrapStore[*memory.Tx](mem, tel.options()...)

	ctx, request := tel.tp.Tracer("test").Start(context.Background(), "request")
	events := orderEvents("o-1", 3)
	events[1].TraceID = core.NewNullString("the application's own") // kept as it is
	var res core.AppendResult
	err := inTx(t, mem, func(tx *memory.Tx) (err error) {
		res, err = store.Append(ctx, tx, core.NoStream(), events)
		return err
	})
	request.End()
	if err != nil {
		t.Fatal(err)
	}
	if events[0].TraceID.Valid || events[2].TraceID.Valid {
		t.Fatal("Append changed the caller's events")
	}

	spans := tel.ended(otelchronicle.SpanAppend)
	if len(spans) != 1 {
		t.Fatalf("%d append spans, want 1", len(spans))
	}
	span := spans[0]
	if span.Parent().SpanID() != request.SpanContext().SpanID() || span.SpanKind() != trace.SpanKindClient {
		t.Fatalf("append span: parent %s kind %s, want the request's span and client", span.Parent().SpanID(), span.SpanKind())
	}
	wantAttrs(t, "append span", span.Attributes(), map[string]string{
		"db.system.name":              "postgresql",
		"db.operation.name":           "Append",
		"chronicle.aggregate.type":    "Order",
		"chronicle.aggregate.id":      "o-1",
		"chronicle.event.count":       "3",
		"chronicle.expected_version":  core.NoStream().String(),
		"chronicle.append.outcome":    "appended",
		"chronicle.aggregate.version": "3",
	})

	// Stored: the append span's traceparent where the application set no
	// TraceID, the application's own where it did.
	err = inTx(t, mem, func(tx *memory.Tx) error {
		stream, err := mem.ReadAggregateStream(context.Background(), tx, "Order", "o-1", nil, nil)
		if err != nil {
			return err
		}
		for i, e := range stream.Events {
			sc, ok := otelchronicle.EventSpanContext(e)
			if i == 1 {
				if ok || e.TraceID.String != "the application's own" {
					t.Errorf("event 2: TraceID %q (span context %v), want the application's own and no span context", e.TraceID.String, ok)
				}
				continue
			}
			if !ok || sc.TraceID() != span.SpanContext().TraceID() || sc.SpanID() != span.SpanContext().SpanID() || !sc.IsRemote() || !sc.IsSampled() {
				t.Errorf("event %d: TraceID %q gives %v (ok %v), want the append span %v", i+1, e.TraceID.String, sc, ok, span.SpanContext())
			}
		}
		if res.Events[0].TraceID != stream.Events[0].TraceID {
			t.Errorf("the result's TraceID %q differs from the stored %q", res.Events[0].TraceID.String, stream.Events[0].TraceID.String)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	m := tel.collect(t)
	points := histogramPoints(t, m["chronicle.append.duration"])
	if len(points) != 1 || points[0].Count != 1 || points[0].Sum <= 0 {
		t.Fatalf("append duration points: %+v, want one append", points)
	}
	wantAttrs(t, "append duration", points[0].Attributes.ToSlice(), map[string]string{
		"db.system.name": "postgresql", "chronicle.aggregate.type": "Order", "chronicle.append.outcome": "appended",
	})
	if m["chronicle.append.duration"].Unit != "s" {
		t.Errorf("append duration unit %q, want s", m["chronicle.append.duration"].Unit)
	}
	counts := sumPoints(t, m["chronicle.events.appended"])
	if len(counts) != 1 || counts[0].Value != 3 {
		t.Fatalf("events appended: %+v, want 3", counts)
	}
}

func TestAppendConflictIsItsOutcome(t *testing.T) {
	tel := newTelemetry(t)
	mem := memory.NewStore()
	store := otelchronicle.WrapStore[*memory.Tx](mem, tel.options()...)
	ctx := context.Background()
	for range 2 {
		_ = inTx(t, mem, func(tx *memory.Tx) error {
			_, err := store.Append(ctx, tx, core.NoStream(), orderEvents("o-1", 1))
			return err
		})
	}
	err := inTx(t, mem, func(tx *memory.Tx) error {
		_, err := store.Append(ctx, tx, core.Any(), nil)
		return err
	})
	if !errors.Is(err, core.ErrNoEvents) {
		t.Fatalf("empty append: %v", err)
	}

	spans := tel.ended(otelchronicle.SpanAppend)
	if len(spans) != 3 {
		t.Fatalf("%d append spans, want 3", len(spans))
	}
	conflict := spans[1]
	if conflict.Status().Code != codes.Error {
		t.Errorf("conflict span status %v, want Error", conflict.Status())
	}
	wantAttrs(t, "conflict span", conflict.Attributes(), map[string]string{"chronicle.append.outcome": "conflict", "error.type": "conflict"})
	wantAttrs(t, "empty append span", spans[2].Attributes(), map[string]string{
		"chronicle.append.outcome": "error", "error.type": "invalid_event", "chronicle.event.count": "0",
	})

	byOutcome := map[string]uint64{}
	for _, p := range histogramPoints(t, tel.collect(t)["chronicle.append.duration"]) {
		v, _ := p.Attributes.Value("chronicle.append.outcome")
		e, _ := p.Attributes.Value("error.type")
		byOutcome[v.AsString()+"/"+e.AsString()] += p.Count
	}
	want := map[string]uint64{"appended/": 1, "conflict/conflict": 1, "error/invalid_event": 1}
	for k, n := range want {
		if byOutcome[k] != n {
			t.Errorf("append duration by outcome: %v, want %v", byOutcome, want)
			break
		}
	}
}

func TestReadSpans(t *testing.T) {
	tel := newTelemetry(t)
	mem := memory.NewStore()
	store := otelchronicle.WrapStore[*memory.Tx](mem, tel.options()...)
	ctx := context.Background()
	err := inTx(t, mem, func(tx *memory.Tx) error {
		if _, err := store.Append(ctx, tx, core.NoStream(), orderEvents("o-1", 4)); err != nil {
			return err
		}
		if _, err := store.ReadAggregateStream(ctx, tx, "Order", "o-1", core.Version(2), core.Version(3)); err != nil {
			return err
		}
		if _, err := store.ReadEvents(ctx, tx, 1, 10); err != nil {
			return err
		}
		if _, err := store.GetLatestGlobalPosition(ctx, tx); err != nil {
			return err
		}
		_, err := store.ReadEvents(ctx, tx, 0, 0) // a bad limit
		if !errors.Is(err, core.ErrInvalidArgument) {
			t.Errorf("ReadEvents with limit 0: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	stream := tel.ended(otelchronicle.SpanReadAggregateStream)
	if len(stream) != 1 {
		t.Fatalf("%d stream spans", len(stream))
	}
	wantAttrs(t, "stream span", stream[0].Attributes(), map[string]string{
		"db.system.name": "postgresql", "db.operation.name": "ReadAggregateStream",
		"chronicle.aggregate.type": "Order", "chronicle.aggregate.id": "o-1",
		"chronicle.read.from_version": "2", "chronicle.read.to_version": "3",
		"chronicle.event.count": "2", "chronicle.aggregate.version": "3",
	})
	reads := tel.ended(otelchronicle.SpanReadEvents)
	if len(reads) != 2 {
		t.Fatalf("%d ReadEvents spans", len(reads))
	}
	wantAttrs(t, "ReadEvents span", reads[0].Attributes(), map[string]string{
		"db.operation.name": "ReadEvents", "chronicle.read.from_position": "1", "chronicle.read.limit": "10", "chronicle.event.count": "3",
	})
	wantAttrs(t, "failed ReadEvents span", reads[1].Attributes(), map[string]string{"error.type": "invalid_argument"})
	if reads[1].Status().Code != codes.Error || len(reads[1].Events()) != 1 || reads[1].Events()[0].Name != "exception" {
		t.Errorf("failed read: status %v, events %v; want Error and an exception", reads[1].Status(), reads[1].Events())
	}
	latest := tel.ended(otelchronicle.SpanGetLatestGlobalPosition)
	if len(latest) != 1 {
		t.Fatalf("%d GetLatestGlobalPosition spans", len(latest))
	}
	wantAttrs(t, "latest span", latest[0].Attributes(), map[string]string{
		"db.operation.name": "GetLatestGlobalPosition", "chronicle.global_position": "4",
	})
}

func TestEventSpanContextNeedsATraceparent(t *testing.T) {
	for _, id := range []core.NullString{
		{},
		core.NewNullString(""),
		core.NewNullString("4bf92f3577b34da6a3ce929d0e0e4736"),
		core.NewNullString("00-00000000000000000000000000000000-00f067aa0ba902b7-01"), // an invalid trace id
		core.NewNullString("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x"),
	} {
		if sc, ok := otelchronicle.EventSpanContext(core.PersistedEvent{TraceID: id}); ok {
			t.Errorf("TraceID %q gave span context %v", id.String, sc)
		}
	}
	sc, ok := otelchronicle.EventSpanContext(core.PersistedEvent{TraceID: core.NewNullString("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")})
	if !ok || sc.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || sc.SpanID().String() != "00f067aa0ba902b7" || !sc.IsSampled() {
		t.Fatalf("traceparent gave %v, %v", sc, ok)
	}
}

func TestNilStoreIsAnError(t *testing.T) {
	store := otelchronicle.WrapStore[*memory.Tx](nil)
	if _, err := store.Append(context.Background(), nil, core.Any(), orderEvents("o", 1)); !errors.Is(err, core.ErrInvalidArgument) {
		t.Fatalf("Append on a nil store: %v", err)
	}
	if _, err := store.GetLatestGlobalPosition(context.Background(), nil); !errors.Is(err, core.ErrInvalidArgument) {
		t.Fatalf("GetLatestGlobalPosition on a nil store: %v", err)
	}
}

func TestTombstoneAndSnapshotSpans(t *testing.T) {
	tel := newTelemetry(t)
	mem := memory.NewStore()
	store := otelchronicle.WrapStore[*memory.Tx](mem, tel.options()...)
	ctx, request := tel.tp.Tracer("test").Start(context.Background(), "request")
	err := inTx(t, mem, func(tx *memory.Tx) error {
		if _, err := store.Append(ctx, tx, core.NoStream(), orderEvents("o-1", 2)); err != nil {
			return err
		}
		if err := store.SaveSnapshot(ctx, tx, "Order", "o-1", 2, 1, []byte(`{"lines":2}`)); err != nil {
			return err
		}
		loaded, err := store.LoadAggregate(ctx, tx, "Order", "o-1", 1)
		if err != nil || loaded.Snapshot == nil {
			t.Fatalf("LoadAggregate: %+v, %v", loaded, err)
		}
		_, err = store.Tombstone(ctx, tx, "Order", "o-1", core.Exact(2), core.Tombstone{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	err = inTx(t, mem, func(tx *memory.Tx) error {
		_, err := store.Append(ctx, tx, core.Any(), orderEvents("o-1", 1))
		return err
	})
	request.End()
	if !errors.Is(err, core.ErrStreamClosed) {
		t.Fatalf("append after the tombstone: %v", err)
	}

	tomb := tel.ended(otelchronicle.SpanTombstone)
	if len(tomb) != 1 {
		t.Fatalf("%d tombstone spans", len(tomb))
	}
	wantAttrs(t, "tombstone span", tomb[0].Attributes(), map[string]string{
		"db.operation.name": "Tombstone", "chronicle.aggregate.type": "Order", "chronicle.aggregate.id": "o-1",
		"chronicle.append.outcome": "appended", "chronicle.aggregate.version": "3",
	})
	wantAttrs(t, "snapshot span", tel.ended(otelchronicle.SpanSaveSnapshot)[0].Attributes(), map[string]string{
		"db.operation.name": "SaveSnapshot", "chronicle.aggregate.version": "2", "chronicle.snapshot.schema_version": "1",
	})
	wantAttrs(t, "load span", tel.ended(otelchronicle.SpanLoadAggregate)[0].Attributes(), map[string]string{
		"db.operation.name": "LoadAggregate", "chronicle.snapshot.loaded": "true", "chronicle.event.count": "0", "chronicle.aggregate.version": "2",
	})
	appends := tel.ended(otelchronicle.SpanAppend)
	wantAttrs(t, "append to a closed stream", appends[len(appends)-1].Attributes(), map[string]string{
		"chronicle.append.outcome": "error", "error.type": "stream_closed",
	})

	// The tombstone event carries the tombstone span's trace context.
	err = inTx(t, mem, func(tx *memory.Tx) error {
		stream, err := mem.ReadAggregateStream(context.Background(), tx, "Order", "o-1", core.Version(3), nil)
		if err != nil {
			return err
		}
		sc, ok := otelchronicle.EventSpanContext(stream.Events[0])
		if stream.Events[0].EventType != core.TombstoneEventType || !ok || sc.SpanID() != tomb[0].SpanContext().SpanID() {
			t.Errorf("tombstone event %s with TraceID %q, want the tombstone span's", stream.Events[0].EventType, stream.Events[0].TraceID.String)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	byOp := map[string]uint64{}
	for _, p := range histogramPoints(t, tel.collect(t)["chronicle.append.duration"]) {
		v, _ := p.Attributes.Value("db.operation.name")
		byOp[v.AsString()] += p.Count
	}
	if byOp["Append"] != 2 || byOp["Tombstone"] != 1 {
		t.Fatalf("append duration by operation: %v, want 2 appends and 1 tombstone", byOp)
	}
}
