package integration_test

import (
	"context"
	"database/sql"
	"testing"

	pgxstore "github.com/chronicle-go/chronicle/adapters/postgres-pgx"
	pqstore "github.com/chronicle-go/chronicle/adapters/postgres-pq"
	"github.com/chronicle-go/chronicle/core/coretest"
	"github.com/chronicle-go/chronicle/internal/pgstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Every driver configuration runs the consumer store conformance suite.

func TestConsumerStorePgxPool(t *testing.T) {
	coretest.RunConsumerStore(t, pgxConsumerHarness(newPool(t, 0, 16)))
}

func TestConsumerStorePgxSimpleProtocol(t *testing.T) {
	coretest.RunConsumerStore(t, pgxConsumerHarness(newPool(t, pgx.QueryExecModeSimpleProtocol, 16)))
}

func TestConsumerStoreDatabaseSQLLibPQ(t *testing.T) {
	coretest.RunConsumerStore(t, sqlConsumerHarness(openDB(t, "postgres")))
}

func TestConsumerStoreDatabaseSQLPgxStdlib(t *testing.T) {
	coretest.RunConsumerStore(t, sqlConsumerHarness(openDB(t, "pgx")))
}

func TestConsumerStorePgxCacheDescribe(t *testing.T) {
	coretest.RunConsumerStore(t, pgxConsumerHarness(newPool(t, pgx.QueryExecModeCacheDescribe, 16)))
}

func TestConsumerStorePgxExec(t *testing.T) {
	coretest.RunConsumerStore(t, pgxConsumerHarness(newPool(t, pgx.QueryExecModeExec, 16)))
}

func TestConsumerStoreDatabaseSQLPgxStdlibSimpleProtocol(t *testing.T) {
	coretest.RunConsumerStore(t, sqlConsumerHarness(openPgxStdlibSimple(t)))
}

func TestConsumerStoreDatabaseSQLLibPQBinaryParameters(t *testing.T) {
	coretest.RunConsumerStore(t, sqlConsumerHarness(openLibPQBinary(t)))
}

// newPgxConsumerStore migrates a fresh schema and returns a pgx store and
// its consumer store over pool, with notifications on channel unless it is
// "".
func newPgxConsumerStore(t testing.TB, pool *pgxpool.Pool, channel string) (*pgxstore.ConsumerStore, *pgxstore.Store, pgstore.Names) {
	t.Helper()
	var opts []pgxstore.StoreOption
	if channel != "" {
		opts = append(opts, pgxstore.WithNotifyChannel(channel))
	}
	store, names := newPgxStore(t, opts...)
	cs, err := pgxstore.NewConsumerStore(pool, store)
	if err != nil {
		t.Fatalf("NewConsumerStore: %v", err)
	}
	return cs, store, names
}

// newSQLConsumerStore is newPgxConsumerStore for database/sql; the
// listener connects with the package's database URL.
func newSQLConsumerStore(t testing.TB, db *sql.DB, channel string) (*pqstore.ConsumerStore, *pqstore.Store, pgstore.Names) {
	t.Helper()
	var opts []pqstore.StoreOption
	if channel != "" {
		opts = append(opts, pqstore.WithNotifyChannel(channel))
	}
	store, names := newPqStore(t, append(opts, pqstore.WithListenDSN(databaseURL))...)
	cs, err := pqstore.NewConsumerStore(db, store)
	if err != nil {
		t.Fatalf("NewConsumerStore: %v", err)
	}
	return cs, store, names
}

func pgxConsumerHarness(pool *pgxpool.Pool) coretest.ConsumerStoreHarness[pgx.Tx] {
	return coretest.ConsumerStoreHarness[pgx.Tx]{
		NewInstance: func(t *testing.T, notify bool) coretest.ConsumerStoreInstance[pgx.Tx] {
			cs, store, names := newPgxConsumerStore(t, pool, channelIf(notify))
			return coretest.ConsumerStoreInstance[pgx.Tx]{
				Consumers: cs, Store: store, Notifies: notify, AwaitLockWait: pgxLockWait(pool, advisoryLock),
				SimulateMove: func(t *testing.T) { simulateMove(t, names) },
				DeleteStream: pgxDeleter(pool, store),
				EndPresence:  func(t *testing.T, owner string) { endPresence(t, names, owner) },
			}
		},
	}
}

func sqlConsumerHarness(db *sql.DB) coretest.ConsumerStoreHarness[*sql.Tx] {
	return coretest.ConsumerStoreHarness[*sql.Tx]{
		NewInstance: func(t *testing.T, notify bool) coretest.ConsumerStoreInstance[*sql.Tx] {
			cs, store, names := newSQLConsumerStore(t, db, channelIf(notify))
			pids := &sqlPIDs{}
			return coretest.ConsumerStoreInstance[*sql.Tx]{
				Consumers: pidConsumers{ConsumerStore: cs, pids: pids}, Store: store, Notifies: notify, AwaitLockWait: pids.lockWait(db, advisoryLock),
				SimulateMove: func(t *testing.T) { simulateMove(t, names) },
				DeleteStream: sqlDeleter(db, store),
				EndPresence:  func(t *testing.T, owner string) { endPresence(t, names, owner) },
			}
		},
	}
}

// channelIf returns a new notify channel if notify is set, else "".
func channelIf(notify bool) string {
	if notify {
		return newChannel()
	}
	return ""
}

// simulateMove makes the schema's log look restored into a cluster whose
// transaction ids are a million lower: it lowers the order offset and
// writes it into the events table's writer-id default and check, as the
// recovery does (sql/writer_id.sql), so that the offset row and the schema
// agree as they do after a real move, where the ids fell instead.
func simulateMove(t testing.TB, names pgstore.Names) {
	t.Helper()
	statements, err := pgstore.RenderStatements(names, "", pgstore.PayloadArray)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testContext(t)
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		t.Fatalf("connecting: %v", err)
	}
	defer conn.Close(context.Background())
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "UPDATE "+qualified(names.Schema, names.OrderOffsetTable)+" SET order_offset = order_offset - 1000000"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, statements.WriterID)
		return err
	})
	if err != nil {
		t.Fatalf("simulating a move: %v", err)
	}
}

// endPresence terminates the backends holding owner's presence in the
// schema of names (sql/hold_presence.sql's key), waiting until they have
// exited, as a lost connection would end them.
func endPresence(t testing.TB, names pgstore.Names, owner string) {
	t.Helper()
	ctx := testContext(t)
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		t.Fatalf("connecting: %v", err)
	}
	defer conn.Close(context.Background())
	var ended int
	err = conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE pg_terminate_backend(l.pid, 30000))
		FROM pg_locks l
		WHERE l.locktype = 'advisory' AND l.mode = 'ShareLock' AND l.objsubid = 1 AND l.granted
		  AND (l.classid::bigint << 32) | l.objid::bigint = hashtextextended('chronicle owner ' || $1::text || ' ' || $2::text, 0)`,
		qualified(names.Schema, names.CheckpointsTable), owner).Scan(&ended)
	if err != nil {
		t.Fatalf("terminating the presence of %q: %v", owner, err)
	}
	if ended == 0 {
		t.Fatalf("no backend holds the presence of %q", owner)
	}
}

// execSQL runs one statement on a connection of its own.
func execSQL(t testing.TB, query string, args ...any) {
	t.Helper()
	ctx := testContext(t)
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		t.Fatalf("connecting: %v", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, query, args...); err != nil {
		t.Fatalf("running %q: %v", query, err)
	}
}
