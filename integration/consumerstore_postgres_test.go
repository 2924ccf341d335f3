package integration_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
// suite: what Writers says about a backend and a prepared transaction, the
// plans of the batch statements, and Listen across a lost connection.

func TestWritersDescribeBackends(t *testing.T) {
	t.Run("pgx", func(t *testing.T) {
		t.Parallel()
		cs, _, _ := newPgxConsumerStore(t, newPool(t, 0, 4), "")
		testWriters(t, cs, func(ctx context.Context) (pgx.Tx, error) { return cs.Begin(ctx) }, cs.Rollback)
	})
	t.Run("lib-pq", func(t *testing.T) {
		t.Parallel()
		cs, _, _ := newSQLConsumerStore(t, openDB(t, "postgres"), "")
		testWriters(t, cs, cs.Begin, cs.Rollback)
	})
}

func testWriters[TX any](t *testing.T, cs core.ConsumerStore[TX], begin func(context.Context) (TX, error), rollback func(context.Context, TX) error) {
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
	id := xid + orderOffset(t, cs, begin, rollback)

	writers := listWriters(t, cs, begin, rollback, id, id+1_000_000)
	if len(writers) != 1 || writers[0].TransactionID != id {
		t.Fatalf("Writers(%d and an id nobody holds) = %+v, want the idle transaction alone", id, writers)
	}
	w := writers[0]
	if w.PID != int(pid) || w.State != "idle in transaction" || w.Application != app ||
		!strings.Contains(w.Query, "pg_backend_pid") || w.Started.IsZero() {
		t.Errorf("writer %+v; want pid %d, idle in transaction, application %q, its last query, a start time", w, pid, app)
	}
	if _, err := holder.Exec(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if writers := listWriters(t, cs, begin, rollback, id); len(writers) != 0 {
		t.Errorf("the transaction is still listed after it ended: %+v", writers)
	}
}

// A prepared transaction holds a transaction id with no backend: it is
// listed with PID 0. The shared server may not allow prepared transactions
// (max_prepared_transactions = 0, the default), so the test runs on a
// cluster of its own that does.
func TestWritersListPreparedTransactions(t *testing.T) {
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
	id := xid + orderOffset(t, cs, begin, cs.Rollback)
	writers := listWriters(t, cs, begin, cs.Rollback, id)
	if len(writers) != 1 {
		t.Fatalf("the prepared transaction %d is not listed: %+v", id, writers)
	}
	if w := writers[0]; w.PID != 0 || w.State != "prepared" || w.Query != gid || w.Application == "" || w.Started.IsZero() {
		t.Errorf("prepared writer %+v; want PID 0, state prepared, query %q, its owner, its time", w, gid)
	}
	if _, err := holder.Exec(ctx, "ROLLBACK PREPARED "+quoteLiteral(gid)); err != nil {
		t.Fatal(err)
	}
	if writers := listWriters(t, cs, begin, cs.Rollback, id); len(writers) != 0 {
		t.Errorf("the prepared transaction is still listed after it was rolled back: %+v", writers)
	}
}

func listWriters[TX any](t *testing.T, cs core.ConsumerStore[TX], begin func(context.Context) (TX, error), rollback func(context.Context, TX) error, ids ...int64) []core.Writer {
	t.Helper()
	ctx := testContext(t)
	tx, err := begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rollback(ctx, tx) }()
	writers, err := cs.Writers(ctx, tx, ids)
	if err != nil {
		t.Fatalf("Writers: %v", err)
	}
	return writers
}

// orderOffset reads the log's order offset.
func orderOffset[TX any](t *testing.T, cs core.ConsumerStore[TX], begin func(context.Context) (TX, error), rollback func(context.Context, TX) error) int64 {
	t.Helper()
	ctx := testContext(t)
	tx, err := begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rollback(ctx, tx) }()
	st, err := cs.TransactionOrder(ctx, tx)
	if err != nil {
		t.Fatalf("TransactionOrder: %v", err)
	}
	return st.Offset
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

