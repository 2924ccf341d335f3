package otelchronicle

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/chronicle-go/chronicle/consumer"
	"github.com/chronicle-go/chronicle/core"
)

// StatusSource reports consumers' status: a *consumer.Processor (its
// consumers, lag counted within each one's scope) or a
// *consumer.Operations (every consumer with a checkpoint, lag over every
// aggregate type).
type StatusSource interface {
	Status(ctx context.Context) ([]consumer.Status, error)
}

// ObserveLag registers two observable gauges fed from src.Status:
// chronicle.consumer.lag, the committed events each consumer has not yet
// handled (exact up to core.LagExactLimit, estimated beyond), and
// chronicle.consumer.lag.age, the age in seconds of the oldest of them
// (now minus its CreatedAt; 0 when caught up), each per consumer
// (messaging.consumer.group.name).
//
// Cost: one Status call reads every checkpoint and, per consumer, counts
// at most core.LagExactLimit undelivered events and looks up the writers
// its cursor waits for, in one transaction: a few milliseconds for a
// handful of consumers, whatever the lag. ObserveLag calls it at most once
// per WithLagInterval (default 15s), within the collection that finds the
// values older than that, bounded by WithLagTimeout (default 10s); other
// collections report the values it read last. A failed read is reported
// to the collection (and so to OpenTelemetry's error handler), observes
// nothing, and is tried again after the interval.
//
// Unregister the returned registration to stop observing. A nil src is
// core.ErrInvalidArgument.
func ObserveLag(src StatusSource, opts ...Option) (metric.Registration, error) {
	if src == nil {
		return nil, &core.InvalidArgumentError{Argument: "src", Reason: "otelchronicle.ObserveLag needs a status source: a *consumer.Processor or *consumer.Operations"}
	}
	c := newConfig(opts)
	m := c.meter()
	events, err := m.Int64ObservableGauge("chronicle.consumer.lag",
		metric.WithUnit("{event}"),
		metric.WithDescription("Committed events the consumer has not handled yet (estimated beyond 1000)."))
	if err != nil {
		return nil, err
	}
	age, err := m.Float64ObservableGauge("chronicle.consumer.lag.age",
		metric.WithUnit("s"),
		metric.WithDescription("Age of the oldest event the consumer has not handled yet; 0 when caught up."))
	if err != nil {
		return nil, err
	}
	l := &lagCache{src: src, interval: c.lagInterval, timeout: c.lagTimeout}
	return m.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		statuses, err := l.get(ctx)
		if err != nil {
			return err
		}
		now := time.Now()
		for _, s := range statuses {
			attrs := metric.WithAttributes(consumerAttrs(s.ConsumerName)...)
			o.ObserveInt64(events, s.Behind, attrs)
			a := 0.0
			if !s.OldestBehind.IsZero() {
				a = max(now.Sub(s.OldestBehind).Seconds(), 0)
			}
			o.ObserveFloat64(age, a, attrs)
		}
		return nil
	}, events, age)
}

// lagCache holds the last status read, so that collections within the
// interval cost no query.
type lagCache struct {
	src      StatusSource
	interval time.Duration
	timeout  time.Duration

	mu       sync.Mutex // held across a read: concurrent collections wait for it
	read     time.Time  // when the last read finished; zero before the first
	statuses []consumer.Status
	err      error
}

func (l *lagCache) get(ctx context.Context) ([]consumer.Status, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.read.IsZero() || time.Since(l.read) >= l.interval {
		ctx, cancel := context.WithTimeout(ctx, l.timeout)
		defer cancel()
		l.statuses, l.err = l.src.Status(ctx)
		l.read = time.Now()
	}
	return l.statuses, l.err
}
