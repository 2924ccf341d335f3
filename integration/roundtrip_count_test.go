package integration_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/chronicle-go/chronicle/core"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// countingTracer counts the statements and prepares pgx sends.
type countingTracer struct {
	queries, prepares atomic.Int64
}

func (c *countingTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.queries.Add(1)
	return ctx
}

func (c *countingTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (c *countingTracer) TracePrepareStart(ctx context.Context, _ *pgx.Conn, _ pgx.TracePrepareStartData) context.Context {
	c.prepares.Add(1)
	return ctx
}

func (c *countingTracer) TracePrepareEnd(context.Context, *pgx.Conn, pgx.TracePrepareEndData) {}

func (c *countingTracer) reset() { c.queries.Store(0); c.prepares.Store(0) }

// A 100-event append is one statement: one round trip. In pgx's default
// mode the first execution of a statement on a connection also prepares it
// (cached per connection afterwards), so the count is taken on a warm
// connection; the simple protocol never prepares.
func TestHundredEventAppendIsOneRoundTrip(t *testing.T) {
	modes := map[string]pgx.QueryExecMode{
		"pgx-cache-statement": pgx.QueryExecModeCacheStatement,
		"pgx-simple-protocol": pgx.QueryExecModeSimpleProtocol,
		"pgx-exec":            pgx.QueryExecModeExec,
	}
	for name, mode := range modes {
		t.Run(name, func(t *testing.T) {
			needDatabase(t)
			ctx := testContext(t)
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
			defer conn.Close(context.Background())
			store, _ := newPgxStore(t)
			warmUp(t, ctx, store, conn)
			for round := range 2 {
				tx, err := conn.Begin(ctx)
				if err != nil {
					t.Fatal(err)
				}
				tracer.reset()
				res, err := store.Append(ctx, tx, core.Any(), newEvents("Order", 100))
				if err != nil {
					t.Fatal(err)
				}
				queries, prepares := tracer.queries.Load(), tracer.prepares.Load()
				if err := tx.Commit(ctx); err != nil {
					t.Fatal(err)
				}
				if len(res.Events) != 100 {
					t.Fatalf("appended %d events, want 100", len(res.Events))
				}
				if queries != 1 || (round == 1 || mode == pgx.QueryExecModeSimpleProtocol) && prepares != 0 {
					t.Errorf("round %d: the append sent %d statements and %d prepares, want 1 statement", round, queries, prepares)
				}
			}
		})
	}
	t.Run("database/sql-pgx-stdlib", func(t *testing.T) {
		needDatabase(t)
		ctx := testContext(t)
		tracer := &countingTracer{}
		cfg, err := pgx.ParseConfig(databaseURL)
		if err != nil {
			t.Fatal(err)
		}
		cfg.DefaultQueryExecMode, cfg.Tracer = pgx.QueryExecModeSimpleProtocol, tracer
		db := stdlib.OpenDB(*cfg)
		defer db.Close()
		db.SetMaxOpenConns(1)
		store, _ := newPqStore(t)
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		// The store checks the schema version at its first use.
		if _, err := store.GetLatestGlobalPosition(ctx, tx); err != nil {
			t.Fatal(err)
		}
		tracer.reset()
		if _, err := store.Append(ctx, tx, core.Any(), newEvents("Order", 100)); err != nil {
			t.Fatal(err)
		}
		if q, p := tracer.queries.Load(), tracer.prepares.Load(); q != 1 || p != 0 {
			t.Errorf("the append sent %d statements and %d prepares, want 1 statement", q, p)
		}
	})
}

// warmUp makes the store's first use, at which it checks the schema
// version, so that the counts that follow are of the append alone.
func warmUp(t *testing.T, ctx context.Context, store core.Store[pgx.Tx], conn *pgx.Conn) {
	t.Helper()
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := store.GetLatestGlobalPosition(ctx, tx); err != nil {
		t.Fatal(err)
	}
}
