package integration_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// statementCounter is a pgx QueryTracer counting, per consumer name, the
// lease claims (a batch each: sql/claim_lease.sql) and the checkpoint saves
// (sql/save_checkpoint.sql) sent through a pool, so that a test can wait
// for a processor to have polled.
type statementCounter struct {
	mu            sync.Mutex
	claims, saves map[string]int
	changed       chan struct{} // closed and replaced at every count
}

func newStatementCounter() *statementCounter {
	return &statementCounter{claims: map[string]int{}, saves: map[string]int{}, changed: make(chan struct{})}
}

func (c *statementCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	c.counted(data.SQL, data.Args)
	return ctx
}

// TraceBatchStart counts the statements of a pipelined batch: a consumer
// batch's claim goes out with its BEGIN and read, its save with COMMIT.
func (c *statementCounter) TraceBatchStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchStartData) context.Context {
	for _, q := range data.Batch.QueuedQueries {
		c.counted(q.SQL, q.Arguments)
	}
	return ctx
}

func (c *statementCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (c *statementCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

func (c *statementCounter) counted(sql string, args []any) {
	var counts map[string]int
	switch {
	case strings.Contains(sql, "pg_try_advisory_xact_lock"):
		counts = c.claims
	case strings.Contains(sql, "INSERT INTO") && strings.Contains(sql, "failed_attempts = EXCLUDED.failed_attempts"):
		counts = c.saves
	default:
		return
	}
	name, _ := args[0].(string)
	c.mu.Lock()
	counts[name]++
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
}

func (c *statementCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// count returns the claims and saves of consumer so far.
func (c *statementCounter) count(consumer string) (claims, saves int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.claims[consumer], c.saves[consumer]
}

// awaitClaims returns once consumer's lease was claimed n times, failing t
// after a minute.
func (c *statementCounter) awaitClaims(t *testing.T, consumer string, n int) {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		c.mu.Lock()
		got, changed := c.claims[consumer], c.changed
		c.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("consumer %q claimed its lease %d times in a minute, want %d", consumer, got, n)
		}
	}
}

// tracedPool is a pool on the package's database whose statements go
// through tracer.
func tracedPool(t *testing.T, tracer pgx.QueryTracer) *pgxpool.Pool {
	t.Helper()
	needDatabase(t)
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 4
	cfg.ConnConfig.Tracer = tracer
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// checkpointRow is what any write to a checkpoint row changes: the row
// version's xmin (an UPDATE makes a new version), its xmax (also a row
// lock sets it) and updated_at.
type checkpointRow struct {
	xmin, xmax string
	updatedAt  time.Time
}

func checkpointRows(t *testing.T, ctx context.Context, pool *pgxpool.Pool, table string) map[string]checkpointRow {
	t.Helper()
	rows, err := pool.Query(ctx, "SELECT consumer_name, xmin::text, xmax::text, updated_at FROM "+table)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]checkpointRow{}
	for rows.Next() {
		var name string
		var r checkpointRow
		if err := rows.Scan(&name, &r.xmin, &r.xmax, &r.updatedAt); err != nil {
			t.Fatal(err)
		}
		out[name] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestIdleConsumersWriteNothing: consumers over a caught-up log poll
// without writing — no checkpoint saved, locked or updated, however many
// polls pass — and one event makes exactly the consumer that receives it
// save its checkpoint.
func TestIdleConsumersWriteNothing(t *testing.T) {
	ctx := testContext(t)
	store, names := newPgxStore(t)
	pool := newPool(t, 0, 4)
	orders := appendN(t, ctx, pool, store, "Order", "o-1", 3)
	appendN(t, ctx, pool, store, "Invoice", "i-1", 2)
	ordersTable := createProjection(t, ctx, pool, names.Schema, "idle_orders")
	invoicesTable := createProjection(t, ctx, pool, names.Schema, "idle_invoices")
	ordersOnly := scoped{&rowProjector{name: "orders", table: ordersTable}, []string{"Order"}}
	invoicesOnly := scoped{&rowProjector{name: "invoices", table: invoicesTable}, []string{"Invoice"}}

	counter := newStatementCounter()
	cfg := fastRetries
	cfg.PollInterval = 10 * time.Millisecond
	stop := startProcessor(t, newProcessor(t, tracedPool(t, counter), store, cfg, ordersOnly, invoicesOnly))
	waitRows(t, ctx, pool, ordersTable, 3, time.Minute)
	waitRows(t, ctx, pool, invoicesTable, 2, time.Minute)
	// Caught up: each consumer saved the batch that delivered its events
	// (committed with the projection rows seen above).
	checkpoints := qualified(names.Schema, names.CheckpointsTable)
	before := checkpointRows(t, ctx, pool, checkpoints)
	if len(before) != 2 {
		t.Fatalf("checkpoints after catching up: %+v, want both consumers'", before)
	}
	const polls = 20
	start := map[string][2]int{}
	for _, name := range []string{"orders", "invoices"} {
		claims, saves := counter.count(name)
		start[name] = [2]int{claims, saves}
		counter.awaitClaims(t, name, claims+polls)
	}
	after := checkpointRows(t, ctx, pool, checkpoints)
	for _, name := range []string{"orders", "invoices"} {
		if after[name] != before[name] {
			t.Errorf("%s's checkpoint row changed over %d idle polls: %+v, then %+v", name, polls, before[name], after[name])
		}
		if _, saves := counter.count(name); saves != start[name][1] {
			t.Errorf("%s saved its checkpoint %d times over %d idle polls", name, saves-start[name][1], polls)
		}
	}

	// One order: the orders consumer saves, the invoices one still does
	// not, over as many polls again.
	orders = append(orders, appendN(t, ctx, pool, store, "Order", "o-1", 1)...)
	waitRows(t, ctx, pool, ordersTable, 4, time.Minute)
	_, invoiceSaves := counter.count("invoices")
	claims, _ := counter.count("invoices")
	counter.awaitClaims(t, "invoices", claims+polls)
	moved := checkpointRows(t, ctx, pool, checkpoints)
	if moved["orders"].xmin == after["orders"].xmin || !moved["orders"].updatedAt.After(after["orders"].updatedAt) {
		t.Errorf("the orders checkpoint did not move with its new event: %+v, then %+v", after["orders"], moved["orders"])
	}
	if moved["invoices"] != after["invoices"] {
		t.Errorf("the invoices checkpoint changed for an order event: %+v, then %+v", after["invoices"], moved["invoices"])
	}
	if _, saves := counter.count("invoices"); saves != invoiceSaves {
		t.Errorf("the invoices consumer saved %d times for an order event", saves-invoiceSaves)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if v := judge(committedIDs(orders), projectionRows(t, ctx, pool, ordersTable)); v != (verdict{}) {
		t.Fatalf("orders projection: %+v", v)
	}
}
