package integration_test

import (
	"context"
	"errors"
	"testing"

	"github.com/chronicle-go/chronicle/core"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// The conformance suite's Validation and BadInput groups (every
// ErrInvalidEvent path writing nothing; hostile text, a 16 MiB payload,
// 10,000 events, Exact(MaxInt64)) run on every driver configuration in
// TestDriver…. The tests here add what only a real connection shows.

// tracedConn opens a pgx connection in mode that counts what it sends.
func tracedConn(t *testing.T, ctx context.Context, mode pgx.QueryExecMode) (*pgx.Conn, *countingTracer) {
	t.Helper()
	needDatabase(t)
	tracer := &countingTracer{}
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DefaultQueryExecMode, cfg.Tracer = mode, tracer
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn, tracer
}

// TestBadInputTenThousandEventsInOneRoundTrip: a batch of 10,000 events is
// still one statement, in the extended and the simple protocol and through
// database/sql.
func TestBadInputTenThousandEventsInOneRoundTrip(t *testing.T) {
	for name, mode := range map[string]pgx.QueryExecMode{"pgx-exec": pgx.QueryExecModeExec, "pgx-simple-protocol": pgx.QueryExecModeSimpleProtocol} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := testContext(t)
			conn, tracer := tracedConn(t, ctx, mode)
			store, _ := newPgxStore(t)
			tx, err := conn.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = tx.Rollback(context.Background()) }()
			// The store checks the schema version at its first use.
			if _, err := store.GetLatestGlobalPosition(ctx, tx); err != nil {
				t.Fatal(err)
			}
			tracer.reset()
			res, err := store.Append(ctx, tx, core.NoStream(), newEvents("Order", 10000))
			if err != nil {
				t.Fatal(err)
			}
			if q := tracer.queries.Load(); q != 1 || res.ToVersion() != 10000 {
				t.Fatalf("10,000 events: %d statements, versions to %d; want 1 statement and version 10000", q, res.ToVersion())
			}
		})
	}
	t.Run("database/sql-pgx-stdlib", func(t *testing.T) {
		t.Parallel()
		ctx := testContext(t)
		needDatabase(t)
		tracer := &countingTracer{}
		cfg, err := pgx.ParseConfig(databaseURL)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Tracer = tracer
		db := stdlib.OpenDB(*cfg)
		defer db.Close()
		store, _ := newPqStore(t)
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx.Rollback() }()
		if _, err := store.GetLatestGlobalPosition(ctx, tx); err != nil {
			t.Fatal(err)
		}
		tracer.reset()
		res, err := store.Append(ctx, tx, core.NoStream(), newEvents("Order", 10000))
		if err != nil {
			t.Fatal(err)
		}
		if q := tracer.queries.Load(); q != 1 || res.ToVersion() != 10000 {
			t.Fatalf("10,000 events: %d statements, versions to %d; want 1 statement and version 10000", q, res.ToVersion())
		}
	})
}

// TestBadInputNeverReachesTheServer: every kind of invalid batch is
// rejected before a statement is sent, so nothing can be written and the
// transaction stays usable.
func TestBadInputNeverReachesTheServer(t *testing.T) {
	ctx := testContext(t)
	conn, tracer := tracedConn(t, ctx, pgx.QueryExecModeExec)
	store, names := newPgxStore(t)
	good := newEvents("Order", 2)
	for name, mutate := range map[string]func(e []core.Event) []core.Event{
		"no events":            func([]core.Event) []core.Event { return nil },
		"empty aggregate type": func(e []core.Event) []core.Event { e[0].AggregateType = ""; return e },
		"NUL in aggregate id":  func(e []core.Event) []core.Event { e[1].AggregateID += "\x00"; return e },
		"invalid UTF-8 type":   func(e []core.Event) []core.Event { e[1].EventType = "\xff"; return e },
		"nil event id":         func(e []core.Event) []core.Event { e[0].EventID = uuid.Nil; return e },
		"repeated event id":    func(e []core.Event) []core.Event { e[1].EventID = e[0].EventID; return e },
		"two aggregates":       func(e []core.Event) []core.Event { e[1].AggregateID = "other"; return e },
		"metadata not JSON":    func(e []core.Event) []core.Event { e[0].Metadata = []byte(`{"a":`); return e },
		"metadata with NUL":    func(e []core.Event) []core.Event { e[0].Metadata = []byte(`{"a":"\u0000"}`); return e },
		"negative version":     func(e []core.Event) []core.Event { e[0].EventVersion = -1; return e },
		"NUL in causation id":  func(e []core.Event) []core.Event { e[1].CausationID = core.NewNullString("\x00"); return e },
	} {
		tx, err := conn.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tracer.reset()
		_, err = store.Append(ctx, tx, core.Any(), mutate(append([]core.Event(nil), good...)))
		if !errors.Is(err, core.ErrInvalidEvent) {
			t.Errorf("%s: %v, want ErrInvalidEvent", name, err)
		}
		if q := tracer.queries.Load(); q != 0 {
			t.Errorf("%s: %d statements sent for an invalid batch", name, q)
		}
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := store.Append(ctx, nil, core.Exact(-1), good); !errors.Is(err, core.ErrInvalidArgument) {
		t.Errorf("Exact(-1): %v, want ErrInvalidArgument before the transaction is used", err)
	}
	var n int64
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM "+qualified(names.Schema, names.EventsTable)).Scan(&n); err != nil || n != 0 {
		t.Fatalf("events stored after invalid batches: %d, %v", n, err)
	}
}
