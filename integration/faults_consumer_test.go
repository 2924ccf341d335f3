package integration_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pgxstore "github.com/chronicle-go/chronicle/adapters/postgres-pgx"
	"github.com/chronicle-go/chronicle/consumer"
	"github.com/chronicle-go/chronicle/core"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// errorLog is a slog.Handler keeping the errors the processor logs at
// error level (the "error" attributes).
type errorLog struct {
	mu     sync.Mutex
	errors []error
}

func (l *errorLog) Enabled(_ context.Context, level slog.Level) bool { return level >= slog.LevelError }

func (l *errorLog) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if err, ok := a.Value.Any().(error); ok && a.Key == "error" {
			l.mu.Lock()
			l.errors = append(l.errors, err)
			l.mu.Unlock()
		}
		return true
	})
	return nil
}

func (l *errorLog) WithAttrs([]slog.Attr) slog.Handler { return l }

func (l *errorLog) WithGroup(string) slog.Handler { return l }

func (l *errorLog) all() []error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]error(nil), l.errors...)
}

// TestFaultConsumerBatchConnectionKilled terminates the backend of the only
// processor in the middle of a batch: the batch rolls back, the processor
// logs the connection's error, retries on a new connection and the
// projection ends exact.
func TestFaultConsumerBatchConnectionKilled(t *testing.T) {
	ctx := testContext(t)
	store, names := newPgxStore(t)
	pool := newPool(t, 0, 8)
	table := createProjection(t, ctx, pool, names.Schema, "killed_batch_projection")
	events := appendN(t, ctx, pool, store, "Order", "o-1", 20)

	victim := make(chan int64, 1)
	killed := make(chan struct{})
	var once atomic.Bool
	proj := &rowProjector{name: "killed-batch", table: table, hook: func(ctx context.Context, tx pgx.Tx, e core.PersistedEvent) error {
		if e.AggregateVersion != 7 || !once.CompareAndSwap(false, true) {
			return nil
		}
		var pid int64
		if err := tx.QueryRow(ctx, "SELECT pg_backend_pid()::bigint").Scan(&pid); err != nil {
			return err
		}
		victim <- pid
		<-killed
		return nil
	}}
	log := &errorLog{}
	cfg := fastRetries
	cfg.Logger = slog.New(log)
	stop := runProcessor(t, store, cfg, proj)
	select {
	case pid := <-victim:
		// Versions 1..6 of the batch are in the projection's uncommitted
		// rows only; none may survive the kill.
		terminateBackend(t, ctx, pid)
		if n := len(projectionRows(t, ctx, pool, table)); n != 0 {
			t.Fatalf("%d rows of the killed batch are visible", n)
		}
		close(killed)
	case <-ctx.Done():
		t.Fatal("no batch reached event 7")
	}
	waitRows(t, ctx, pool, table, len(events), time.Minute)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if v := judge(committedIDs(events), projectionRows(t, ctx, pool, table)); v != (verdict{}) {
		t.Fatalf("projection after the kill: %+v", v)
	}
	if len(log.all()) == 0 {
		t.Fatal("the killed batch logged no error")
	}
}

// TestFaultHandleStatementTimeout: a handler whose statement runs into
// statement_timeout fails its batch with the server's 57014 error, which
// the processor logs; the batch's writes roll back and the retry projects
// every event once.
func TestFaultHandleStatementTimeout(t *testing.T) {
	ctx := testContext(t)
	store, names := newPgxStore(t)
	pool := newPool(t, 0, 8)
	table := createProjection(t, ctx, pool, names.Schema, "timeout_projection")
	events := appendN(t, ctx, pool, store, "Order", "o-1", 10)

	var timedOut atomic.Bool
	proj := &rowProjector{name: "timeout", table: table, hook: func(ctx context.Context, tx pgx.Tx, e core.PersistedEvent) error {
		if e.AggregateVersion != 4 || !timedOut.CompareAndSwap(false, true) {
			return nil
		}
		if _, err := tx.Exec(ctx, "SET LOCAL statement_timeout = 100"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "SELECT pg_sleep(30)")
		return err
	}}
	log := &errorLog{}
	cfg := fastRetries
	cfg.Logger = slog.New(log)
	stop := runProcessor(t, store, cfg, proj)
	waitRows(t, ctx, pool, table, len(events), time.Minute)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if v := judge(committedIDs(events), projectionRows(t, ctx, pool, table)); v != (verdict{}) {
		t.Fatalf("projection after the timeout: %+v", v)
	}
	found := false
	for _, err := range log.all() {
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "57014" {
			found = true
		}
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			t.Errorf("a statement timeout logged as a context error: %v", err)
		}
	}
	if !found {
		t.Fatalf("no 57014 error among the logged %v", log.all())
	}
}

