package integration_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	pgxstore "github.com/chronicle-go/chronicle/adapters/postgres-pgx"
	pqstore "github.com/chronicle-go/chronicle/adapters/postgres-pq"
	"github.com/chronicle-go/chronicle/consumer"
	"github.com/chronicle-go/chronicle/core"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// The consumer processor end to end on PostgreSQL: a projection written in
// Handle through the batch's transaction, while four writers append to
// shared aggregates, equals the log exactly — no event skipped, none
// handled twice, every aggregate's versions in order. Two processors, as
// in two processes (separate pools), run the same consumer; the
// consumer's lease (an advisory lock) lets one batch run at a time.
func TestProcessorProjectsTheLogExactly(t *testing.T) {
	t.Run("pgx", func(t *testing.T) {
		t.Parallel()
		channel := newChannel()
		cs, store, names := newPgxConsumerStore(t, newPool(t, 0, 12), channel)
		other, err := pgxstore.NewConsumerStore(newPool(t, 0, 4), store)
		if err != nil {
			t.Fatal(err)
		}
		testProjection(t, []core.ConsumerStore[pgx.Tx]{cs, other}, store, qualified(names.Schema, "projection"),
			func(ctx context.Context, tx pgx.Tx, query string, args ...any) error {
				_, err := tx.Exec(ctx, query, args...)
				return err
			})
	})
	t.Run("lib-pq", func(t *testing.T) {
		t.Parallel()
		channel := newChannel()
		cs, store, names := newSQLConsumerStore(t, openDB(t, "postgres"), channel)
		other, err := pqstore.NewConsumerStore(openDB(t, "postgres"), store)
		if err != nil {
			t.Fatal(err)
		}
		testProjection(t, []core.ConsumerStore[*sql.Tx]{cs, other}, store, qualified(names.Schema, "projection"),
			func(ctx context.Context, tx *sql.Tx, query string, args ...any) error {
				_, err := tx.ExecContext(ctx, query, args...)
				return err
			})
	})
}

// projector writes one projection row per event through the batch's
// transaction. The table has no unique key, so a duplicate would show.
type projector[TX any] struct {
	table string
	exec  func(ctx context.Context, tx TX, query string, args ...any) error
}

func (p *projector[TX]) Name() string { return "projection" }

func (p *projector[TX]) Handle(ctx context.Context, tx TX, e core.PersistedEvent) error {
	return p.exec(ctx, tx, "INSERT INTO "+p.table+" (event_id, aggregate_id, aggregate_version) VALUES ($1::uuid, $2::text, $3::bigint)",
		e.EventID.String(), e.AggregateID, e.AggregateVersion)
}

