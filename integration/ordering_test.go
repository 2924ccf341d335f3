package integration_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/chronicle-go/chronicle/core"
	"github.com/chronicle-go/chronicle/internal/pgstore"
	"github.com/jackc/pgx/v5"
)

// A transaction that took its id before a younger one appends to the same
// aggregate after the younger one committed: the append succeeds, every
// event of each transaction carries its writer's own id plus the order
// offset (the older one's events the lower id), and the older one's events
// come after the younger one's by position, which is the order a consumer
// delivers one aggregate's events in.
func TestEarlyTransactionAppendsAfterYounger(t *testing.T) {
	both(t, func(t *testing.T, r rig[pgx.Tx]) { testEarlyTransaction(t, r) },
		func(t *testing.T, r rig[*sql.Tx]) { testEarlyTransaction(t, r) })
}

func testEarlyTransaction[TX any](t *testing.T, r rig[TX]) {
	ctx := testContext(t)
	events := newEvents("Order", 2)
	older := r.mustBegin(t, ctx, false)
	olderID := writerID(t, ctx, r, older)
	younger := r.mustBegin(t, ctx, false)
	youngerRes := r.mustAppend(t, ctx, younger, core.NoStream(), events...)
	youngerID := writerID(t, ctx, r, younger)
	r.mustCommit(t, ctx, younger)
	if youngerID <= olderID {
		t.Fatalf("younger transaction's id %d is not above the older one's %d", youngerID, olderID)
	}
	for _, e := range youngerRes.Events {
		if e.TransactionID != youngerID {
			t.Errorf("younger version %d: writer id %d, want its writer's %d", e.AggregateVersion, e.TransactionID, youngerID)
		}
	}

	olderRes := r.mustAppend(t, ctx, older, core.Any(), moreEvents(events[0], 2)...)
	r.mustCommit(t, ctx, older)
	if olderRes.FromVersion() != 2 || olderRes.ToVersion() != 4 {
		t.Fatalf("older append went from version %d to %d, want 2 to 4", olderRes.FromVersion(), olderRes.ToVersion())
	}
	for _, e := range olderRes.Events {
		if e.TransactionID != olderID {
			t.Errorf("older version %d: writer id %d, want its writer's %d", e.AggregateVersion, e.TransactionID, olderID)
		}
	}
	stream := r.readStream(t, ctx, events[0].AggregateType, events[0].AggregateID)
	if stream.Len() != 4 {
		t.Fatalf("stream has %d events, want 4", stream.Len())
	}
	for i, e := range stream.Events {
		want := youngerID
		if i >= 2 {
			want = olderID
		}
		if e.TransactionID != want {
			t.Errorf("stored version %d: writer id %d, want %d", e.AggregateVersion, e.TransactionID, want)
		}
		if i > 0 && e.GlobalPosition <= stream.Events[i-1].GlobalPosition {
			t.Errorf("version %d at position %d is not after version %d at %d",
				e.AggregateVersion, e.GlobalPosition, stream.Events[i-1].AggregateVersion, stream.Events[i-1].GlobalPosition)
		}
	}
}

// writerID is tx's transaction id plus the log's order offset: the
// TransactionID of every event tx appends. It gives tx an id.
func writerID[TX any](t *testing.T, ctx context.Context, r rig[TX], tx TX) int64 {
	t.Helper()
	id, err := r.scalar(ctx, tx, "SELECT pg_current_xact_id()::text::bigint + (SELECT order_offset FROM "+
		qualified(r.names.Schema, r.names.OrderOffsetTable)+")")
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// Raising the order offset — the offset row and, from it, the events
// table's writer-id default and check, as the recovery after a restore
// into another cluster does — lifts every new writer id by it.
func TestOrderOffsetRaisesTransactionIDs(t *testing.T) {
	both(t, func(t *testing.T, r rig[pgx.Tx]) { testOrderOffset(t, r) },
		func(t *testing.T, r rig[*sql.Tx]) { testOrderOffset(t, r) })
}

func testOrderOffset[TX any](t *testing.T, r rig[TX]) {
	ctx := testContext(t)
	const offset = int64(1) << 40
	events := newEvents("Order", 1)
	before := r.appendCommitted(t, ctx, core.NoStream(), events...)
	setOrderOffset(t, ctx, r.names, offset)
	tx := r.mustBegin(t, ctx, false)
	after := r.mustAppend(t, ctx, tx, core.Any(), moreEvents(events[0], 1)...)
	xid, err := r.scalar(ctx, tx, "SELECT pg_current_xact_id()::text::bigint")
	if err != nil {
		t.Fatal(err)
	}
	r.mustCommit(t, ctx, tx)
	if got := after.Events[0].TransactionID; got != xid+offset || got <= before.Events[0].TransactionID {
		t.Fatalf("writer id %d after raising the offset to %d, want %d (before: %d)", got, offset, xid+offset, before.Events[0].TransactionID)
	}

	// Without its row the offset is unknown: appends fail rather than order
	// events wrongly.
	tx = r.mustBegin(t, ctx, false)
	if _, err := r.scalar(ctx, tx, "WITH d AS (DELETE FROM "+qualified(r.names.Schema, r.names.OrderOffsetTable)+
		" RETURNING 1) SELECT count(*) FROM d"); err != nil {
		t.Fatal(err)
	}
	r.mustCommit(t, ctx, tx)
	tx = r.mustBegin(t, ctx, false)
	if _, err := r.store.Append(ctx, tx, core.Any(), moreEvents(events[0], 1)); err == nil {
		t.Fatal("append succeeded without an order offset row")
	}
}

// setOrderOffset sets the order offset row and writes it into the events
// table's writer-id default and check (sql/writer_id.sql), in one
// transaction, as the tables' owner.
func setOrderOffset(t testing.TB, ctx context.Context, names pgstore.Names, offset int64) {
	t.Helper()
	statements, err := pgstore.RenderStatements(names, "", pgstore.PayloadArray)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE "+qualified(names.Schema, names.OrderOffsetTable)+" SET order_offset = $1::bigint", offset); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, statements.WriterID)
		return err
	})
	if err != nil {
		t.Fatalf("setting the order offset to %d: %v", offset, err)
	}
}

func qualified(schema, table string) string {
	return pgx.Identifier{schema, table}.Sanitize()
}
