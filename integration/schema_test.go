package integration_test

import (
	"os"
	"strings"
	"testing"

	pqstore "github.com/chronicle-go/chronicle/adapters/postgres-pq"
	"github.com/chronicle-go/chronicle/core"
	"github.com/jackc/pgx/v5"
)

// The migration migrate-gen writes (its golden file) applies to a real
// server, twice: it is valid and idempotent.
func TestMigrateGenOutputApplies(t *testing.T) {
	ddl, err := os.ReadFile("../tools/migrate-gen/testdata/custom.golden")
	if err != nil {
		t.Fatal(err)
	}
	pool := newPool(t, 0, 2)
	ctx := testContext(t)
	for range 2 {
		if _, err := pool.Exec(ctx, string(ddl)); err != nil {
			t.Fatalf("applying migrate-gen's output: %v", err)
		}
	}
	rows, err := pool.Query(ctx, "SELECT tablename FROM pg_tables WHERE schemaname = 'Billing' ORDER BY 1")
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(tables, ","); got != "ledger_cursors,ledger_events,ledger_events_schema_version,ledger_events_snapshots,ledger_events_subject_keys,ledger_heads,ledger_order" {
		t.Fatalf("tables: %s", got)
	}
}

// Store.SchemaSQL executes through database/sql on both drivers, as the
// package doc shows.
func TestSchemaSQLThroughDatabaseSQL(t *testing.T) {
	for _, driver := range []string{"postgres", "pgx"} {
		t.Run(driver, func(t *testing.T) {
			db := openDB(t, driver)
			ctx := testContext(t)
			names := newNames()
			store, err := pqstore.NewStore(pqConfig(names))
			if err != nil {
				t.Fatal(err)
			}
			ddl, err := store.SchemaSQL(pqstore.SchemaOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if _, err := db.ExecContext(ctx, ddl); err != nil {
					t.Fatalf("executing SchemaSQL: %v", err)
				}
			}
			r := sqlRigFor(db, store, names)
			r.appendCommitted(t, ctx, core.NoStream(), newEvents("Order", 1)...)
		})
	}
}
