package integration_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	pgxstore "github.com/chronicle-go/chronicle/adapters/postgres-pgx"
	pqstore "github.com/chronicle-go/chronicle/adapters/postgres-pq"
	"github.com/chronicle-go/chronicle/core"
	"github.com/chronicle-go/chronicle/internal/pgstore"
	"github.com/jackc/pgx/v5"
)

// Custom table names and schema (mixed case, a reserved word) are created
// by the generator and used by both adapters.
func TestCustomNamesAndSchema(t *testing.T) {
	names := newNames()
	names.Schema = "Custom_" + names.Schema
	names.EventsTable = "Log"
	names.AggregateHeadsTable = "select"
	names.CheckpointsTable = "Cursors"
	names.OrderOffsetTable = "order_Offset"
	migrate(t, names, pgstore.SchemaOptions{})
	ctx := testContext(t)
	pool := newPool(t, 0, 4)

	rows, err := pool.Query(ctx, "SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename", names.Schema)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(tables, ","), "Cursors,Log,Log_schema_version,Log_snapshots,Log_subject_keys,order_Offset,select"; got != want {
		t.Fatalf("tables in schema %s: %s, want %s", names.Schema, got, want)
	}

	pgxStore, err := pgxstore.NewStore(pgxConfig(names))
	if err != nil {
		t.Fatal(err)
	}
	pqStore, err := pqstore.NewStore(pqConfig(names))
	if err != nil {
		t.Fatal(err)
	}
	pr := pgxRigFor(pool, pgxStore, names)
	sr := sqlRigFor(openDB(t, "postgres"), pqStore, names)

	events := newEvents("Order", 2)
	pr.appendCommitted(t, ctx, core.NoStream(), events...)
	sr.appendCommitted(t, ctx, core.Exact(2), moreEvents(events[0], 1)...)
	if n := pr.readStream(t, ctx, events[0].AggregateType, events[0].AggregateID).Len(); n != 3 {
		t.Fatalf("pgx reads %d events, want 3", n)
	}
	var logged int64
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM "+qualified(names.Schema, "Log")).Scan(&logged); err != nil || logged != 3 {
		t.Fatalf("the custom events table holds %d rows (%v), want 3", logged, err)
	}
}

