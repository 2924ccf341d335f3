package integration_test

import (
	"errors"
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
	if _, err := pool.Exec(ctx, "UPDATE "+table+" SET event_type = 'Corrected'"); err != nil {
		t.Fatalf("UPDATE with the trigger disabled (and the schema re-run): %v", err)
	}
}
