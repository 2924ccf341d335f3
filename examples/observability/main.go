// Command observability traces and measures Chronicle with OpenTelemetry
// on PostgreSQL: a request appends a shipment's events through a traced
// store, a consumer handles them in a traced batch whose Handle spans link
// back to the append, and the metrics are served to Prometheus on
// /metrics. It prints each span as it ends and then the chronicle_ lines
// of its own /metrics page. It connects to $DATABASE_URL; -serve keeps
// serving /metrics on -addr until interrupted.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/chronicle-go/chronicle/adapters/postgres-pgx" // package postgres
	"github.com/chronicle-go/chronicle/consumer"
	"github.com/chronicle-go/chronicle/core"
	otelchronicle "github.com/chronicle-go/chronicle/otel"
)

// shipments is a consumer of Shipment events. A real one would write a
// read model through tx.
type shipments struct{}

func (shipments) Name() string             { return "shipments" }
func (shipments) AggregateTypes() []string { return []string{"Shipment"} }

func (shipments) Handle(context.Context, pgx.Tx, core.PersistedEvent) error { return nil }

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "address to serve /metrics on")
	serve := flag.Bool("serve", false, "keep serving /metrics after the run, until interrupted")
	flag.Parse()
	ctx := context.Background()

	// Traces: every ended span printed on one line (an OTLP exporter in
	// production). Metrics: a Prometheus registry of its own, served below.
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(&linePrinter{}))
	registry := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(registry), otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
	if err != nil {
		log.Fatalf("making the Prometheus exporter: %v", err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	defer func() { _ = tp.Shutdown(ctx); _ = mp.Shutdown(ctx) }()
	telemetry := []otelchronicle.Option{otelchronicle.WithTracerProvider(tp), otelchronicle.WithMeterProvider(mp)}

	listener, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("listening on %s: %v", *addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
	server := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = server.Serve(listener) }()
	defer func() { _ = server.Close() }()
	metricsURL := "http://" + listener.Addr().String() + "/metrics"

	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatalf("connecting: %v", err)
	}
	defer pool.Close()
	pgStore, err := postgres.NewStore(postgres.NewStoreConfig(postgres.WithNotifyChannel("chronicle_events")))
	if err != nil {
		log.Fatalf("configuring the store: %v", err)
	}
	ddl, err := pgStore.SchemaSQL(postgres.SchemaOptions{})
	if err != nil {
		log.Fatalf("generating the schema: %v", err)
	}
	if _, err := pool.Exec(ctx, ddl); err != nil {
		log.Fatalf("applying the schema: %v", err)
	}
	// The traced store for appends and reads; the consumer store takes the
	// adapter's own.
	store := otelchronicle.WrapStore[pgx.Tx](pgStore, telemetry...)
	consumers, err := postgres.NewConsumerStore(pool, pgStore)
	if err != nil {
		log.Fatalf("configuring the consumer store: %v", err)
	}
	handled := make(chan int, 16)
	cfg := otelchronicle.InstrumentConfig(consumer.Config{
		OnBatch: func(r consumer.BatchReport) { handled <- r.Events },
	}, telemetry...)
	processor, err := consumer.NewProcessor[pgx.Tx](consumers,
		[]consumer.Consumer[pgx.Tx]{otelchronicle.WrapConsumer[pgx.Tx](shipments{}, telemetry...)}, cfg)
	if err != nil {
		log.Fatalf("configuring the processor: %v", err)
	}
	// Lag from the processor's status. Every scrape reads it here, to show
	// it change; keep the default interval (15s) in production.
	lag, err := otelchronicle.ObserveLag(processor, append(telemetry, otelchronicle.WithLagInterval(time.Nanosecond))...)
	if err != nil {
		log.Fatalf("observing the lag: %v", err)
	}
	defer func() { _ = lag.Unregister() }()

	// A request appends three events of a new shipment in its own span.
	reqCtx, request := tp.Tracer("example").Start(ctx, "POST /shipments")
	if err := ship(reqCtx, pool, store, "shipment-"+uuid.NewString()[:8]); err != nil {
		log.Fatalf("appending: %v", err)
	}
	request.End()
	if err := printMetrics(ctx, metricsURL, "before the consumer runs", "chronicle_consumer_lag"); err != nil {
		log.Fatalf("scraping: %v", err)
	}

	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- processor.Run(runCtx) }()
	for n := 0; n < 3; {
		select {
		case events := <-handled:
			n += events
		case <-time.After(30 * time.Second):
			log.Fatal("the consumer did not handle the shipment's events within 30s")
		}
	}
	stop()
	if err := <-done; err != nil {
		log.Fatalf("running the processor: %v", err)
	}
	if err := printMetrics(ctx, metricsURL, "after it ran", "chronicle_"); err != nil {
		log.Fatalf("scraping: %v", err)
	}

	if *serve {
		fmt.Println("serving", metricsURL, "until interrupted")
		sig, cancel := signal.NotifyContext(ctx, os.Interrupt)
		defer cancel()
		<-sig.Done()
	}
}

// ship appends a shipment's three events in one transaction.
func ship(ctx context.Context, pool *pgxpool.Pool, store core.Store[pgx.Tx], id string) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	var events []core.Event
	for _, typ := range []string{"ShipmentCreated", "ParcelPacked", "ShipmentDispatched"} {
		events = append(events, core.Event{AggregateType: "Shipment", AggregateID: id, EventID: uuid.New(), EventType: typ})
	}
	if _, err := store.Append(ctx, tx, core.NoStream(), events); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// printMetrics prints the lines of the /metrics page that start with
// prefix, leaving out the histograms' buckets.
func printMetrics(ctx context.Context, url, when, prefix string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	fmt.Printf("/metrics %s:\n", when)
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, prefix) && !strings.Contains(line, "_bucket{") {
			fmt.Println("  " + line)
		}
	}
	return sc.Err()
}

// linePrinter is a span exporter that prints each span on one line: its
// name, trace and span id, parent and links, and what it carries.
type linePrinter struct{ mu sync.Mutex }

func (p *linePrinter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range spans {
		line := fmt.Sprintf("span %-26s trace %s span %s", s.Name(), s.SpanContext().TraceID(), s.SpanContext().SpanID())
		if s.Parent().IsValid() {
			line += " parent " + s.Parent().SpanID().String()
		}
		for _, l := range s.Links() {
			line += " link " + l.SpanContext.TraceID().String() + "/" + l.SpanContext.SpanID().String()
		}
		for _, kv := range s.Attributes() {
			switch kv.Key {
			case "chronicle.append.outcome", "chronicle.event.type", "messaging.batch.message_count":
				line += fmt.Sprintf(" %s=%s", kv.Key, kv.Value.String())
			}
		}
		fmt.Println(line)
	}
	return nil
}

func (p *linePrinter) Shutdown(context.Context) error { return nil }
