package integration_test

import (
	"context"
	"database/sql"
	"testing"

	pgxstore "github.com/chronicle-go/chronicle/adapters/postgres-pgx"
	pqstore "github.com/chronicle-go/chronicle/adapters/postgres-pq"
	"github.com/chronicle-go/chronicle/core"
	"github.com/jackc/pgx/v5"
)

// A transaction that claims a checkpoint commits without waiting for its
// WAL flush (synchronous_commit off for that transaction alone), unless the
// consumer store was made with WithSynchronousBatchCommit; then the
// server's setting holds. A transaction that did not claim (another
// holds the lease) is rolled back by the runtime; the setting never
// outlives the transaction on the pooled connection.
func TestBatchTransactionsCommitAsConfigured(t *testing.T) {
	t.Run("pgx", func(t *testing.T) {
		t.Parallel()
		pool := newPool(t, 0, 2)
		store, _ := newPgxStore(t)
		relaxed, err := pgxstore.NewConsumerStore(pool, store)
		if err != nil {
			t.Fatal(err)
		}
		durable, err := pgxstore.NewConsumerStore(pool, store, pgxstore.WithSynchronousBatchCommit())
		if err != nil {
			t.Fatal(err)
		}
		setting := func(ctx context.Context, tx pgx.Tx) (string, error) {
			var v string
			err := tx.QueryRow(ctx, "SHOW synchronous_commit").Scan(&v)
			return v, err
		}
		testBatchCommitSetting(t, relaxed, durable, setting)
	})
	t.Run("lib-pq", func(t *testing.T) {
		t.Parallel()
		db := openDB(t, "postgres")
		store, _ := newPqStore(t)
		relaxed, err := pqstore.NewConsumerStore(db, store)
		if err != nil {
			t.Fatal(err)
		}
		durable, err := pqstore.NewConsumerStore(db, store, pqstore.WithSynchronousBatchCommit())
		if err != nil {
			t.Fatal(err)
		}
		setting := func(ctx context.Context, tx *sql.Tx) (string, error) {
			var v string
			err := tx.QueryRowContext(ctx, "SHOW synchronous_commit").Scan(&v)
			return v, err
		}
		testBatchCommitSetting(t, relaxed, durable, setting)
	})
}

func testBatchCommitSetting[TX any](t *testing.T, relaxed, durable core.ConsumerStore[TX], setting func(context.Context, TX) (string, error)) {
	ctx := testContext(t)
	// claim begins a transaction, reads the setting before and after the
	// claim, saves the checkpoint so that the commit has WAL to flush, and
	// commits.
	claim := func(cs core.ConsumerStore[TX], name string) (before, after string) {
		t.Helper()
		tx, err := cs.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = cs.Rollback(ctx, tx) }()
		if before, err = setting(ctx, tx); err != nil {
			t.Fatal(err)
		}
		cp, claimed, err := cs.ClaimCheckpoint(ctx, tx, name)
		if err != nil || !claimed {
			t.Fatalf("ClaimCheckpoint: claimed %v, %v", claimed, err)
		}
		if after, err = setting(ctx, tx); err != nil {
			t.Fatal(err)
		}
		if err := cs.SaveCheckpoint(ctx, tx, cp); err != nil {
			t.Fatal(err)
		}
		if err := cs.Commit(ctx, tx); err != nil {
			t.Fatal(err)
		}
		return before, after
	}
	server, relaxedAfter := claim(relaxed, "relaxed")
	if server == "off" {
		t.Fatal("the server runs with synchronous_commit off: nothing to tell apart")
	}
	if relaxedAfter != "off" {
		t.Errorf("after the default store's claim synchronous_commit = %q, want off", relaxedAfter)
	}
	before, durableAfter := claim(durable, "durable")
	if before != server {
		t.Errorf("a later transaction starts with synchronous_commit = %q, want the server's %q: the setting outlived its transaction", before, server)
	}
	if durableAfter != server {
		t.Errorf("with WithSynchronousBatchCommit synchronous_commit = %q after the claim, want the server's %q", durableAfter, server)
	}
}
