package otelchronicle_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/chronicle-go/chronicle/adapters/memory"
	"github.com/chronicle-go/chronicle/consumer"
	"github.com/chronicle-go/chronicle/core"
	otelchronicle "github.com/chronicle-go/chronicle/otel"
)

// countingSource counts the Status calls it passes on.
type countingSource struct {
	next  otelchronicle.StatusSource
	calls atomic.Int32
	err   error
}

func (c *countingSource) Status(ctx context.Context) ([]consumer.Status, error) {
	c.calls.Add(1)
	if c.err != nil {
		return nil, c.err
	}
	return c.next.Status(ctx)
}

func gaugePoints[N int64 | float64](t *testing.T, m map[string]metricdata.Metrics, name string) map[string]N {
	t.Helper()
	g, ok := m[name].Data.(metricdata.Gauge[N])
	if !ok {
		t.Fatalf("%s is a %T, want a gauge", name, m[name].Data)
	}
	out := map[string]N{}
	for _, p := range g.DataPoints {
		v, _ := p.Attributes.Value("messaging.consumer.group.name")
		out[v.AsString()] = p.Value
	}
	return out
}

func TestLagGaugesReadTheStatusOncePerInterval(t *testing.T) {
	tel := newTelemetry(t)
	// Events made an hour ago, by the store's clock.
	created := time.Now().Add(-time.Hour)
	mem := memory.NewStore(memory.WithClock(func() time.Time { return created }))
	if err := inTx(t, mem, func(tx *memory.Tx) error {
		if _, err := mem.Append(context.Background(), tx, core.NoStream(), orderEvents("o-1", 4)); err != nil {
			return err
		}
		_, err := mem.Append(context.Background(), tx, core.NoStream(), []core.Event{{AggregateType: "User", AggregateID: "u", EventID: uuid.New(), EventType: "E"}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	orders, all := newRecorder("orders"), everything{newRecorder("all")}
	p, err := consumer.NewProcessor[*memory.Tx](mem, []consumer.Consumer[*memory.Tx]{orders, all}, consumer.Config{})
	if err != nil {
		t.Fatal(err)
	}
	src := &countingSource{next: p}
	reg, err := otelchronicle.ObserveLag(src, append(tel.options(), otelchronicle.WithLagInterval(time.Hour))...)
	if err != nil {
		t.Fatal(err)
	}

	for range 3 {
		m := tel.collect(t)
		lag := gaugePoints[int64](t, m, "chronicle.consumer.lag")
		if lag["orders"] != 4 || lag["all"] != 5 || len(lag) != 2 {
			t.Fatalf("lag %v, want orders 4 (its scope) and all 5", lag)
		}
		age := gaugePoints[float64](t, m, "chronicle.consumer.lag.age")
		if a := age["orders"]; a < 3600 || a > 3600+60 {
			t.Fatalf("lag age %v, want about an hour", age)
		}
		if m["chronicle.consumer.lag.age"].Unit != "s" || m["chronicle.consumer.lag"].Unit != "{event}" {
			t.Fatalf("units %q and %q", m["chronicle.consumer.lag.age"].Unit, m["chronicle.consumer.lag"].Unit)
		}
	}
	if n := src.calls.Load(); n != 1 {
		t.Fatalf("three collections within the interval read the status %d times, want once", n)
	}
	if err := reg.Unregister(); err != nil {
		t.Fatal(err)
	}
	if _, ok := tel.collect(t)["chronicle.consumer.lag"]; ok {
		t.Fatal("lag observed after Unregister")
	}
}

// everything is a recorder of every aggregate type.
type everything struct{ *recorder }

func (everything) AggregateTypes() []string { return nil }

func TestLagReadFailureIsReportedToTheCollection(t *testing.T) {
	tel := newTelemetry(t)
	mem := memory.NewStore()
	p, err := consumer.NewProcessor[*memory.Tx](mem, []consumer.Consumer[*memory.Tx]{newRecorder("orders")}, consumer.Config{})
	if err != nil {
		t.Fatal(err)
	}
	down := errors.New("connection refused")
	src := &countingSource{next: p, err: down}
	if _, err := otelchronicle.ObserveLag(src, append(tel.options(), otelchronicle.WithLagInterval(time.Nanosecond))...); err != nil {
		t.Fatal(err)
	}
	var rm metricdata.ResourceMetrics
	if err := tel.reader.Collect(context.Background(), &rm); !errors.Is(err, down) {
		t.Fatalf("Collect: %v, want the status error", err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if g, ok := m.Data.(metricdata.Gauge[int64]); ok && len(g.DataPoints) > 0 {
				t.Fatalf("%s observed %v after a failed read", m.Name, g.DataPoints)
			}
		}
	}
	// Past the interval, the next collection reads again and recovers.
	src.err = nil
	if lag := gaugePoints[int64](t, tel.collect(t), "chronicle.consumer.lag"); lag["orders"] != 0 || len(lag) != 1 {
		t.Fatalf("lag %v after recovery, want orders 0", lag)
	}
	if n := src.calls.Load(); n != 2 {
		t.Fatalf("%d status reads, want 2", n)
	}
	if _, err := otelchronicle.ObserveLag(nil); !errors.Is(err, core.ErrInvalidArgument) {
		t.Fatalf("ObserveLag(nil): %v", err)
	}
}