// TestFaultHandleContextCancelled stops the processor while a handler waits
// in a statement: Run returns promptly, the handler sees its context's
// error, the batch rolls back entirely, and a new processor projects every
// event exactly once.
func TestFaultHandleContextCancelled(t *testing.T) {
	ctx := testContext(t)
	store, names := newPgxStore(t)
	pool := newPool(t, 0, 8)
	table := createProjection(t, ctx, pool, names.Schema, "cancel_projection")
	events := appendN(t, ctx, pool, store, "Order", "o-1", 10)

	waiting := make(chan struct{})
	handlerErr := make(chan error, 1)
	var blocked atomic.Bool
	proj := &rowProjector{name: "cancelled", table: table, hook: func(ctx context.Context, tx pgx.Tx, e core.PersistedEvent) error {
		if e.AggregateVersion != 5 || !blocked.CompareAndSwap(false, true) {
			return nil
		}
		close(waiting)
		_, err := tx.Exec(ctx, "SELECT pg_sleep(60)")
		handlerErr <- err
		return err
	}}
	stop := runProcessor(t, store, fastRetries, proj)
	select {
	case <-waiting:
	case <-ctx.Done():
		t.Fatal("no batch reached event 5")
	}
	stopped := time.Now()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(stopped); d > 10*time.Second {
		t.Errorf("Run took %s to return after its context ended", d)
	}
	if err := <-handlerErr; !errors.Is(err, context.Canceled) {
		t.Errorf("the handler's statement ended with %v, want context.Canceled", err)
	}
	if n := len(projectionRows(t, ctx, pool, table)); n != 0 {
		t.Fatalf("%d rows of the cancelled batch were committed", n)
	}
	st, err := consumer.NewOperations[pgx.Tx](mustConsumerStore(t, pool, store)).Status(ctx)
	// The checkpoint row was created in the batch's transaction too.
	if err != nil || len(st) != 0 {
		t.Fatalf("status after the cancelled batch: %+v, %v; want no checkpoint", st, err)
	}

	stop = runProcessor(t, store, fastRetries, &rowProjector{name: "cancelled", table: table})
	waitRows(t, ctx, pool, table, len(events), time.Minute)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if v := judge(committedIDs(events), projectionRows(t, ctx, pool, table)); v != (verdict{}) {
		t.Fatalf("projection after the restart: %+v", v)
	}
}

// TestFaultListenDropped terminates the processor's LISTEN connection:
// the processor listens again on a new connection (whose start wakes every
// consumer, since notifications may have been lost meanwhile), polling
// covers the gap, and every event appended before, during and after it is
// projected once. A wakeup is only a hint: the append it announces may
// commit after the batch it triggers; the poll interval is short enough to
// pick it up then.
func TestFaultListenDropped(t *testing.T) {
	ctx := testContext(t)
	channel := newChannel()
	store, names := newPgxStore(t, pgxstore.WithNotifyChannel(channel))
	pool := newPool(t, 0, 8)
	table := createProjection(t, ctx, pool, names.Schema, "listen_projection")
	cfg := fastRetries
	cfg.PollInterval = 500 * time.Millisecond
	stop := runProcessor(t, store, cfg, &rowProjector{name: "listener", table: table})

	var all []core.PersistedEvent
	all = append(all, appendN(t, ctx, pool, store, "Order", "o-1", 1)...)
	waitRows(t, ctx, pool, table, len(all), time.Minute)

	old := listenerPID(t, ctx, channel, 0)
	terminateBackend(t, ctx, old)
	// Appended while the listener is down: the reconnect's wakeup covers
	// it.
	all = append(all, appendN(t, ctx, pool, store, "Order", "o-1", 1)...)
	waitRows(t, ctx, pool, table, len(all), time.Minute)
	listenerPID(t, ctx, channel, old)
	all = append(all, appendN(t, ctx, pool, store, "Order", "o-1", 1)...)
	waitRows(t, ctx, pool, table, len(all), time.Minute)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if v := judge(committedIDs(all), projectionRows(t, ctx, pool, table)); v != (verdict{}) {
		t.Fatalf("projection across the dropped listener: %+v", v)
	}
}

// listenerPID returns the backend listening on channel other than not,
// waiting for one to appear.
func listenerPID(t *testing.T, ctx context.Context, channel string, not int64) int64 {
	t.Helper()
	listen := "LISTEN " + pgx.Identifier{channel}.Sanitize()
	deadline := time.Now().Add(listenWait)
	pool := newPool(t, 0, 1)
	for {
		var pid *int64
		if err := pool.QueryRow(ctx, "SELECT max(pid)::bigint FROM pg_stat_activity WHERE datname = current_database() AND query = $1::text AND pid <> $2::int",
			listen, not).Scan(&pid); err != nil {
			t.Fatal(err)
		}
		if pid != nil {
			return *pid
		}
		if time.Now().After(deadline) {
			t.Fatalf("nobody listens on %q within %s", channel, listenWait)
		}
		time.Sleep(10 * time.Millisecond) // polling the server's state, bounded by the deadline
	}
}
