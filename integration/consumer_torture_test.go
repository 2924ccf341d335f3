package integration_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pgxstore "github.com/chronicle-go/chronicle/adapters/postgres-pgx"
	"github.com/chronicle-go/chronicle/consumer"
	"github.com/chronicle-go/chronicle/core"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

var tortureDuration = flag.Duration("torture.duration", 20*time.Second, "how long the consumer torture test writes")

// rowProjector is a consumer whose Handle writes one projection row per event
// through the processor's transaction.
type rowProjector struct {
	name  string
	table string
	// calls counts Handle calls, committed or not.
	calls atomic.Int64
	// hook, when set, runs first in Handle.
	hook func(ctx context.Context, tx pgx.Tx, e core.PersistedEvent) error
}

func (p *rowProjector) Name() string { return p.name }

func (p *rowProjector) Handle(ctx context.Context, tx pgx.Tx, e core.PersistedEvent) error {
	p.calls.Add(1)
	if p.hook != nil {
		if err := p.hook(ctx, tx, e); err != nil {
			return err
		}
	}
	_, err := tx.Exec(ctx, "INSERT INTO "+p.table+" (event_id, aggregate_id, aggregate_version) VALUES ($1, $2, $3)",
		e.EventID.String(), e.AggregateID, e.AggregateVersion)
	return err
}

// createProjection makes a projection table in the store's schema; seq
// records the order rows were written in.
func createProjection(t testing.TB, ctx context.Context, pool *pgxpool.Pool, schema, name string) string {
	t.Helper()
	table := pgx.Identifier{schema, name}.Sanitize()
	if _, err := pool.Exec(ctx, "CREATE TABLE "+table+
		" (seq bigserial PRIMARY KEY, event_id uuid NOT NULL, aggregate_id text NOT NULL, aggregate_version bigint NOT NULL)"); err != nil {
		t.Fatalf("creating projection: %v", err)
	}
	return table
}

