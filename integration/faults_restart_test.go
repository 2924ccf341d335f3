package integration_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	pgxstore "github.com/chronicle-go/chronicle/adapters/postgres-pgx"
	"github.com/chronicle-go/chronicle/core"
	"github.com/chronicle-go/chronicle/internal/pgstore"
	"github.com/chronicle-go/chronicle/internal/pgtest"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TestFaultServerRestart restarts the server under a running processor
// (LISTEN included) on a cluster of the test's own: the processor
// reconnects by itself and the projection ends with every event once.
func TestFaultServerRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	server, pool, ppool := ownClusterPools(t, ctx, "restart")
	store, err := pgxstore.NewStore(pgxConfig(pgstore.DefaultNames(), pgxstore.WithNotifyChannel("restart_events")))
	if err != nil {
		t.Fatal(err)
	}
	table := createProjection(t, ctx, pool, "public", "restart_projection")
	stop := startProcessor(t, newProcessor(t, ppool, store, fastRetries, &rowProjector{name: "restart", table: table}))
	defer func() { _ = stop() }()

	var all []core.PersistedEvent
	all = append(all, appendRetrying(t, ctx, pool, store, 20)...)
	waitRows(t, ctx, pool, table, len(all), time.Minute)
	if err := server.Restart(ctx); err != nil {
		t.Fatalf("restarting the server: %v", err)
	}
	all = append(all, appendRetrying(t, ctx, pool, store, 20)...)
	waitRows(t, ctx, pool, table, len(all), time.Minute)
	if err := stop(); err != nil {
		t.Fatalf("Run across the restart: %v", err)
	}
	if v := judge(committedIDs(all), projectionRows(t, ctx, pool, table)); v != (verdict{}) {
		t.Fatalf("projection across the restart: %+v", v)
	}
}

// appendRetrying commits n single-event appends, retrying each in a new
// transaction while the pool still hands out connections the restart
// closed.
func appendRetrying(t *testing.T, ctx context.Context, pool *pgxpool.Pool, store *pgxstore.Store, n int) []core.PersistedEvent {
	t.Helper()
	var out []core.PersistedEvent
	for range n {
		e := core.Event{AggregateType: "Order", AggregateID: "o-1", EventID: uuid.New(), EventType: "Happened"}
		deadline := time.Now().Add(time.Minute)
		for {
			res, err := func() (core.AppendResult, error) {
				tx, err := pool.Begin(ctx)
				if err != nil {
					return core.AppendResult{}, err
				}
				defer func() { _ = tx.Rollback(context.Background()) }()
				res, err := store.Append(ctx, tx, core.Any(), []core.Event{e})
				if err != nil {
					return res, err
				}
				return res, tx.Commit(ctx)
			}()
			if err == nil {
				out = append(out, res.Events...)
				break
			}
			if errors.Is(err, core.ErrDuplicateEvent) {
				// The commit that failed had reached the server.
				out = append(out, core.PersistedEvent{EventID: e.EventID, AggregateID: e.AggregateID})
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("appending after the restart: %v", err)
			}
			time.Sleep(20 * time.Millisecond) // a retry's backoff while the server comes back
		}
	}
	return out
}

// TestFaultServerCrashUnderCatchUp crashes a durable server (fsync and
// synchronous_commit on, the defaults) in immediate mode while a processor
// catches up in small batches, which commit without waiting for their WAL
// flush: the crash may lose the last batches, each whole — the projection
// rows written in the batch transaction with the cursor — so after the
// restart the processor delivers those events again and the projection
// still holds every event once.
func TestFaultServerCrashUnderCatchUp(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	server, pool, ppool := ownClusterPools(t, ctx, "crash", pgtest.Durable())
	store, err := pgxstore.NewStore(pgxConfig(pgstore.DefaultNames()))
	if err != nil {
		t.Fatal(err)
	}
	table := createProjection(t, ctx, pool, "public", "crash_projection")
	const total = 4000
	all := appendCommitted(t, ctx, pool, store, total)
	cfg := fastRetries
	cfg.BatchSize = 20
	stop := startProcessor(t, newProcessor(t, ppool, store, cfg, &rowProjector{name: "crash", table: table}))
	defer func() { _ = stop() }()
	// Crash once a quarter of the log is projected: batches are then
	// committing one after another.
	waitRows(t, ctx, pool, table, total/4, time.Minute)
	if err := server.Crash(ctx); err != nil {
		t.Fatalf("crashing the server: %v", err)
	}
	pool.Reset() // its connections died with the server
	waitRows(t, ctx, pool, table, total, 2*time.Minute)
	if err := stop(); err != nil {
		t.Fatalf("Run across the crash: %v", err)
	}
	if v := judge(committedIDs(all), projectionRows(t, ctx, pool, table)); v != (verdict{}) {
		t.Fatalf("projection across the crash: %+v", v)
	}
}

// appendCommitted appends n events to one aggregate in one transaction
// and commits it.
func appendCommitted(t *testing.T, ctx context.Context, pool *pgxpool.Pool, store *pgxstore.Store, n int) []core.PersistedEvent {
	t.Helper()
	events := make([]core.Event, n)
	for i := range events {
		events[i] = core.Event{AggregateType: "Order", AggregateID: "o-1", EventID: uuid.New(), EventType: "Happened"}
	}
	var res core.AppendResult
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var err error
		res, err = store.Append(ctx, tx, core.NoStream(), events)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return res.Events
}

// ownClusterPools starts a cluster of the test's own (closed when the test
// ends) with opts, creates database name on it with the default schema,
// and returns it with two pools on the database: one for the test, one for
// a processor.
func ownClusterPools(t *testing.T, ctx context.Context, name string, opts ...pgtest.ClusterOption) (*pgtest.Server, *pgxpool.Pool, *pgxpool.Pool) {
	t.Helper()
	needDatabase(t)
	server, err := pgtest.StartCluster(ctx, opts...)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI needs the PostgreSQL binaries for this test: %v", err)
		}
		t.Skipf("no cluster of the test's own: %v", err)
	}
	t.Cleanup(func() { _ = server.Close() })
	url, err := server.CreateDatabase(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	ddl, err := pgstore.SchemaSQL(pgstore.DefaultNames(), pgstore.SchemaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pools := make([]*pgxpool.Pool, 2)
	for i := range pools {
		if pools[i], err = pgxpool.New(ctx, url); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pools[i].Close)
	}
	if _, err := pools[0].Exec(ctx, ddl, pgx.QueryExecModeSimpleProtocol); err != nil {
		t.Fatal(err)
	}
	return server, pools[0], pools[1]
}