// The consumer statements' plans, custom and generic: a batch scans and
// probes the (transaction_id, global_position) index from the cursor's
// snapshot on, never the primary key from the start of the log nor the
// whole table; the pages of a large step walk the primary key from the
// last position; the lag samples through the writer-id index; the
// transaction order reads one index entry from the end.
func TestConsumerStoreStatementPlansUseTheirIndexes(t *testing.T) {
	needDatabase(t)
	ctx := testContext(t)
	pool := newPool(t, 0, 4)
	store, names := newPgxStore(t)
	cs := mustConsumerStore(t, pool, store)
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
	// A consumer halfway through the log, one caught up, and one paging
	// through the second half of the log.
	var middleID, middlePosition int64
	if err := pool.QueryRow(ctx, "SELECT transaction_id, global_position FROM "+events+
		" ORDER BY global_position OFFSET $1::bigint LIMIT 1", aggregates*perAggregate/2).Scan(&middleID, &middlePosition); err != nil {
		t.Fatal(err)
	}
	tx, err := cs.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	now, err := cs.CurrentSnapshot(ctx, tx)
	_ = cs.Rollback(ctx, tx)
	if err != nil {
		t.Fatal(err)
	}
	middle := core.Snapshot{Xmin: middleID, Xmax: middleID}
	ids := func(s core.Snapshot) string {
		parts := make([]string, len(s.Xip))
		for i, id := range s.Xip {
			parts[i] = fmt.Sprint(id)
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	q, err := pgstore.RenderStatements(names, "", pgstore.PayloadArray)
	if err != nil {
		t.Fatal(err)
	}
	c := names.Constraints()
	index, pkey := c.TransactionOrderIndex, c.EventsPrimaryKey
	usesIndex := regexp.MustCompile(`(Index Scan using|Index Only Scan using|Bitmap Index Scan on) ` + index + `\b`)
	for _, c := range []struct {
		name, query string
		args        []any
		want        *regexp.Regexp
		avoid       string
	}{
		{"tail batch", q.ConsumerBatch, []any{now.Xmax, ids(now), int64(100)}, usesIndex, "using " + pkey},
		{"catch-up batch", q.ConsumerBatch, []any{middle.Xmax, ids(middle), int64(100)}, usesIndex, "using " + pkey},
		{"scoped tail batch", q.ConsumerBatchScoped, []any{now.Xmax, ids(now), int64(100), "{Order}", int64(0), int64(0)}, usesIndex, "using " + pkey},
		{"partition tail batch", q.ConsumerBatchScoped, []any{now.Xmax, ids(now), int64(100), "{}", int64(8), int64(3)}, usesIndex, "using " + pkey},
		{"page", q.ConsumerPage, []any{middle.Xmax, ids(middle), now.Xmin, now.Xmax, ids(now), middlePosition + 100, int64(100)},
			regexp.MustCompile(`Index Scan using ` + pkey), ""},
		{"lag", q.Lag, []any{middle.Xmax, ids(middle), int64(0), int64(0), "{}", int64(core.LagExactLimit + 1), int64(0)}, usesIndex, ""},
		{"transaction order", q.TransactionOrder, nil, regexp.MustCompile(`Index Only Scan Backward using ` + index), ""},
	} {
		for _, generic := range []bool{false, true} {
			explainer := explain
			if generic {
				explainer = explainGeneric
			}
			plan := explainer(t, ctx, pool.Config().ConnConfig.ConnString(), c.query, c.args...)
			what := c.name + " (custom plan)"
			if generic {
				what = c.name + " (generic plan)"
			}
			if strings.Contains(plan, "Seq Scan on "+names.EventsTable) {
				t.Errorf("%s scans the events table:\n%s", what, plan)
			}
			if !c.want.MatchString(plan) {
				t.Errorf("%s: the plan does not match %s:\n%s", what, c.want, plan)
			}
			if c.avoid != "" && strings.Contains(plan, c.avoid) {
				t.Errorf("%s: the plan reads %s:\n%s", what, c.avoid, plan)
			}
			t.Logf("%s:\n%s", what, plan)
		}
	}
}

// explain returns the plan of query with args, as a custom plan for these
// values would be.
func explain(t *testing.T, ctx context.Context, connString, query string, args ...any) string {
	t.Helper()
	conn, err := pgx.Connect(ctx, connString)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	return explainOn(t, ctx, conn, "EXPLAIN "+query, args...)
}

// explainGeneric returns the generic plan of query as a prepared statement
// (plan_cache_mode = force_generic_plan), which a driver's cached
// statement may get after a few executions, executed with args.
func explainGeneric(t *testing.T, ctx context.Context, connString, query string, args ...any) string {
	t.Helper()
	conn, err := pgx.Connect(ctx, connString)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "SET plan_cache_mode = force_generic_plan"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "PREPARE chronicle_plan AS "+query); err != nil {
		t.Fatalf("PREPARE: %v", err)
	}
	literals := make([]string, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case int64:
			literals[i] = fmt.Sprint(v)
		case string:
			literals[i] = quoteLiteral(v)
		default:
			t.Fatalf("no literal for %T", a)
		}
	}
	statement := "EXPLAIN EXECUTE chronicle_plan"
	if len(literals) > 0 {
		statement += "(" + strings.Join(literals, ", ") + ")"
	}
	return explainOn(t, ctx, conn, statement)
}

func explainOn(t *testing.T, ctx context.Context, conn *pgx.Conn, statement string, args ...any) string {
	t.Helper()
	rows, err := conn.Query(ctx, statement, args...)
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
	go func() { done <- cs.Listen(ctx, func([]int64) { wakes <- struct{}{} }) }()
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

// Reading — batches, lag, checkpoints, the current snapshot, writers, the
// transaction order — assigns no transaction id, and neither does claiming
// a lease (an advisory lock): a batch statement taking its snapshot in a
// transaction with an id would count the transaction's own appends as
// delivered. Saving the checkpoint does take one.
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
	cp, claimed, err := cs.ClaimCheckpoint(ctx, tx, "c")
	check("ClaimCheckpoint", err, false)
	if !claimed {
		t.Fatal("ClaimCheckpoint did not claim a free lease")
	}
	batch, err := cs.ReadConsumerBatch(ctx, tx, core.Cursor{}, core.ConsumerScope{}, 10)
	check("ReadConsumerBatch", err, false)
	_, err = cs.ReadConsumerBatch(ctx, tx, core.Cursor{}, core.ConsumerScope{AggregateTypes: []string{"Order"}}, 10)
	check("a scoped ReadConsumerBatch", err, false)
	_, err = cs.Lag(ctx, tx, core.Cursor{}, core.ConsumerScope{})
	check("Lag", err, false)
	_, _, err = cs.Checkpoints(ctx, tx)
	check("Checkpoints", err, false)
	now, err := cs.CurrentSnapshot(ctx, tx)
	check("CurrentSnapshot", err, false)
	_, err = cs.Writers(ctx, tx, now.Xip)
	check("Writers", err, false)
	_, err = cs.TransactionOrder(ctx, tx)
	check("TransactionOrder", err, false)
	cp.Cursor = batch.Next
	check("SaveCheckpoint", cs.SaveCheckpoint(ctx, tx, cp), true)
}