// testProjection runs one processor per consumer store in stores, all
// for the same consumer; the first store also serves the writers.
func testProjection[TX any](t *testing.T, stores []core.ConsumerStore[TX], store core.Store[TX], table string,
	exec func(ctx context.Context, tx TX, query string, args ...any) error) {
	const (
		writers    = 4
		perWriter  = 125
		aggregates = 10
	)
	ctx := testContext(t)
	// seq records the order in which rows were handled.
	execSQL(t, "CREATE TABLE "+table+" (seq bigint GENERATED ALWAYS AS IDENTITY, event_id uuid NOT NULL, aggregate_id text NOT NULL, aggregate_version bigint NOT NULL)")

	cs := stores[0]
	batches := make(chan consumer.BatchReport, 1000)
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan error, len(stores))
	for i, s := range stores {
		p, err := consumer.NewProcessor(s, []consumer.Consumer[TX]{&projector[TX]{table: table, exec: exec}}, consumer.Config{
			BatchSize:    40,
			PollInterval: 200 * time.Millisecond,
			Owner:        fmt.Sprintf("processor-%d", i),
			OnBatch: func(r consumer.BatchReport) {
				select {
				case batches <- r:
				default:
				}
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		go func() { ran <- p.Run(runCtx) }()
	}
	// stopAll stops the processors and checks that each Run returns nil.
	stopped := false
	stopAll := func() {
		if stopped {
			return
		}
		stopped = true
		stop()
		for range stores {
			select {
			case err := <-ran:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Error("Run did not return after its context ended")
			}
		}
	}
	defer stopAll()

	ids := make([]string, aggregates)
	for i := range ids {
		ids[i] = fmt.Sprintf("Order-%d-%s", i, uuid.NewString())
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Go(func() {
			if err := writeEvents(ctx, cs, store, ids, perWriter); err != nil {
				errs <- fmt.Errorf("writer %d: %w", w, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	total := writers * perWriter
	deadline := time.After(90 * time.Second)
	for n := 0; n < total; {
		select {
		case r := <-batches:
			n += r.Events
		case <-deadline:
			t.Fatalf("the processor handled %d of %d events in time", n, total)
		}
	}
	stopAll()

	log := readWholeLog(t, ctx, cs, store)
	projected := readProjection(t, ctx, table)
	if len(log) != total {
		t.Fatalf("the log holds %d events, want %d", len(log), total)
	}
	count := map[uuid.UUID]int{}
	for _, row := range projected {
		count[row.id]++
	}
	for _, e := range log {
		switch count[e.EventID] {
		case 0:
			t.Errorf("skipped: %s/%s version %d", e.AggregateType, e.AggregateID, e.AggregateVersion)
		case 1:
		default:
			t.Errorf("handled %d times: %s/%s version %d", count[e.EventID], e.AggregateType, e.AggregateID, e.AggregateVersion)
		}
		delete(count, e.EventID)
	}
	if len(count) != 0 {
		t.Errorf("%d projected events are not in the log", len(count))
	}
	last := map[string]int64{}
	for _, row := range projected {
		if row.version != last[row.aggregate]+1 {
			t.Errorf("aggregate %s: version %d handled after version %d", row.aggregate, row.version, last[row.aggregate])
		}
		last[row.aggregate] = row.version
	}

	status, err := consumer.NewOperations(cs).Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(status) != 1 || status[0].Behind != 0 || status[0].Held || status[0].FailedAttempts != 0 {
		t.Errorf("status after the run: %+v; want one consumer, nothing behind, not held, no failures", status)
	}
}

// writeEvents appends n events in transactions of 1 to 3 events to random
// aggregates of ids, with Any, as concurrent writers do.
func writeEvents[TX any](ctx context.Context, cs core.ConsumerStore[TX], store core.Store[TX], ids []string, n int) error {
	for n > 0 {
		size := min(n, 1+rand.IntN(3))
		id := ids[rand.IntN(len(ids))]
		events := make([]core.Event, size)
		for i := range events {
			events[i] = core.Event{AggregateType: "Order", AggregateID: id, EventID: uuid.New(), EventType: "Happened", Payload: []byte(`{}`)}
		}
		tx, err := cs.Begin(ctx)
		if err != nil {
			return err
		}
		if _, err := store.Append(ctx, tx, core.Any(), events); err != nil {
			_ = cs.Rollback(ctx, tx)
			return err
		}
		if err := cs.Commit(ctx, tx); err != nil {
			return err
		}
		n -= size
	}
	return nil
}

func readWholeLog[TX any](t *testing.T, ctx context.Context, cs core.ConsumerStore[TX], store core.Store[TX]) []core.PersistedEvent {
	t.Helper()
	tx, err := cs.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cs.Rollback(ctx, tx) }()
	var all []core.PersistedEvent
	for from := int64(0); ; {
		page, err := store.ReadEvents(ctx, tx, from, 200)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if len(page) < 200 {
			return all
		}
		from = page[len(page)-1].GlobalPosition
	}
}

type projectedRow struct {
	id        uuid.UUID
	aggregate string
	version   int64
}

// readProjection returns the projection's rows in the order they were
// written.
func readProjection(t *testing.T, ctx context.Context, table string) []projectedRow {
	t.Helper()
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, "SELECT event_id, aggregate_id, aggregate_version FROM "+table+" ORDER BY seq")
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (r projectedRow, err error) {
		err = row.Scan(&r.id, &r.aggregate, &r.version)
		return r, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
