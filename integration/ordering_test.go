package integration_test

import (
	"database/sql"
	"testing"

	"github.com/chronicle-go/chronicle/core"
	"github.com/jackc/pgx/v5"
)

// A transaction that took its id before a younger one appends to the same
// aggregate after the younger one committed: the append succeeds, and its
// events sort after the younger one's by (transaction_order,
// global_position), so a consumer reading in that order sees versions in
// order.
func TestEarlyTransactionAppendsAfterYounger(t *testing.T) {
	both(t, func(t *testing.T, r rig[pgx.Tx]) { testEarlyTransaction(t, r) },
		func(t *testing.T, r rig[*sql.Tx]) { testEarlyTransaction(t, r) })
}

func testEarlyTransaction[TX any](t *testing.T, r rig[TX]) {
	ctx := testContext(t)
	events := newEvents("Order", 2)
	older := r.mustBegin(t, ctx, false)
	olderID, err := r.scalar(ctx, older, "SELECT pg_current_xact_id()::text::bigint")
	if err != nil {
		t.Fatal(err)
	}
	younger := r.mustBegin(t, ctx, false)
	youngerRes := r.mustAppend(t, ctx, younger, core.NoStream(), events...)
	r.mustCommit(t, ctx, younger)
	if youngerOrder := youngerRes.Events[0].TransactionOrder; youngerOrder <= olderID {
		t.Fatalf("younger transaction's order %d is not above the older one's id %d", youngerOrder, olderID)
	}

	olderRes := r.mustAppend(t, ctx, older, core.Any(), moreEvents(events[0], 2)...)
	r.mustCommit(t, ctx, older)
	if olderRes.FromVersion() != 2 || olderRes.ToVersion() != 4 {
		t.Fatalf("older append went from version %d to %d, want 2 to 4", olderRes.FromVersion(), olderRes.ToVersion())
	}
	for _, e := range olderRes.Events {
		if e.TransactionOrder < olderID {
			t.Errorf("version %d: transaction order %d below its writer's id %d", e.AggregateVersion, e.TransactionOrder, olderID)
		}
	}
	stream := r.readStream(t, ctx, events[0].AggregateType, events[0].AggregateID)
	if stream.Len() != 4 {
		t.Fatalf("stream has %d events, want 4", stream.Len())
	}
	for i := 1; i < stream.Len(); i++ {
		prev, cur := core.CursorOf(stream.Events[i-1]), core.CursorOf(stream.Events[i])
		if cur.Compare(prev) <= 0 {
			t.Errorf("version %d at cursor %s does not sort after version %d at %s",
				stream.Events[i].AggregateVersion, cur, stream.Events[i-1].AggregateVersion, prev)
		}
	}
}

// Raising the order offset (the recovery after a restore into another
// cluster) lifts every new transaction order above it.
func TestOrderOffsetRaisesTransactionOrder(t *testing.T) {
	both(t, func(t *testing.T, r rig[pgx.Tx]) { testOrderOffset(t, r) },
		func(t *testing.T, r rig[*sql.Tx]) { testOrderOffset(t, r) })
}

func testOrderOffset[TX any](t *testing.T, r rig[TX]) {
	ctx := testContext(t)
	const offset = int64(1) << 40
	events := newEvents("Order", 1)
	before := r.appendCommitted(t, ctx, core.NoStream(), events...)
	tx := r.mustBegin(t, ctx, false)
	if _, err := r.scalar(ctx, tx, "WITH u AS (UPDATE "+qualified(r.names.Schema, r.names.OrderOffsetTable)+
		" SET order_offset = $1::bigint RETURNING order_offset) SELECT order_offset FROM u", offset); err != nil {
		t.Fatal(err)
	}
	r.mustCommit(t, ctx, tx)
	after := r.appendCommitted(t, ctx, core.Any(), moreEvents(events[0], 1)...)
	if got := after.Events[0].TransactionOrder; got <= offset || got <= before.Events[0].TransactionOrder {
		t.Fatalf("transaction order %d after raising the offset to %d (before: %d)", got, offset, before.Events[0].TransactionOrder)
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

func qualified(schema, table string) string {
	return pgx.Identifier{schema, table}.Sanitize()
}
