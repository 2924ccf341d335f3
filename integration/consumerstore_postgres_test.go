package integration_test

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
	"strings"
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

// PostgreSQL-only behaviour of the consumer store, beyond the conformance
// suite: what FrontierHolders says about a backend and a prepared
// transaction, the cursor index serving the batch, and Listen across a lost
// connection.

func TestFrontierHoldersDescribeBackends(t *testing.T) {
	t.Run("pgx", func(t *testing.T) {
		t.Parallel()
		cs, _, _ := newPgxConsumerStore(t, newPool(t, 0, 4), "")
		testFrontierHolders(t, cs, func(ctx context.Context) (pgx.Tx, error) { return cs.Begin(ctx) }, cs.Rollback)
	})
	t.Run("lib-pq", func(t *testing.T) {
		t.Parallel()
		cs, _, _ := newSQLConsumerStore(t, openDB(t, "postgres"), "")
		testFrontierHolders(t, cs, cs.Begin, cs.Rollback)
	})
}

func testFrontierHolders[TX any](t *testing.T, cs core.ConsumerStore[TX], begin func(context.Context) (TX, error), rollback func(context.Context, TX) error) {
	ctx := testContext(t)
	app := "chronicle_it_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:8]
	holder := connectAs(t, app)
	if _, err := holder.Exec(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	var xid int64
	var pid int32
	if err := holder.QueryRow(ctx, "SELECT pg_current_xact_id()::text::bigint, pg_backend_pid()").Scan(&xid, &pid); err != nil {
		t.Fatal(err)
	}

	holders := frontierHolders(t, cs, begin, rollback)
	h, ok := findHolder(holders, xid)
	if !ok {
		t.Fatalf("no holder with the idle transaction's id %d among %+v", xid, holders)
	}
	if h.PID != int(pid) || h.State != "idle in transaction" || h.Application != app ||
		!strings.Contains(h.Query, "pg_backend_pid") || h.Started.IsZero() {
		t.Errorf("holder %+v; want pid %d, idle in transaction, application %q, its last query, a start time", h, pid, app)
	}
	if _, err := holder.Exec(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if _, ok := findHolder(frontierHolders(t, cs, begin, rollback), xid); ok {
		t.Error("the transaction is still listed after it ended")
	}

}

// A prepared transaction holds a transaction id with no backend: it is
// listed with PID 0. The shared server may not allow prepared transactions
// (max_prepared_transactions = 0, the default), so the test runs on a
// cluster of its own that does.
func TestFrontierHoldersListPreparedTransactions(t *testing.T) {
	needDatabase(t)
	ctx := testContext(t)
	server, err := pgtest.StartCluster(ctx, pgtest.Setting("max_prepared_transactions", "5"))
	if err != nil {
		t.Fatalf("starting a cluster with prepared transactions: %v", err)
	}
	t.Cleanup(func() { _ = server.Close() })
	url, err := server.CreateDatabase(ctx, "prepared")
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	store, err := pgxstore.NewStore(pgxstore.DefaultStoreConfig())
	if err != nil {
		t.Fatal(err)
	}
	ddl, err := store.SchemaSQL(pgxstore.SchemaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, ddl); err != nil {
		t.Fatal(err)
	}
	cs, err := pgxstore.NewConsumerStore(pool, store)
	if err != nil {
		t.Fatal(err)
	}
	holder, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { holder.Close(context.Background()) })
	gid := "chronicle_it_" + uuid.NewString()
	if _, err := holder.Exec(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	var xid int64
	if err := holder.QueryRow(ctx, "SELECT pg_current_xact_id()::text::bigint").Scan(&xid); err != nil {
		t.Fatal(err)
	}
	if _, err := holder.Exec(ctx, "PREPARE TRANSACTION "+quoteLiteral(gid)); err != nil {
		t.Fatal(err)
	}
	begin := func(ctx context.Context) (pgx.Tx, error) { return cs.Begin(ctx) }
	h, ok := findHolder(frontierHolders(t, cs, begin, cs.Rollback), xid)
	if !ok {
		t.Fatalf("the prepared transaction %d is not listed", xid)
	}
	if h.PID != 0 || h.State != "prepared" || h.Query != gid || h.Application == "" || h.Started.IsZero() {
		t.Errorf("prepared holder %+v; want PID 0, state prepared, query %q, its owner, its time", h, gid)
	}
	if _, err := holder.Exec(ctx, "ROLLBACK PREPARED "+quoteLiteral(gid)); err != nil {
		t.Fatal(err)
	}
	if _, ok := findHolder(frontierHolders(t, cs, begin, cs.Rollback), xid); ok {
		t.Error("the prepared transaction is still listed after it was rolled back")
	}
}

func frontierHolders[TX any](t *testing.T, cs core.ConsumerStore[TX], begin func(context.Context) (TX, error), rollback func(context.Context, TX) error) []core.FrontierHolder {
	t.Helper()
	ctx := testContext(t)
	tx, err := begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rollback(ctx, tx) }()
	holders, err := cs.FrontierHolders(ctx, tx)
	if err != nil {
		t.Fatalf("FrontierHolders: %v", err)
	}
	return holders
}

func findHolder(holders []core.FrontierHolder, xid int64) (core.FrontierHolder, bool) {
	for _, h := range holders {
		if h.TransactionID == xid {
			return h, true
		}
	}
	return core.FrontierHolder{}, false
}

// connectAs opens a connection with the given application_name, closed
// when t ends.
func connectAs(t testing.TB, app string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["application_name"] = app
	conn, err := pgx.ConnectConfig(testContext(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// The batch statement reads the (transaction_order, global_position) index
// from the cursor on: the row-value comparison is an index condition, so a
// consumer deep into a long log does not scan its history.
func TestConsumerBatchUsesTheCursorIndex(t *testing.T) {
	needDatabase(t)
	ctx := testContext(t)
	pool := newPool(t, 0, 4)
	store, names := newPgxStore(t)
	const aggregates, perAggregate = 100, 50
	for i := 0; i < aggregates; i++ {
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.Append(ctx, tx, core.NoStream(), newEvents("Order", perAggregate)); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	events := qualified(names.Schema, names.EventsTable)
	if _, err := pool.Exec(ctx, "ANALYZE "+events); err != nil {
		t.Fatal(err)
	}
	// A consumer halfway through the log reads a batch; a consumer near its
	// end, as a caught-up one is, counts what it has left.
	cursorAt := func(offset int) (c core.Cursor) {
		if err := pool.QueryRow(ctx, "SELECT transaction_order, global_position FROM "+events+
			" ORDER BY transaction_order, global_position OFFSET $1::bigint LIMIT 1", offset).
			Scan(&c.TransactionOrder, &c.GlobalPosition); err != nil {
			t.Fatal(err)
		}
		return c
	}
	middle, end := cursorAt(aggregates*perAggregate/2), cursorAt(aggregates*perAggregate-20)
	q, err := pgstore.RenderStatements(names, "", pgstore.PayloadArray)
	if err != nil {
		t.Fatal(err)
	}
	index := names.Constraints().TransactionOrderIndex
	for _, c := range []struct {
		name, query string
		args        []any
		want        *regexp.Regexp
	}{
		{"ConsumerBatch", q.ConsumerBatch, []any{middle.TransactionOrder, middle.GlobalPosition, int64(100)}, indexCondition},
		{"CountEventsAfter", q.CountEventsAfter, []any{end.TransactionOrder, end.GlobalPosition}, indexCondition},
		// max(transaction_order) reads one index entry from the end.
		{"TransactionOrder", q.TransactionOrder, nil, regexp.MustCompile(`Index Only Scan Backward using ` + index)},
	} {
		plan := explain(t, ctx, pool.Config().ConnConfig.ConnString(), c.query, c.args...)
		if !strings.Contains(plan, index) || strings.Contains(plan, "Seq Scan on "+names.EventsTable) {
			t.Errorf("%s does not read the cursor index %s:\n%s", c.name, index, plan)
		}
		if !c.want.MatchString(plan) {
			t.Errorf("%s: the plan does not match %s:\n%s", c.name, c.want, plan)
		}
		t.Logf("%s plan:\n%s", c.name, plan)
	}
}

// indexCondition matches the cursor comparison as (part of) an index
// condition, not a filter over scanned rows.
var indexCondition = regexp.MustCompile(`Index Cond: .*ROW\(transaction_order, global_position\) > ROW\(`)

// explain returns the plan of query with args, as a custom plan for these
// values would be (a prepared statement's generic plan may differ only
// after several executions, and takes the same index path for a range
// condition).
func explain(t *testing.T, ctx context.Context, connString, query string, args ...any) string {
	t.Helper()
	conn, err := pgx.Connect(ctx, connString)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, "EXPLAIN "+query, args...)
	if err != nil {
		t.Fatalf("EXPLAIN: %v", err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("EXPLAIN: %v", err)
	}
	return strings.Join(lines, "\n")
}

// Listen across a lost connection: pgx's Listen returns the error (the
// processor calls it again: the reconnect); lib/pq's listener reconnects by
// itself, and Listen wakes the runtime after it, since notifications may
// have been lost meanwhile.
func TestListenAfterTheConnectionIsTerminated(t *testing.T) {
	t.Run("pgx", func(t *testing.T) {
		t.Parallel()
		channel := newChannel()
		cs, _, _ := newPgxConsumerStore(t, newPool(t, 0, 4), channel)
		wakes, done := startListen(t, cs)
		awaitWake(t, wakes, done, "the first wakeup")
		terminateListener(t, channel)
		select {
		case err := <-done:
			done <- err // for the cleanup, which waits for it
			if err == nil || errors.Is(err, context.Canceled) {
				t.Errorf("Listen after its connection was terminated: %v, want the connection's error", err)
			}
		case <-time.After(listenWait):
			t.Fatal("Listen did not return after its connection was terminated")
		}
	})
	t.Run("lib-pq", func(t *testing.T) {
		t.Parallel()
		channel := newChannel()
		cs, store, names := newSQLConsumerStore(t, openDB(t, "postgres"), channel)
		wakes, done := startListen(t, cs)
		awaitWake(t, wakes, done, "the first wakeup")
		terminateListener(t, channel)
		awaitWake(t, wakes, done, "the wakeup after the reconnect")
		// Listening again: a committed append wakes it.
		for len(wakes) > 0 {
			<-wakes
		}
		r := sqlRigFor(openDB(t, "postgres"), store, names)
		r.appendCommitted(t, testContext(t), core.NoStream(), newEvents("Order", 1)...)
		awaitWake(t, wakes, done, "the wakeup after an append")
	})
}

const listenWait = 30 * time.Second

// startListen runs cs.Listen until t ends; wakeups arrive on wakes and its
// result on done.
func startListen[TX any](t *testing.T, cs core.ConsumerStore[TX]) (<-chan struct{}, chan error) {
	ctx, cancel := context.WithCancel(testContext(t))
	wakes := make(chan struct{}, 100)
	done := make(chan error, 1)
	go func() { done <- cs.Listen(ctx, func() { wakes <- struct{}{} }) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			_ = err // the test itself checks what Listen returns
		case <-time.After(listenWait):
			t.Error("Listen did not return after its context ended")
		}
	})
	return wakes, done
}

func awaitWake(t *testing.T, wakes <-chan struct{}, done <-chan error, what string) {
	t.Helper()
	select {
	case <-wakes:
	case err := <-done:
		t.Fatalf("%s: Listen returned: %v", what, err)
	case <-time.After(listenWait):
		t.Fatalf("%s: none within %s", what, listenWait)
	}
}

// terminateListener ends the backend that listens on channel, as a network
// failure or a server restart would.
func terminateListener(t *testing.T, channel string) {
	t.Helper()
	ctx := testContext(t)
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	listen := "LISTEN " + pgx.Identifier{channel}.Sanitize()
	deadline := time.Now().Add(listenWait)
	for {
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND query = $1::text AND pid <> pg_backend_pid()", listen).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no backend listening on %q to terminate", channel)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Reading — batches, counts, checkpoints, the frontier, its holders, the
// transaction order — assigns no transaction id, so status and monitoring
// never hold the frontier back; claiming does (a row lock needs one).
func TestConsumerReadsAssignNoTransactionID(t *testing.T) {
	t.Run("pgx", func(t *testing.T) {
		t.Parallel()
		cs, _, _ := newPgxConsumerStore(t, newPool(t, 0, 4), "")
		testReadsAssignNoID(t, cs, func(ctx context.Context, tx pgx.Tx) (assigned bool, err error) {
			err = tx.QueryRow(ctx, "SELECT pg_current_xact_id_if_assigned() IS NOT NULL").Scan(&assigned)
			return assigned, err
		})
	})
	t.Run("lib-pq", func(t *testing.T) {
		t.Parallel()
		cs, _, _ := newSQLConsumerStore(t, openDB(t, "postgres"), "")
		testReadsAssignNoID(t, cs, func(ctx context.Context, tx *sql.Tx) (assigned bool, err error) {
			err = tx.QueryRowContext(ctx, "SELECT pg_current_xact_id_if_assigned() IS NOT NULL").Scan(&assigned)
			return assigned, err
		})
	})
}

func testReadsAssignNoID[TX any](t *testing.T, cs core.ConsumerStore[TX], assigned func(context.Context, TX) (bool, error)) {
	ctx := testContext(t)
	tx, err := cs.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cs.Rollback(ctx, tx) }()
	check := func(what string, err error, wantAssigned bool) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		got, err := assigned(ctx, tx)
		if err != nil {
			t.Fatal(err)
		}
		if got != wantAssigned {
			t.Errorf("after %s: transaction id assigned = %v, want %v", what, got, wantAssigned)
		}
	}
	_, err = cs.ReadConsumerBatch(ctx, tx, core.Cursor{}, nil, 10)
	check("ReadConsumerBatch", err, false)
	_, err = cs.ReadConsumerBatch(ctx, tx, core.Cursor{}, []string{"Order"}, 10)
	check("a scoped ReadConsumerBatch", err, false)
	_, err = cs.CountEventsAfter(ctx, tx, core.Cursor{}, nil)
	check("CountEventsAfter", err, false)
	_, _, err = cs.Checkpoints(ctx, tx)
	check("Checkpoints", err, false)
	_, err = cs.Frontier(ctx, tx)
	check("Frontier", err, false)
	_, err = cs.FrontierHolders(ctx, tx)
	check("FrontierHolders", err, false)
	_, err = cs.TransactionOrder(ctx, tx)
	check("TransactionOrder", err, false)
	_, _, err = cs.ClaimCheckpoint(ctx, tx, "c")
	check("ClaimCheckpoint", err, true)
}
