package integration_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/chronicle-go/chronicle/consumer"
	"github.com/chronicle-go/chronicle/core"
	"github.com/chronicle-go/chronicle/internal/pgstore"
	"github.com/jackc/pgx/v5"
)

// TestSnapshotCursorMigrationKeepsEveryConsumersPlace: the v2 migration
// carries existing data and checkpoints over so that each consumer
// delivers exactly the events it had not delivered. A revision-1 schema
// (migration 0001) is filled with the first release's statements — writer
// orders GREATEST'd with the head's, so that two transactions share one
// order — and given checkpoints: none, the start, inside one
// transaction's events, at the end of one, before a shared order and
// inside it. A writer takes its transaction id before the migration and
// appends after it through the v2 store, as does a new writer. After
// migration 0002, a processor runs every consumer: each delivers exactly
// the events after its revision-1 cursor by (transaction_order,
// global_position), and the two new writers' events, once each, every
// aggregate in version order. Migration 0003 is applied in place too
// (twice), and the streams of revision 1 then take snapshots, a tombstone
// and a deletion.
func TestSnapshotCursorMigrationKeepsEveryConsumersPlace(t *testing.T) {
	ctx := testContext(t)
	dbURL := newThrowawayDatabase(t, ctx)
	names := pgstore.DefaultNames()
	migrations, err := pgstore.Migrations(names, pgstore.SchemaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	conn := connect(t, ctx, dbURL)
	if _, err := conn.Exec(ctx, migrations[0].Up, pgx.QueryExecModeSimpleProtocol); err != nil {
		t.Fatalf("applying %s: %v", migrations[0].ID(), err)
	}

	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	events := func(aggregateID string, n int) []core.Event { return firstReleaseEvents("Order", aggregateID, n, at) }
	a1 := firstReleaseAppend(t, ctx, conn, 0, events("a", 3))
	b1 := firstReleaseAppend(t, ctx, conn, 0, events("b", 2))
	// A writer takes its id, a younger one appends to a and commits, then
	// the older appends to a: the head gives it the younger one's order.
	older := connect(t, ctx, dbURL)
	olderTx, err := older.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer olderTx.Rollback(context.Background())
	if _, err := olderTx.Exec(ctx, "SELECT pg_current_xact_id()"); err != nil {
		t.Fatal(err)
	}
	a2 := firstReleaseAppend(t, ctx, conn, 3, events("a", 2))
	a3, err := firstReleaseAppendTx(ctx, olderTx, 5, events("a", 2))
	if err != nil {
		t.Fatal(err)
	}
	if err := olderTx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if a3[0].TransactionID != a2[0].TransactionID {
		t.Fatalf("the older writer's order %d is not the younger one's %d: the setup did not share an order", a3[0].TransactionID, a2[0].TransactionID)
	}
	// The early writer: an id taken now, events appended after the
	// migration. Revision 1's frontier stayed at or below it meanwhile, so
	// no revision-1 cursor passed it.
	early := connect(t, ctx, dbURL)
	earlyTx, err := early.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer earlyTx.Rollback(context.Background())
	var earlyID int64
	if err := earlyTx.QueryRow(ctx, "SELECT pg_current_xact_id()::text::bigint").Scan(&earlyID); err != nil {
		t.Fatal(err)
	}
	c1 := firstReleaseAppend(t, ctx, conn, 0, events("c", 2))
	stored := append(append(append(append(append([]core.PersistedEvent(nil), a1...), b1...), a2...), a3...), c1...)

	shared := a2[0].TransactionID
	cursors := map[string]v1Cursor{
		"start":         {},
		"inside-a1":     v1CursorAt(a1[0]),
		"after-a1":      v1CursorAt(a1[len(a1)-1]),
		"before-shared": {Order: shared},
		"inside-shared": v1CursorAt(a2[len(a2)-1]),
		"after-shared":  v1CursorAt(a3[len(a3)-1]),
	}
	for name, c := range cursors {
		if c.Order > earlyID {
			t.Fatalf("cursor %s at order %d is past the early writer's id %d, which revision 1 could not reach", name, c.Order, earlyID)
		}
		writeV1Checkpoint(t, ctx, conn, core.Checkpoint{ConsumerName: name, UpdatedAt: at, Owner: "host/1/2"}, c)
	}

	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, migrations[1].Up, pgx.QueryExecModeSimpleProtocol)
		return err
	})
	if err != nil {
		t.Fatalf("applying %s: %v", migrations[1].ID(), err)
	}
	// And on to the latest in place (0003: the heads' closed state, the
	// snapshots table; 0004: the subject keys), each twice: they are
	// idempotent.
	for _, m := range migrations[2:] {
		for range 2 {
			err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
				_, err := tx.Exec(ctx, m.Up, pgx.QueryExecModeSimpleProtocol)
				return err
			})
			if err != nil {
				t.Fatalf("applying %s: %v", m.ID(), err)
			}
		}
	}

	// After the migration, through the v2 store: a new writer, then the
	// early one, whose lower id lands among the events a consumer's
	// snapshot saw as running.
	pool := storePool(t, ctx, dbURL)
	store := mustPgxStore(t, names)
	r := pgxRigFor(pool, store, names)
	d1 := r.appendCommitted(t, ctx, core.NoStream(), events("d", 2)...).Events
	res, err := store.Append(ctx, earlyTx, core.Exact(7), events("a", 1))
	if err != nil {
		t.Fatalf("the early writer's append after the migration: %v", err)
	}
	if err := earlyTx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	e1 := res.Events
	if e1[0].TransactionID != earlyID {
		t.Fatalf("the early writer's event has id %d, want its own %d", e1[0].TransactionID, earlyID)
	}

	// Every consumer, in one processor, in batches of 2 (paging through
	// the steps), plus one that never had a checkpoint.
	cursors["never-saved"] = v1Cursor{}
	var (
		consumers []*rowProjector
		want      = map[string][]core.PersistedEvent{}
	)
	for name, c := range cursors {
		for _, e := range stored {
			if !c.delivered(e) {
				want[name] = append(want[name], e)
			}
		}
		want[name] = append(append(want[name], d1...), e1...)
		consumers = append(consumers, &rowProjector{name: name, table: createProjection(t, ctx, pool, "public", "projection_"+fmt.Sprint(len(consumers)))})
	}
	if n := len(want["inside-shared"]); n != len(a3)+len(c1)+len(d1)+len(e1) {
		t.Fatalf("inside-shared should have %d events to deliver, has %d", len(a3)+len(c1)+len(d1)+len(e1), n)
	}
	cfg := fastRetries
	cfg.BatchSize = 2
	p := newProcessor(t, pool, store, cfg, toConsumers(consumers)...)
	stop := startProcessor(t, p)
	for _, c := range consumers {
		waitRows(t, ctx, pool, c.table, len(want[c.name]), time.Minute)
	}
	st, err := p.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for i, c := range consumers {
		if st[i].Behind != 0 || st[i].FailedAttempts != 0 {
			t.Errorf("%s: status %+v, want caught up", c.name, st[i])
		}
		if v := judge(committedIDs(want[c.name]), projectionRows(t, ctx, pool, c.table)); v != (verdict{}) {
			t.Errorf("%s (revision-1 cursor %+v): %+v against the %d events it had not delivered", c.name, cursors[c.name], v, len(want[c.name]))
		}
	}

	// The streams written before the migrations take v3's operations: a
	// snapshot and a load of b, a tombstone that closes it, the deletion
	// of c.
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := store.SaveSnapshot(ctx, tx, "Order", "b", 2, 1, []byte("b at 2")); err != nil {
			return err
		}
		l, err := store.LoadAggregate(ctx, tx, "Order", "b", 1)
		if err != nil {
			return err
		}
		if l.Snapshot == nil || l.Snapshot.Version != 2 || len(l.Stream.Events) != 0 || l.Stream.Closed {
			return fmt.Errorf("loaded b: %+v", l)
		}
		if _, err := store.Tombstone(ctx, tx, "Order", "b", core.Exact(2), core.Tombstone{}); err != nil {
			return err
		}
		if _, err := store.Append(ctx, tx, core.Any(), events("b", 1)); !errors.Is(err, core.ErrStreamClosed) {
			return fmt.Errorf("append to the tombstoned b: %v, want ErrStreamClosed", err)
		}
		deleted, err := store.DeleteStream(ctx, tx, "Order", "c")
		if err != nil || deleted.Events != 2 {
			return fmt.Errorf("deleting c: %+v, %v", deleted, err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("v3 operations on migrated streams: %v", err)
	}
}

func toConsumers(ps []*rowProjector) []consumer.Consumer[pgx.Tx] {
	out := make([]consumer.Consumer[pgx.Tx], len(ps))
	for i, p := range ps {
		out[i] = p
	}
	return out
}
