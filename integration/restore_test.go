package integration_test

import (
	"context"
	"errors"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-go/chronicle/consumer"
	"github.com/chronicle-go/chronicle/core"
	"github.com/chronicle-go/chronicle/internal/pgtest"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TestRestoreIntoAnotherCluster dumps a store with two consumers' checkpoints
// — one mid-log, one at the end — from this cluster, whose transaction ids
// are well ahead, and restores it with pg_dump and pg_restore into a
// database of a new cluster, owned by a role that is no superuser. There:
// an append made before the recovery fails with ErrTransactionOrderMoved
// and writes nothing (an event landing behind a cursor is never silently
// lost); the order check reports the move and the processor refuses to
// run; the NOT VALID writer check survived the restore and rejects a wrong
// transaction_id. The recovery runs as the tables' owner, without
// superuser; appends then succeed, above every restored id, and each
// consumer delivers exactly the events it had not delivered, none twice.
func TestRestoreIntoAnotherCluster(t *testing.T) {
	needDatabase(t)
	bin, err := pgtest.BinDir()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI needs the PostgreSQL binaries for this test: %v", err)
		}
		t.Skipf("no PostgreSQL binaries: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	store, names := newPgxStore(t)
	pool := newPool(t, 0, 8)
	midTable := createProjection(t, ctx, pool, names.Schema, "mid_projection")
	endTable := createProjection(t, ctx, pool, names.Schema, "end_projection")
	// Make sure this cluster's ids are well above a new cluster's (which
	// starts near 750): each subtransaction that writes takes an id.
	if _, err := pool.Exec(ctx, `DO $$
BEGIN
  IF pg_current_xact_id()::text::bigint < 3000 THEN
    CREATE TEMP TABLE burn_ids (i int);
    FOR i IN 1..3000 LOOP
      BEGIN
        INSERT INTO burn_ids VALUES (i);
      EXCEPTION WHEN OTHERS THEN NULL;
      END;
    END LOOP;
  END IF;
END $$`); err != nil {
		t.Fatal(err)
	}
	mid := &rowProjector{name: "mid", table: midTable}
	end := &rowProjector{name: "end", table: endTable}
	early := append(appendN(t, ctx, pool, store, "Order", "o-1", 2), appendN(t, ctx, pool, store, "Order", "o-2", 2)...)
	stop := runProcessor(t, store, fastRetries, mid, end)
	waitRows(t, ctx, pool, midTable, len(early), time.Minute)
	waitRows(t, ctx, pool, endTable, len(early), time.Minute)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	late := append(appendN(t, ctx, pool, store, "Order", "o-1", 2), appendN(t, ctx, pool, store, "Order", "o-3", 1)...)
	stop = runProcessor(t, store, fastRetries, end)
	waitRows(t, ctx, pool, endTable, len(early)+len(late), time.Minute)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	old := append(append([]core.PersistedEvent(nil), early...), late...)

	// Cluster B, a database owned by a role without superuser, the dump
	// restored as that role.
	target, err := pgtest.StartCluster(ctx)
	if err != nil {
		t.Fatalf("starting a second cluster: %v", err)
	}
	defer func() { _ = target.Close() }()
	const owner = "chronicle_owner"
	admin, err := pgx.Connect(ctx, target.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	for _, q := range []string{"CREATE ROLE " + owner + " LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE", "CREATE DATABASE restored OWNER " + owner} {
		if _, err := admin.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	u, err := url.Parse(target.URL)
	if err != nil {
		t.Fatal(err)
	}
	u.User, u.Path = url.User(owner), "/restored"
	targetURL := u.String()
	dumpFile := filepath.Join(t.TempDir(), "chronicle.dump")
	for _, cmd := range []*exec.Cmd{
		exec.CommandContext(ctx, filepath.Join(bin, "pg_dump"), "--format=custom", "--schema="+names.Schema, "--file="+dumpFile, "--dbname="+databaseURL),
		exec.CommandContext(ctx, filepath.Join(bin, "pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--dbname="+targetURL, dumpFile),
	} {
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", filepath.Base(cmd.Path), err, out)
		}
	}

	tpool, err := pgxpool.New(ctx, targetURL)
	if err != nil {
		t.Fatal(err)
	}
	defer tpool.Close()
	var superuser bool
	if err := tpool.QueryRow(ctx, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&superuser); err != nil || superuser {
		t.Fatalf("connected to the restored database as a superuser (%v): the test is about an owner without it", err)
	}
	events := qualified(names.Schema, names.EventsTable)
	count := func() (n int) {
		t.Helper()
		if err := tpool.QueryRow(ctx, "SELECT count(*) FROM "+events).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// Before the recovery: the append fails and writes nothing.
	tx, err := tpool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.Append(ctx, tx, core.Any(), []core.Event{{AggregateType: "Order", AggregateID: "o-1", EventID: uuid.New(), EventType: "Lost"}})
	var moved *core.TransactionOrderMovedError
	if !errors.Is(err, core.ErrTransactionOrderMoved) || !errors.As(err, &moved) || !moved.Status.Moved() {
		t.Fatalf("append on the restored database before the recovery: %v, want ErrTransactionOrderMoved", err)
	}
	if err := tx.Commit(ctx); err != nil { // the refused append left tx usable, with nothing written
		t.Fatal(err)
	}
	var version int64
	if err := tpool.QueryRow(ctx, "SELECT aggregate_version FROM "+qualified(names.Schema, names.AggregateHeadsTable)+
		" WHERE aggregate_type = 'Order' AND aggregate_id = 'o-1'").Scan(&version); err != nil || version != 4 {
		t.Fatalf("o-1's head after the refused append: version %d, %v; want 4", version, err)
	}
	if n := count(); n != len(old) {
		t.Fatalf("%d events after the refused append, want the %d restored", n, len(old))
	}
	cs := mustConsumerStore(t, tpool, store)
	ops := consumer.NewOperations[pgx.Tx](cs)
	st, err := ops.CheckTransactionOrder(ctx)
	if !errors.Is(err, core.ErrTransactionOrderMoved) || !st.Moved() {
		t.Fatalf("CheckTransactionOrder on the restored database = %+v, %v; want moved", st, err)
	}
	p, err := consumer.NewProcessor[pgx.Tx](cs, []consumer.Consumer[pgx.Tx]{mid, end}, fastRetries)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Run(ctx); !errors.Is(err, core.ErrTransactionOrderMoved) || !strings.Contains(err.Error(), "recover") {
		t.Fatalf("Run on the restored database = %v, want ErrTransactionOrderMoved naming the recovery", err)
	}
	// The writer check came through the restore, not validated, and
	// rejects an id other than the writer's own.
	check := names.Constraints().WriterCheck
	var validated bool
	if err := tpool.QueryRow(ctx, "SELECT convalidated FROM pg_constraint WHERE conname = $1 AND conrelid = $2::regclass", check, events).
		Scan(&validated); err != nil || validated {
		t.Fatalf("the writer check %s after the restore: validated %v, %v; want it there, NOT VALID", check, validated, err)
	}
	rejectsForgedID := func(when string) {
		t.Helper()
		_, err := tpool.Exec(ctx, "INSERT INTO "+events+" (aggregate_type, aggregate_id, aggregate_version, event_id, event_type, event_version, payload, created_at, transaction_id)"+
			" VALUES ('Order', 'forged', 1, gen_random_uuid(), 'Forged', 1, '', now(), (SELECT max(transaction_id) + 1 FROM "+events+"))")
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "23514" || pgErr.ConstraintName != check {
			t.Errorf("%s: an event with a forged writer id: %v, want a violation of %s", when, err, check)
		}
	}
	rejectsForgedID("before the recovery")

	// The recovery, as the owner.
	st, err = ops.RecoverTransactionOrder(ctx)
	if err != nil || st.Moved() || st.Offset <= 0 {
		t.Fatalf("recovery as the tables' owner: %+v, %v; want the offset raised", st, err)
	}
	if st, err := ops.CheckTransactionOrder(ctx); err != nil || st.Moved() {
		t.Fatalf("CheckTransactionOrder after the recovery = %+v, %v", st, err)
	}
	rejectsForgedID("after the recovery")
	maxOld := int64(0)
	for _, e := range old {
		maxOld = max(maxOld, e.TransactionID)
	}
	fresh := append(appendN(t, ctx, tpool, store, "Order", "o-1", 2), appendN(t, ctx, tpool, store, "Order", "o-4", 1)...)
	for _, e := range fresh {
		if e.TransactionID <= maxOld {
			t.Fatalf("a new writer id %d is not above the restored %d", e.TransactionID, maxOld)
		}
	}
	stopRun := startProcessor(t, p)
	all := append(append([]core.PersistedEvent(nil), old...), fresh...)
	waitRows(t, ctx, tpool, midTable, len(all), time.Minute)
	waitRows(t, ctx, tpool, endTable, len(all), time.Minute)
	status, err := p.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stopRun(); err != nil {
		t.Fatal(err)
	}
	for i, table := range []string{midTable, endTable} {
		if status[i].Behind != 0 || status[i].FailedAttempts != 0 {
			t.Errorf("%s after the recovery: %+v", status[i].ConsumerName, status[i])
		}
		// The projections came with the dump: the rows written on the
		// first cluster and those after the restore, every event once.
		if v := judge(committedIDs(all), projectionRows(t, ctx, tpool, table)); v != (verdict{}) {
			t.Errorf("%s's projection after the restore: %+v", status[i].ConsumerName, v)
		}
	}
	if mid.calls.Load() != int64(len(early)+len(late)+len(fresh)) {
		t.Errorf("the mid-log consumer handled %d events, want %d: the %d it had delivered before the dump are not redone",
			mid.calls.Load(), len(early)+len(late)+len(fresh), len(early))
	}
}
