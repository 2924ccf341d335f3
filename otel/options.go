package otelchronicle

import (
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// ScopeName is the instrumentation scope of every tracer and meter this
// package creates: the module's path.
const ScopeName = "github.com/chronicle-go/chronicle/otel"

// Option configures WrapStore, WrapConsumer, InstrumentConfig and
// ObserveLag.
type Option func(*config)

type config struct {
	tracerProvider trace.TracerProvider
	meterProvider  metric.MeterProvider
	lagInterval    time.Duration
	lagTimeout     time.Duration
}

// WithTracerProvider sets the provider of the tracer spans come from.
// Default (nil, or the option left out): the global provider,
// otel.GetTracerProvider(), which records nothing until the application
// sets one with otel.SetTracerProvider (also after the wrapping: the
// global provider forwards to it).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) { c.tracerProvider = tp }
}

// WithMeterProvider sets the provider of the meter the instruments come
// from. Default (nil, or the option left out): the global provider,
// otel.GetMeterProvider(), which records nothing until the application
// sets one with otel.SetMeterProvider.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.meterProvider = mp }
}

// WithLagInterval sets how long ObserveLag reuses the consumers' status
// it read: a collection within d of the last read reports the same
// values, so that a scrape costs no query more often than once per d.
// Default (zero or negative): 15s.
func WithLagInterval(d time.Duration) Option {
	return func(c *config) { c.lagInterval = d }
}

// WithLagTimeout bounds the status read of one collection of ObserveLag
// (on top of the collection's own context). Default (zero or negative):
// 10s.
func WithLagTimeout(d time.Duration) Option {
	return func(c *config) { c.lagTimeout = d }
}

func newConfig(opts []Option) config {
	var c config
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if c.tracerProvider == nil {
		c.tracerProvider = otel.GetTracerProvider()
	}
	if c.meterProvider == nil {
		c.meterProvider = otel.GetMeterProvider()
	}
	if c.lagInterval <= 0 {
		c.lagInterval = 15 * time.Second
	}
	if c.lagTimeout <= 0 {
		c.lagTimeout = 10 * time.Second
	}
	return c
}

func (c config) tracer() trace.Tracer {
	return c.tracerProvider.Tracer(ScopeName, trace.WithSchemaURL(schemaURL))
}

func (c config) meter() metric.Meter {
	return c.meterProvider.Meter(ScopeName, metric.WithSchemaURL(schemaURL))
}
