package integration_test

import (
	"context"
	"database/sql"
	"testing"

	pqstore "github.com/chronicle-go/chronicle/adapters/postgres-pq"
	"github.com/chronicle-go/chronicle/core/coretest"
)

// The database/sql store with statements prepared on its DB
// (pqstore.WithPreparedStatements) runs the whole conformance suite and the
// consumer store's, on lib/pq and on pgx's stdlib.

func TestDriverDatabaseSQLLibPQPrepared(t *testing.T) {
	coretest.Run(t, preparedHarness(openDB(t, "postgres")))
}

func TestDriverDatabaseSQLPgxStdlibPrepared(t *testing.T) {
	coretest.Run(t, preparedHarness(openDB(t, "pgx")))
}

func TestConsumerStoreDatabaseSQLLibPQPrepared(t *testing.T) {
	coretest.RunConsumerStore(t, preparedConsumerHarness(openDB(t, "postgres")))
}

func TestConsumerStoreDatabaseSQLPgxStdlibPrepared(t *testing.T) {
	coretest.RunConsumerStore(t, preparedConsumerHarness(openDB(t, "pgx")))
}

func preparedConsumerHarness(db *sql.DB) coretest.ConsumerStoreHarness[*sql.Tx] {
	return coretest.ConsumerStoreHarness[*sql.Tx]{
		NewInstance: func(t *testing.T, notify bool) coretest.ConsumerStoreInstance[*sql.Tx] {
			var opts []pqstore.StoreOption
			if notify {
				opts = append(opts, pqstore.WithNotifyChannel(newChannel()))
			}
			store, names := newPqStore(t, append(opts, pqstore.WithPreparedStatements(db), pqstore.WithListenDSN(databaseURL))...)
			cs, err := pqstore.NewConsumerStore(db, store)
			if err != nil {
				t.Fatalf("NewConsumerStore: %v", err)
			}
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

func preparedHarness(db *sql.DB) coretest.Harness[*sql.Tx] {
	return coretest.Harness[*sql.Tx]{
		NewInstance: func(t *testing.T) coretest.Instance[*sql.Tx] {
			store, _ := newPqStore(t, pqstore.WithPreparedStatements(db))
			pids := &sqlPIDs{}
			return coretest.Instance[*sql.Tx]{Store: store, Begin: pids.begin(db), AwaitLockWait: pids.lockWait(db, anyLock),
				DeleteStream: sqlDeleter(db, store)}
		},
		Commit:   func(_ context.Context, tx *sql.Tx) error { return tx.Commit() },
		Rollback: func(_ context.Context, tx *sql.Tx) error { return tx.Rollback() },
	}
}
