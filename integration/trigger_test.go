package integration_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/chronicle-go/chronicle/core"
	"github.com/chronicle-go/chronicle/internal/pgstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The events table is append-only: UPDATE, DELETE and TRUNCATE fail with
// restrict_violation, whoever issues them.
func TestEventsAreAppendOnly(t *testing.T) {
	pool := newPool(t, 0, 4)
	r := pgxRig(t, pool)
	ctx := testContext(t)
	events := newEvents("Order", 2)
	r.appendCommitted(t, ctx, core.NoStream(), events...)
	table := qualified(r.names.Schema, r.names.EventsTable)
	for _, stmt := range []string{
		"UPDATE " + table + " SET event_type = 'Forged'",
		"DELETE FROM " + table,
		"TRUNCATE " + table,
	} {
		_, err := pool.Exec(ctx, stmt)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "23001" {
			t.Errorf("%s: %v, want SQLSTATE 23001 (restrict_violation)", stmt, err)
		}
	}
	if n := r.readStream(t, ctx, events[0].AggregateType, events[0].AggregateID).Len(); n != 2 {
		t.Fatalf("stream has %d events after the rejected changes, want 2", n)
	}
}

// The documented opt-outs: a schema generated without the triggers, and
// an operator disabling them on an existing schema (which re-running the
// schema does not undo).
func TestAppendOnlyOptOut(t *testing.T) {
	pool := newPool(t, 0, 4)
	ctx := testContext(t)

	names := newNames()
	migrate(t, names, pgstore.SchemaOptions{OmitAppendOnlyTrigger: true})
	if _, err := pool.Exec(ctx, "DELETE FROM "+qualified(names.Schema, names.EventsTable)); err != nil {
		t.Fatalf("DELETE without the trigger: %v", err)
	}

	r := pgxRig(t, pool)
	table := qualified(r.names.Schema, r.names.EventsTable)
	r.appendCommitted(t, ctx, core.NoStream(), newEvents("Order", 1)...)
	trigger := pgx.Identifier{r.names.Constraints().AppendOnlyTrigger}.Sanitize()
	if _, err := pool.Exec(ctx, "ALTER TABLE "+table+" DISABLE TRIGGER "+trigger); err != nil {
		t.Fatal(err)
	}
	migrate(t, r.names, pgstore.SchemaOptions{})
	// The writer check still holds every new row version to its writer's
	// id: an UPDATE needs it suspended too, as the OmitAppendOnlyTrigger
	// docs show, and added back with the order offset.
	update := "UPDATE " + table + " SET event_type = 'Corrected'"
	if _, err := pool.Exec(ctx, update); sqlState(err) != "23514" {
		t.Fatalf("UPDATE with the trigger disabled but the writer check in place: %v, want 23514", err)
	}
	check := pgx.Identifier{r.names.Constraints().WriterCheck}.Sanitize()
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		for _, q := range []string{
			"ALTER TABLE " + table + " DROP CONSTRAINT " + check,
			update,
			"DO $$ BEGIN EXECUTE format('ALTER TABLE " + table + " ADD CONSTRAINT " + check +
				" CHECK (transaction_id = pg_catalog.pg_current_xact_id()::text::bigint + %s) NOT VALID', (SELECT order_offset FROM " +
				qualified(r.names.Schema, r.names.OrderOffsetTable) + ")); END $$",
		} {
			if _, err := tx.Exec(ctx, q); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("UPDATE with the trigger disabled and the writer check suspended: %v", err)
	}
	// The check is back: appends work, a forged id does not.
	r.appendCommitted(t, ctx, core.NoStream(), newEvents("Order", 1)...)
	if _, err := pool.Exec(ctx, "INSERT INTO "+table+" (aggregate_type, aggregate_id, aggregate_version, event_id, event_type, event_version, payload, created_at, transaction_id)"+
		" VALUES ('Order', 'forged', 1, gen_random_uuid(), 'Forged', 1, '', now(), 1)"); sqlState(err) != "23514" {
		t.Fatalf("a forged writer id after the check was added back: %v, want 23514", err)
	}
}

// The stream-deletion opt-out (migration 0003) lets the owner DELETE the
// rows of the one stream its transaction names in the two settings, and
// nothing else: another stream's rows, an UPDATE of the named one and a
// TRUNCATE are still refused.
func TestStreamDeletionOptOutIsNarrow(t *testing.T) {
	pool := newPool(t, 0, 4)
	r := pgxRig(t, pool)
	ctx := testContext(t)
	named, other := newEvents("Order", 2), newEvents("Order", 2)
	r.appendCommitted(t, ctx, core.NoStream(), named...)
	r.appendCommitted(t, ctx, core.NoStream(), other...)
	table := qualified(r.names.Schema, r.names.EventsTable)
	name := func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "SELECT set_config('chronicle.delete_aggregate_type', $1, true), set_config('chronicle.delete_aggregate_id', $2, true)",
			named[0].AggregateType, named[0].AggregateID)
		return err
	}
	for _, stmt := range []string{
		"DELETE FROM " + table + " WHERE aggregate_id = '" + other[0].AggregateID + "'",
		"DELETE FROM " + table,
		"UPDATE " + table + " SET event_type = 'Forged' WHERE aggregate_id = '" + named[0].AggregateID + "'",
		"TRUNCATE " + table,
	} {
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			if err := name(tx); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, stmt)
			return err
		})
		if sqlState(err) != "23001" {
			t.Errorf("%s with the opt-out naming another stream: %v, want 23001", stmt, err)
		}
	}
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := name(tx); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "DELETE FROM "+table+" WHERE aggregate_id = '"+named[0].AggregateID+"'")
		return err
	})
	if err != nil {
		t.Fatalf("DELETE of the named stream: %v", err)
	}
	if n := r.readStream(t, ctx, named[0].AggregateType, named[0].AggregateID).Len(); n != 0 {
		t.Errorf("the named stream has %d events left", n)
	}
	if n := r.readStream(t, ctx, other[0].AggregateType, other[0].AggregateID).Len(); n != 2 {
		t.Errorf("the other stream has %d events, want 2", n)
	}
}