// The default names without a schema resolve through the search_path (here
// the package database's public schema).
func TestDefaultNamesOnSearchPath(t *testing.T) {
	migrate(t, pgstore.DefaultNames(), pgstore.SchemaOptions{})
	store, err := pgxstore.NewStore(pgxstore.DefaultStoreConfig())
	if err != nil {
		t.Fatal(err)
	}
	pool := newPool(t, 0, 4)
	r := pgxRigFor(pool, store, pgstore.DefaultNames())
	ctx := testContext(t)
	events := newEvents("Order", 1)
	r.appendCommitted(t, ctx, core.NoStream(), events...)
	var n int64
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM public.events WHERE aggregate_id = $1`, events[0].AggregateID).Scan(&n); err != nil || n != 1 {
		t.Fatalf("public.events holds %d rows of the aggregate (%v), want 1", n, err)
	}
}

// Names of 63 bytes, PostgreSQL's limit, get constraint names shortened
// deterministically; the adapters still recognise them.
func TestLongNames(t *testing.T) {
	names := newNames()
	names.EventsTable = strings.Repeat("e", 63)
	names.AggregateHeadsTable = strings.Repeat("h", 63)
	migrate(t, names, pgstore.SchemaOptions{})
	migrate(t, names, pgstore.SchemaOptions{}) // idempotent with shortened names too
	store, err := pqstore.NewStore(pqConfig(names))
	if err != nil {
		t.Fatal(err)
	}
	r := sqlRigFor(openDB(t, "postgres"), store, names)
	ctx := testContext(t)
	events := newEvents("Order", 1)
	r.appendCommitted(t, ctx, core.NoStream(), events...)
	dup := newEvents("Order", 1)
	dup[0].EventID = events[0].EventID
	tx := r.mustBegin(t, ctx, false)
	_, err = r.store.Append(ctx, tx, core.NoStream(), dup)
	if !errors.Is(err, core.ErrDuplicateEvent) {
		t.Fatalf("duplicate event id with long names: %v, want ErrDuplicateEvent", err)
	}
}

// Every configurable identifier rejects anything but a plain identifier,
// when the store is constructed — before any SQL exists.
func TestInvalidIdentifiersRejected(t *testing.T) {
	bad := []string{
		"events; DROP TABLE x", `ev"ents`, "ev'ents", `"events"`, strings.Repeat("a", 64), "événements", "évents",
		"1events", "ev ents", "ev-ents", "ev.ents", "ev\x00ents", "ev\nents", "events--", "$1",
	}
	type field struct {
		name     string
		pgx      func(string) pgxstore.StoreOption
		pq       func(string) pqstore.StoreOption
		set      func(*pgstore.Names, string)
		optional bool // "" is valid: no schema, no notifications
	}
	fields := []field{
		{"Schema", pgxstore.WithSchema, pqstore.WithSchema, func(n *pgstore.Names, v string) { n.Schema = v }, true},
		{"EventsTable", pgxstore.WithEventsTable, pqstore.WithEventsTable, func(n *pgstore.Names, v string) { n.EventsTable = v }, false},
		{"AggregateHeadsTable", pgxstore.WithAggregateHeadsTable, pqstore.WithAggregateHeadsTable, func(n *pgstore.Names, v string) { n.AggregateHeadsTable = v }, false},
		{"CheckpointsTable", pgxstore.WithCheckpointsTable, pqstore.WithCheckpointsTable, func(n *pgstore.Names, v string) { n.CheckpointsTable = v }, false},
		{"OrderOffsetTable", pgxstore.WithOrderOffsetTable, pqstore.WithOrderOffsetTable, func(n *pgstore.Names, v string) { n.OrderOffsetTable = v }, false},
		{"NotifyChannel", pgxstore.WithNotifyChannel, pqstore.WithNotifyChannel, nil, true},
	}
	check := func(t *testing.T, what, field string, err error) {
		t.Helper()
		var ce *pgstore.ConfigError
		switch {
		case err == nil:
			t.Errorf("%s: accepted", what)
		case !errors.Is(err, pgxstore.ErrInvalidConfig) || !errors.Is(err, pqstore.ErrInvalidConfig):
			t.Errorf("%s: %v, want ErrInvalidConfig", what, err)
		case !errors.As(err, &ce) || ce.Field != field || !strings.Contains(err.Error(), field):
			t.Errorf("%s: %v, want an error naming %s", what, err, field)
		}
	}
	for _, f := range fields {
		values := bad
		if !f.optional {
			values = append(values, "")
		}
		for _, v := range values {
			_, err := pgxstore.NewStore(pgxstore.NewStoreConfig(f.pgx(v)))
			check(t, "pgx "+f.name+"="+strconvQuote(v), f.name, err)
			_, err = pqstore.NewStore(pqstore.NewStoreConfig(f.pq(v)))
			check(t, "database/sql "+f.name+"="+strconvQuote(v), f.name, err)
			if f.set != nil {
				n := pgstore.DefaultNames()
				f.set(&n, v)
				_, err = pgstore.SchemaSQL(n, pgstore.SchemaOptions{})
				check(t, "schema "+f.name+"="+strconvQuote(v), f.name, err)
			}
		}
	}
	// Two tables of one name would make the schema ambiguous.
	_, err := pgxstore.NewStore(pgxstore.NewStoreConfig(pgxstore.WithAggregateHeadsTable("events")))
	check(t, "heads table named like the events table", "AggregateHeadsTable", err)
	// The zero config has no names: rejected, not defaulted silently.
	_, err = pqstore.NewStore(pqstore.StoreConfig{})
	check(t, "zero StoreConfig", "EventsTable", err)
}

func strconvQuote(s string) string { return strconv.Quote(s) }
