package otelchronicle_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/chronicle-go/chronicle/adapters/memory"
	"github.com/chronicle-go/chronicle/consumer"
	"github.com/chronicle-go/chronicle/core"
	otelchronicle "github.com/chronicle-go/chronicle/otel"
)

// recorder is a consumer of Order events that records what it handled
// once the batch commits, and fails as fail says.
type recorder struct {
	name string
	fail func(e core.PersistedEvent) error

	mu      sync.Mutex
	handled []core.PersistedEvent
	signal  chan struct{}
}

func newRecorder(name string) *recorder {
	return &recorder{name: name, signal: make(chan struct{}, 1)}
}

func (r *recorder) Name() string             { return r.name }
func (r *recorder) AggregateTypes() []string { return []string{"Order"} }

func (r *recorder) Handle(_ context.Context, tx *memory.Tx, e core.PersistedEvent) error {
	if r.fail != nil {
		if err := r.fail(e); err != nil {
			return err
		}
	}
	tx.OnCommit(func() {
		r.mu.Lock()
		r.handled = append(r.handled, e)
		r.mu.Unlock()
		select {
		case r.signal <- struct{}{}:
		default:
		}
	})
	return nil
}

func (r *recorder) waitFor(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		got := len(r.handled)
		r.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-r.signal:
		case <-deadline:
			t.Fatalf("%s handled %d events, want %d", r.name, got, n)
		}
	}
}