// projected reads a projection in the order it was written.
func projectionRows(t testing.TB, ctx context.Context, pool *pgxpool.Pool, table string) []writtenRow {
	t.Helper()
	rows, err := pool.Query(ctx, "SELECT event_id::text, aggregate_id, aggregate_version FROM "+table+" ORDER BY seq")
	if err != nil {
		t.Fatalf("reading projection: %v", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (p writtenRow, err error) {
		err = r.Scan(&p.eventID, &p.aggregateID, &p.version)
		return p, err
	})
	if err != nil {
		t.Fatalf("reading projection: %v", err)
	}
	return out
}

// waitProjected waits until table holds want rows, or fails t when ctx
// ends first.
func waitProjected(t testing.TB, ctx context.Context, pool *pgxpool.Pool, table string, want int) {
	t.Helper()
	for {
		var n int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n >= want {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("projection has %d of %d events when the time ran out", n, want)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

type writtenRow struct {
	eventID, aggregateID string
	version              int64
}

// verdict compares a projection with the committed events.
type verdict struct {
	skipped, duplicated, extra, outOfOrder int
}

func judge(committed map[string]bool, rows []writtenRow) verdict {
	var v verdict
	seen := map[string]int{}
	last := map[string]int64{}
	for _, r := range rows {
		seen[r.eventID]++
		if seen[r.eventID] == 2 {
			v.duplicated++
		}
		if !committed[r.eventID] {
			v.extra++
		}
		if r.version <= last[r.aggregateID] {
			v.outOfOrder++
		}
		last[r.aggregateID] = r.version
	}
	for id := range committed {
		if seen[id] == 0 {
			v.skipped++
		}
	}
	return v
}

// runProcessor runs a processor over its own pool until the returned stop
// is called; stop returns Run's error.
func runProcessor(t *testing.T, store *pgxstore.Store, cfg consumer.Config, consumers ...consumer.Consumer[pgx.Tx]) (stop func() error) {
	t.Helper()
	return startProcessor(t, newProcessor(t, newPool(t, 0, 4), store, cfg, consumers...))
}

// newProcessor makes a processor for consumers over pool and store.
func newProcessor(t testing.TB, pool *pgxpool.Pool, store *pgxstore.Store, cfg consumer.Config, consumers ...consumer.Consumer[pgx.Tx]) *consumer.Processor[pgx.Tx] {
	t.Helper()
	cs, err := pgxstore.NewConsumerStore(pool, store)
	if err != nil {
		t.Fatalf("NewConsumerStore: %v", err)
	}
	p, err := consumer.NewProcessor[pgx.Tx](cs, consumers, cfg)
	if err != nil {
		t.Fatalf("NewProcessor: %v", err)
	}
	return p
}

// startProcessor runs p until the returned stop is called (at the latest
// when t ends); stop returns Run's error, or an error when Run does not
// return within 30s of the cancellation.
func startProcessor(t testing.TB, p *consumer.Processor[pgx.Tx]) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var once sync.Once
	var runErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(30 * time.Second):
				runErr = errors.New("processor did not stop within 30s")
			}
		})
		return runErr
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

// TestConsumerTorture runs writers that conflict, sleep inside their
// transactions, roll back, take their transaction ids early and hold one
// transaction open for 2s, while two processors share one consumer. The
// projection must equal the committed events exactly, each aggregate in
// version order. A naive consumer that checkpoints the highest position it
// has read runs beside it and must be shown to skip.
func TestConsumerTorture(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), *tortureDuration+3*time.Minute)
	defer cancel()
	store, names := newPgxStore(t, pgxstore.WithNotifyChannel("torture_"+uuid.NewString()[:8]))
	pool := newPool(t, 0, 16)
	table := createProjection(t, ctx, pool, names.Schema, "torture_projection")
	noise := pgx.Identifier{names.Schema, "noise"}.Sanitize()
	if _, err := pool.Exec(ctx, "CREATE TABLE "+noise+" (id bigserial PRIMARY KEY, note text)"); err != nil {
		t.Fatal(err)
	}

	proj := &rowProjector{name: "torture", table: table}
	cfg := consumer.Config{BatchSize: 50, PollInterval: 50 * time.Millisecond, InitialBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}
	stopA := runProcessor(t, store, cfg, proj)
	stopB := runProcessor(t, store, cfg, proj)

	var mu sync.Mutex
	committed := map[string]bool{}
	var appends, rollbacks, conflicts atomic.Int64
	record := func(res core.AppendResult) {
		mu.Lock()
		for _, e := range res.Events {
			committed[e.EventID.String()] = true
		}
		mu.Unlock()
	}
	aggregates := make([]string, 20)
	for i := range aggregates {
		aggregates[i] = fmt.Sprintf("hot-%02d-%s", i, uuid.NewString()[:8])
	}
	deadline := time.Now().Add(*tortureDuration)
	writeErr := make(chan error, 16)

	// writeOnce runs one writer transaction; it returns an error only for
	// a failure the test must report.
	writeOnce := func(rng *rand.Rand, long bool) error {
		agg := aggregates[rng.IntN(len(aggregates))]
		tx, err := pool.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(context.Background())
		if long || rng.IntN(5) == 0 {
			// Take a transaction id before appending, as an application
			// writing its own tables first would.
			if _, err := tx.Exec(ctx, "INSERT INTO "+noise+" (note) VALUES ('first')"); err != nil {
				return err
			}
		}
		time.Sleep(time.Duration(rng.IntN(10)) * time.Millisecond)
		expected := core.Any()
		if rng.IntN(2) == 0 {
			stream, err := store.ReadAggregateStream(ctx, tx, "Hot", agg, nil, nil)
			if err != nil {
				return err
			}
			expected = core.Exact(stream.Version())
		}
		events := make([]core.Event, 1+rng.IntN(3))
		for i := range events {
			events[i] = core.Event{AggregateType: "Hot", AggregateID: agg, EventID: uuid.New(), EventType: "Bumped", Payload: []byte(`{}`)}
		}
		res, err := store.Append(ctx, tx, expected, events)
		if errors.Is(err, core.ErrOptimisticConcurrency) {
			conflicts.Add(1)
			return nil // rolled back; the writer retries with a fresh transaction
		}
		if err != nil {
			return err
		}
		if long {
			time.Sleep(2 * time.Second)
		} else {
			time.Sleep(time.Duration(rng.IntN(20)) * time.Millisecond)
		}
		if rng.IntN(10) == 0 {
			rollbacks.Add(1)
			return tx.Rollback(ctx)
		}
		if err := tx.Commit(ctx); err != nil {
			return err
		}
		appends.Add(1)
		record(res)
		return nil
	}

	var writers sync.WaitGroup
	for w := range 8 {
		writers.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			for i := 0; time.Now().Before(deadline); i++ {
				if err := writeOnce(rng, w == 0 && i == 3); err != nil {
					writeErr <- fmt.Errorf("writer %d: %w", w, err)
					return
				}
			}
		})
	}

	// The naive consumer: the highest global position read is its checkpoint.
	naive := map[string]bool{}
	naiveStop, naiveDone := make(chan struct{}), make(chan error, 1)
	go func() {
		var from int64
		for {
			stopping := false
			select {
			case <-naiveStop:
				stopping = true // one last read once every writer has finished
			case <-time.After(5 * time.Millisecond):
			}
			tx, err := pool.Begin(ctx)
			if err != nil {
				naiveDone <- err
				return
			}
			batch, err := store.ReadEvents(ctx, tx, from, 10000)
			_ = tx.Rollback(ctx)
			if err != nil {
				naiveDone <- err
				return
			}
			for _, e := range batch {
				naive[e.EventID.String()] = true
				from = max(from, e.GlobalPosition)
			}
			if stopping {
				naiveDone <- nil
				return
			}
		}
	}()

	writers.Wait()
	close(naiveStop)
	if err := <-naiveDone; err != nil {
		t.Fatalf("naive consumer: %v", err)
	}
	close(writeErr)
	for err := range writeErr {
		t.Fatal(err)
	}

	// Wait until the processors have caught up with every committed event.
	want := len(committed)
	waitProjected(t, ctx, pool, table, want)
	if err := errors.Join(stopA(), stopB()); err != nil {
		t.Fatal(err)
	}

	v := judge(committed, projectionRows(t, ctx, pool, table))
	naiveSkipped := 0
	for id := range committed {
		if !naive[id] {
			naiveSkipped++
		}
	}
	t.Logf("committed transactions %d (events %d), rolled back %d, conflicts %d, handler calls %d; naive consumer skipped %d",
		appends.Load(), want, rollbacks.Load(), conflicts.Load(), proj.calls.Load(), naiveSkipped)
	if v != (verdict{}) {
		t.Fatalf("projection differs from the log: %+v", v)
	}
	if naiveSkipped == 0 {
		t.Fatalf("the naive max-position consumer skipped nothing: the load did not create the gaps this test is about")
	}
	if appends.Load() < 100 || rollbacks.Load() == 0 {
		t.Fatalf("load too light to mean anything: %d commits, %d rollbacks", appends.Load(), rollbacks.Load())
	}
}
