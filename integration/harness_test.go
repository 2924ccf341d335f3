package integration_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	pgxstore "github.com/chronicle-go/chronicle/adapters/postgres-pgx"
	pqstore "github.com/chronicle-go/chronicle/adapters/postgres-pq"
	"github.com/chronicle-go/chronicle/core/coretest"
	"github.com/chronicle-go/chronicle/internal/pgstore"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	_ "github.com/lib/pq"
)

// testTimeout bounds each test's database work.
const testTimeout = 2 * time.Minute

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

// newPool opens a pgx pool on the package's database, in the given exec
// mode (zero: pgx's default), closed when t ends.
func newPool(t testing.TB, mode pgx.QueryExecMode, maxConns int32) *pgxpool.Pool {
	t.Helper()
	needDatabase(t)
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		t.Fatalf("parsing the database URL: %v", err)
	}
	if mode != 0 {
		cfg.ConnConfig.DefaultQueryExecMode = mode
	}
	cfg.MaxConns = maxConns
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	if err != nil {
		t.Fatalf("opening a pgx pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// openDB opens a database/sql handle with the named driver ("postgres" for
// lib/pq, "pgx" for pgx's stdlib), closed when t ends.
func openDB(t testing.TB, driver string) *sql.DB {
	t.Helper()
	needDatabase(t)
	db, err := sql.Open(driver, databaseURL)
	if err != nil {
		t.Fatalf("opening database/sql with %s: %v", driver, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// openPgxStdlibSimple opens database/sql over pgx's stdlib driver in the
// simple protocol.
func openPgxStdlibSimple(t testing.TB) *sql.DB {
	t.Helper()
	needDatabase(t)
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		t.Fatalf("parsing the database URL: %v", err)
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	db := stdlib.OpenDB(*cfg)
	t.Cleanup(func() { db.Close() })
	return db
}

var schemaSeq atomic.Int64

// newNames returns names in a schema of their own, unique in the database.
func newNames() pgstore.Names {
	n := pgstore.DefaultNames()
	n.Schema = fmt.Sprintf("ct_%d_%s", schemaSeq.Add(1), strings.ReplaceAll(uuid.NewString(), "-", "")[:8])
	return n
}

// migrate creates the schema for names with the generator's DDL. DDL runs
// on its own connection in the simple protocol, which takes several
// statements at once.
func migrate(t testing.TB, names pgstore.Names, opts pgstore.SchemaOptions) {
	t.Helper()
	needDatabase(t)
	ddl, err := pgstore.SchemaSQL(names, opts)
	if err != nil {
		t.Fatalf("generating the schema: %v", err)
	}
	ctx := testContext(t)
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		t.Fatalf("connecting: %v", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, ddl, pgx.QueryExecModeSimpleProtocol); err != nil {
		t.Fatalf("migrating schema %s: %v", names.Schema, err)
	}
}

// storeConfig are the store options for names.
func pgxConfig(names pgstore.Names, extra ...pgxstore.StoreOption) pgxstore.StoreConfig {
	opts := append([]pgxstore.StoreOption{
		pgxstore.WithSchema(names.Schema), pgxstore.WithEventsTable(names.EventsTable),
		pgxstore.WithAggregateHeadsTable(names.AggregateHeadsTable), pgxstore.WithCheckpointsTable(names.CheckpointsTable),
		pgxstore.WithOrderOffsetTable(names.OrderOffsetTable),
	}, extra...)
	return pgxstore.NewStoreConfig(opts...)
}

func pqConfig(names pgstore.Names, extra ...pqstore.StoreOption) pqstore.StoreConfig {
	opts := append([]pqstore.StoreOption{
		pqstore.WithSchema(names.Schema), pqstore.WithEventsTable(names.EventsTable),
		pqstore.WithAggregateHeadsTable(names.AggregateHeadsTable), pqstore.WithCheckpointsTable(names.CheckpointsTable),
		pqstore.WithOrderOffsetTable(names.OrderOffsetTable),
	}, extra...)
	return pqstore.NewStoreConfig(opts...)
}

// newPgxStore migrates a fresh schema and returns a pgx store over it.
func newPgxStore(t testing.TB, extra ...pgxstore.StoreOption) (*pgxstore.Store, pgstore.Names) {
	t.Helper()
	names := newNames()
	migrate(t, names, pgstore.SchemaOptions{})
	store, err := pgxstore.NewStore(pgxConfig(names, extra...))
	if err != nil {
		t.Fatalf("NewStore: %v", err)
	}
	return store, names
}

// newPqStore migrates a fresh schema and returns a database/sql store over
// it.
func newPqStore(t testing.TB, extra ...pqstore.StoreOption) (*pqstore.Store, pgstore.Names) {
	t.Helper()
	names := newNames()
	migrate(t, names, pgstore.SchemaOptions{})
	store, err := pqstore.NewStore(pqConfig(names, extra...))
	if err != nil {
		t.Fatalf("NewStore: %v", err)
	}
	return store, names
}

// pgxDeleter is the operator's deletion over pool (connected as the
// tables' owner) with store's tables, for the conformance harnesses.
func pgxDeleter(pool *pgxpool.Pool, store *pgxstore.Store) coretest.DeleteFunc {
	return coretest.Deleter[pgx.Tx](store, pool.Begin,
		func(ctx context.Context, tx pgx.Tx) error { return tx.Commit(ctx) },
		func(ctx context.Context, tx pgx.Tx) error { return tx.Rollback(ctx) })
}

// sqlDeleter is pgxDeleter over database/sql.
func sqlDeleter(db *sql.DB, store *pqstore.Store) coretest.DeleteFunc {
	return coretest.Deleter[*sql.Tx](store, func(ctx context.Context) (*sql.Tx, error) { return db.BeginTx(ctx, nil) },
		func(_ context.Context, tx *sql.Tx) error { return tx.Commit() },
		func(_ context.Context, tx *sql.Tx) error { return tx.Rollback() })
}

// pgxHarness drives the conformance suite over pool.
func pgxHarness(pool *pgxpool.Pool) coretest.Harness[pgx.Tx] {
	return coretest.Harness[pgx.Tx]{
		NewInstance: func(t *testing.T) coretest.Instance[pgx.Tx] {
			store, _ := newPgxStore(t)
			return coretest.Instance[pgx.Tx]{
				Store:         store,
				Begin:         func(ctx context.Context) (pgx.Tx, error) { return pool.Begin(ctx) },
				AwaitLockWait: pgxLockWait(pool, anyLock),
				DeleteStream:  pgxDeleter(pool, store),
			}
		},
		Commit:   func(ctx context.Context, tx pgx.Tx) error { return tx.Commit(ctx) },
		Rollback: func(ctx context.Context, tx pgx.Tx) error { return tx.Rollback(ctx) },
	}
}

// sqlHarness drives the conformance suite over db.
func sqlHarness(db *sql.DB) coretest.Harness[*sql.Tx] {
	return coretest.Harness[*sql.Tx]{
		NewInstance: func(t *testing.T) coretest.Instance[*sql.Tx] {
			store, _ := newPqStore(t)
			pids := &sqlPIDs{}
			return coretest.Instance[*sql.Tx]{Store: store, Begin: pids.begin(db), AwaitLockWait: pids.lockWait(db, anyLock),
				DeleteStream: sqlDeleter(db, store)}
		},
		Commit:   func(_ context.Context, tx *sql.Tx) error { return tx.Commit() },
		Rollback: func(_ context.Context, tx *sql.Tx) error { return tx.Rollback() },
	}
}