// runProcessor runs p until the returned function is called, which
// returns once Run has.
func runProcessor(t *testing.T, p *consumer.Processor[*memory.Tx]) func() {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func TestHandleSpanLinksToTheSpanThatAppended(t *testing.T) {
	tel := newTelemetry(t)
	mem := memory.NewStore()
	store := otelchronicle.WrapStore[*memory.Tx](mem, tel.options()...)
	ctx, request := tel.tp.Tracer("test").Start(context.Background(), "request")
	traced := orderEvents("o-1", 2)
	if err := inTx(t, mem, func(tx *memory.Tx) error { _, err := store.Append(ctx, tx, core.NoStream(), traced); return err }); err != nil {
		t.Fatal(err)
	}
	request.End()
	// Appended past the wrapper, so with no trace context, and an event
	// out of the consumer's scope.
	untraced := orderEvents("o-2", 1)
	users := []core.Event{{AggregateType: "User", AggregateID: "u-1", EventID: uuid.New(), EventType: "Registered"}}
	for _, events := range [][]core.Event{untraced, users} {
		if err := inTx(t, mem, func(tx *memory.Tx) error {
			_, err := mem.Append(context.Background(), tx, core.Any(), events)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}

	rec := newRecorder("order-log")
	wrapped := otelchronicle.WrapConsumer[*memory.Tx](rec, tel.options()...)
	if _, ok := wrapped.(consumer.ScopedConsumer[*memory.Tx]); !ok || wrapped.Name() != "order-log" {
		t.Fatalf("WrapConsumer of a scoped consumer gave %T named %q", wrapped, wrapped.Name())
	}
	// The application's own OnBatch still runs, after the wrapper's: once
	// it saw the three events, so did the events handled counter (a
	// processor that stops right after a commit reports no batch).
	reported := make(chan struct{})
	seen := 0
	cfg := otelchronicle.InstrumentConfig(consumer.Config{PollInterval: 10 * time.Millisecond, OnBatch: func(r consumer.BatchReport) {
		if seen += r.Events; r.Events > 0 && seen == 3 {
			close(reported)
		}
	}}, tel.options()...)
	p, err := consumer.NewProcessor[*memory.Tx](mem, []consumer.Consumer[*memory.Tx]{wrapped}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	stop := runProcessor(t, p)
	rec.waitFor(t, 3)
	select {
	case <-reported:
	case <-time.After(10 * time.Second):
		t.Fatal("the Config's own OnBatch did not see the three events")
	}
	stop() // every batch has ended

	appendSpan := tel.ended(otelchronicle.SpanAppend)[0]
	batches := map[trace.SpanID]sdktrace.ReadOnlySpan{}
	inBatches := 0
	for _, b := range tel.ended(otelchronicle.SpanBatch) {
		batches[b.SpanContext().SpanID()] = b
		wantAttrs(t, "batch span", b.Attributes(), map[string]string{
			"messaging.system": "chronicle", "messaging.operation.type": "process",
			"messaging.consumer.group.name": "order-log",
		})
		n := attrs(b.Attributes())["messaging.batch.message_count"]
		if n == "" || b.SpanKind() != trace.SpanKindConsumer || b.Status().Code != codes.Unset {
			t.Errorf("batch span: count %q kind %s status %v", n, b.SpanKind(), b.Status())
		}
		for _, kv := range b.Attributes() {
			if kv.Key == "messaging.batch.message_count" {
				inBatches += int(kv.Value.AsInt64())
			}
		}
	}
	if inBatches != 3 {
		t.Fatalf("batch spans count %d events, want 3", inBatches)
	}
	handles := tel.ended(otelchronicle.SpanHandle)
	if len(handles) != 3 {
		t.Fatalf("%d Handle spans, want 3", len(handles))
	}
	for _, h := range handles {
		batch, ok := batches[h.Parent().SpanID()]
		if !ok {
			t.Fatalf("Handle span's parent %s is no batch span", h.Parent().SpanID())
		}
		if h.StartTime().Before(batch.StartTime()) || h.EndTime().After(batch.EndTime()) {
			t.Errorf("Handle span %v–%v outside its batch's %v–%v", h.StartTime(), h.EndTime(), batch.StartTime(), batch.EndTime())
		}
		a := attrs(h.Attributes())
		wantAttrs(t, "Handle span", h.Attributes(), map[string]string{
			"messaging.consumer.group.name": "order-log", "messaging.operation.type": "process",
			"chronicle.event.type": "LineAdded", "chronicle.aggregate.type": "Order",
		})
		switch a["chronicle.aggregate.id"] {
		case "o-1":
			if len(h.Links()) != 1 {
				t.Fatalf("Handle of a traced event has %d links, want 1", len(h.Links()))
			}
			link := h.Links()[0].SpanContext
			if link.TraceID() != appendSpan.SpanContext().TraceID() || link.SpanID() != appendSpan.SpanContext().SpanID() {
				t.Errorf("Handle links to %s/%s, want the append span %s/%s", link.TraceID(), link.SpanID(),
					appendSpan.SpanContext().TraceID(), appendSpan.SpanContext().SpanID())
			}
			if h.SpanContext().TraceID() == appendSpan.SpanContext().TraceID() {
				t.Error("Handle span is in the append's trace; it should link to it from the batch's")
			}
		case "o-2":
			if len(h.Links()) != 0 {
				t.Errorf("Handle of an event appended without a span links to %v", h.Links())
			}
		default:
			t.Errorf("Handle span of %q", a["chronicle.aggregate.id"])
		}
		if id := a["messaging.message.id"]; uuid.MustParse(id) == uuid.Nil {
			t.Errorf("messaging.message.id %q", id)
		}
	}

	m := tel.collect(t)
	handled := sumPoints(t, m["chronicle.consumer.events.handled"])
	if len(handled) != 1 || handled[0].Value != 3 {
		t.Fatalf("events handled: %+v, want 3", handled)
	}
	wantAttrs(t, "events handled", handled[0].Attributes.ToSlice(), map[string]string{"messaging.consumer.group.name": "order-log"})
	var count uint64
	for _, pt := range histogramPoints(t, m["chronicle.consumer.batch.duration"]) {
		count += pt.Count
	}
	if count != uint64(len(batches)) {
		t.Fatalf("batch duration counts %d batches, spans %d", count, len(batches))
	}
}

func TestHandlerFailuresAndStopsAreCounted(t *testing.T) {
	tel := newTelemetry(t)
	mem := memory.NewStore()
	if err := inTx(t, mem, func(tx *memory.Tx) error {
		_, err := mem.Append(context.Background(), tx, core.NoStream(), orderEvents("o-1", 1))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	broken := newRecorder("broken")
	broken.fail = func(core.PersistedEvent) error { return errors.New("no such table") }
	panicky := newRecorder("panicky")
	panicky.fail = func(core.PersistedEvent) error { panic("boom") }
	stopped := make(chan string, 2)
	cfg := otelchronicle.InstrumentConfig(consumer.Config{
		MaxAttempts: 2, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond,
		OnStop: func(name string, _ error) { stopped <- name },
	}, tel.options()...)
	p, err := consumer.NewProcessor[*memory.Tx](mem, []consumer.Consumer[*memory.Tx]{
		otelchronicle.WrapConsumer[*memory.Tx](broken, tel.options()...),
		otelchronicle.WrapConsumer[*memory.Tx](panicky, tel.options()...),
	}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	stop := runProcessor(t, p)
	for range 2 {
		select {
		case <-stopped:
		case <-time.After(10 * time.Second):
			t.Fatal("the consumers did not stop")
		}
	}
	stop()

	for _, b := range tel.ended(otelchronicle.SpanBatch) {
		if b.Status().Code != codes.Error {
			t.Errorf("batch span status %v, want Error", b.Status())
		}
		wantAttrs(t, "failed batch span", b.Attributes(), map[string]string{"error.type": otelchronicle.ErrorTypeHandler})
	}
	byConsumer := map[string][]sdktrace.ReadOnlySpan{}
	for _, h := range tel.ended(otelchronicle.SpanHandle) {
		name := attrs(h.Attributes())["messaging.consumer.group.name"]
		byConsumer[name] = append(byConsumer[name], h)
	}
	for name, errType := range map[string]string{"broken": "*errors.errorString", "panicky": "panic"} {
		spans := byConsumer[name]
		if len(spans) != 2 {
			t.Fatalf("%s: %d Handle spans, want 2", name, len(spans))
		}
		for _, h := range spans {
			if h.Status().Code != codes.Error {
				t.Errorf("%s: Handle status %v", name, h.Status())
			}
			wantAttrs(t, name+" Handle span", h.Attributes(), map[string]string{"error.type": errType})
		}
	}

	m := tel.collect(t)
	for metric, want := range map[string]int64{"chronicle.consumer.handler.failures": 2, "chronicle.consumer.stops": 1} {
		points := sumPoints(t, m[metric])
		got := map[string]int64{}
		for _, pt := range points {
			v, _ := pt.Attributes.Value("messaging.consumer.group.name")
			got[v.AsString()] = pt.Value
		}
		if got["broken"] != want || got["panicky"] != want || len(got) != 2 {
			t.Errorf("%s: %v, want %d for each consumer", metric, got, want)
		}
	}
	for _, pt := range histogramPoints(t, m["chronicle.consumer.batch.duration"]) {
		if v, _ := pt.Attributes.Value("error.type"); v.AsString() != otelchronicle.ErrorTypeHandler || pt.Count != 2 {
			t.Errorf("batch duration point %v count %d, want error.type handler and 2", pt.Attributes.ToSlice(), pt.Count)
		}
	}
	if _, ok := m["chronicle.consumer.events.handled"]; ok {
		t.Error("events handled recorded without a committed batch")
	}
}

func TestPartitionedConsumerSpansCarryTheirPartition(t *testing.T) {
	tel := newTelemetry(t)
	mem := memory.NewStore()
	events := orderEvents("o-7", 2)
	if err := inTx(t, mem, func(tx *memory.Tx) error {
		_, err := mem.Append(context.Background(), tx, core.NoStream(), events)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	rec := newRecorder("order-log")
	wrapped := otelchronicle.WrapConsumer[*memory.Tx](consumer.Partitioned[*memory.Tx](rec, 4), tel.options()...)
	pc, partitioned := wrapped.(consumer.PartitionedConsumer[*memory.Tx])
	_, scoped := wrapped.(consumer.ScopedConsumer[*memory.Tx])
	if !partitioned || !scoped || pc.Partitions() != 4 {
		t.Fatalf("WrapConsumer of a scoped consumer of 4 partitions gave %T (partitioned %v, scoped %v)", wrapped, partitioned, scoped)
	}
	cfg := otelchronicle.InstrumentConfig(consumer.Config{PollInterval: 10 * time.Millisecond}, tel.options()...)
	p, err := consumer.NewProcessor[*memory.Tx](mem, []consumer.Consumer[*memory.Tx]{wrapped}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	stop := runProcessor(t, p)
	rec.waitFor(t, 2)
	stop()
	want := fmt.Sprint(core.PartitionOf("Order", "o-7", 4))
	for _, name := range []string{otelchronicle.SpanHandle, otelchronicle.SpanBatch} {
		spans := tel.ended(name)
		if len(spans) == 0 {
			t.Fatalf("no %s span", name)
		}
		got := attrs(spans[0].Attributes())
		if got["messaging.destination.partition.id"] != want || got["messaging.consumer.group.name"] != "order-log" {
			t.Errorf("%s span: partition %q group %q, want partition %s of order-log", name,
				got["messaging.destination.partition.id"], got["messaging.consumer.group.name"], want)
		}
	}
}
