package integration_test

import (
	"database/sql"
	"testing"

	pgxstore "github.com/chronicle-go/chronicle/adapters/postgres-pgx"
	pqstore "github.com/chronicle-go/chronicle/adapters/postgres-pq"
	"github.com/chronicle-go/chronicle/core/coretest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Every driver configuration runs the subject key and shredding suite.

func TestSubjectKeysPgxPool(t *testing.T) {
	coretest.RunSubjectKeys(t, pgxKeysHarness(newPool(t, 0, 32)))
}

func TestSubjectKeysPgxSimpleProtocol(t *testing.T) {
	coretest.RunSubjectKeys(t, pgxKeysHarness(newPool(t, pgx.QueryExecModeSimpleProtocol, 32)))
}

func TestSubjectKeysPgxCacheDescribe(t *testing.T) {
	coretest.RunSubjectKeys(t, pgxKeysHarness(newPool(t, pgx.QueryExecModeCacheDescribe, 32)))
}

func TestSubjectKeysPgxExec(t *testing.T) {
	coretest.RunSubjectKeys(t, pgxKeysHarness(newPool(t, pgx.QueryExecModeExec, 32)))
}

func TestSubjectKeysDatabaseSQLLibPQ(t *testing.T) {
	coretest.RunSubjectKeys(t, sqlKeysHarness(openDB(t, "postgres")))
}

func TestSubjectKeysDatabaseSQLPgxStdlib(t *testing.T) {
	coretest.RunSubjectKeys(t, sqlKeysHarness(openDB(t, "pgx")))
}

func TestSubjectKeysDatabaseSQLPgxStdlibSimpleProtocol(t *testing.T) {
	coretest.RunSubjectKeys(t, sqlKeysHarness(openPgxStdlibSimple(t)))
}

func TestSubjectKeysDatabaseSQLLibPQBinaryParameters(t *testing.T) {
	coretest.RunSubjectKeys(t, sqlKeysHarness(openLibPQBinary(t)))
}

// pgxKeysInstance returns the key store of a fresh schema for store over
// pool, with the pool's transactions.
func pgxKeysInstance(t *testing.T, pool *pgxpool.Pool, store *pgxstore.Store) coretest.SubjectKeysInstance[pgx.Tx] {
	t.Helper()
	keys, err := pgxstore.NewKeyStore(store)
	if err != nil {
		t.Fatalf("NewKeyStore: %v", err)
	}
	txs, err := pgxstore.NewConsumerStore(pool, store)
	if err != nil {
		t.Fatalf("NewConsumerStore: %v", err)
	}
	// A row lock held by another transaction shows as a wait on its id.
	return coretest.SubjectKeysInstance[pgx.Tx]{Keys: keys, Transactions: txs, AwaitLockWait: pgxLockWait(pool, anyLock)}
}

func sqlKeysInstance(t *testing.T, db *sql.DB, store *pqstore.Store) coretest.SubjectKeysInstance[*sql.Tx] {
	t.Helper()
	keys, err := pqstore.NewKeyStore(store)
	if err != nil {
		t.Fatalf("NewKeyStore: %v", err)
	}
	cs, err := pqstore.NewConsumerStore(db, store)
	if err != nil {
		t.Fatalf("NewConsumerStore: %v", err)
	}
	pids := &sqlPIDs{}
	return coretest.SubjectKeysInstance[*sql.Tx]{Keys: keys, Transactions: pidConsumers{ConsumerStore: cs, pids: pids},
		AwaitLockWait: pids.lockWait(db, anyLock)}
}

func pgxKeysHarness(pool *pgxpool.Pool) coretest.SubjectKeysHarness[pgx.Tx] {
	return coretest.SubjectKeysHarness[pgx.Tx]{
		NewInstance: func(t *testing.T) coretest.SubjectKeysInstance[pgx.Tx] {
			store, _ := newPgxStore(t)
			return pgxKeysInstance(t, pool, store)
		},
	}
}

func sqlKeysHarness(db *sql.DB) coretest.SubjectKeysHarness[*sql.Tx] {
	return coretest.SubjectKeysHarness[*sql.Tx]{
		NewInstance: func(t *testing.T) coretest.SubjectKeysInstance[*sql.Tx] {
			store, _ := newPqStore(t)
			return sqlKeysInstance(t, db, store)
		},
	}
}
