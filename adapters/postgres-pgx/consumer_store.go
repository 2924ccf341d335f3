package postgres

import (
	"context"

	pgsql "github.com/chronicle-go/chronicle/adapters/postgres-sql"
	"github.com/chronicle-go/chronicle/core"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

var _ core.ConsumerStore[pgx.Tx] = (*ConsumerStore)(nil)

// ConsumerStore is the consumer runtime's storage port
// (core.ConsumerStore[pgx.Tx]) over a pgx pool, for the tables of a Store:
// pass it to consumer.NewProcessor and consumer.NewOperations. It begins
// its transactions on the pool, and Listen opens a connection of its own
// with the pool's connection settings. Safe for concurrent use; make one
// with NewConsumerStore.
//
// Every method but Begin, Commit, Rollback and Listen runs in the given
// transaction, which must come from Begin (or at least be a READ COMMITTED
// transaction on the store's database). An error from a statement aborts
// the transaction, as any PostgreSQL error does: roll it back.
type ConsumerStore struct {
	pool    *pgxpool.Pool
	store   *Store
	queries pgsql.ConsumerQueries
}

// NewConsumerStore returns the consumer storage port for store's tables
// over pool. Both are required; an error wrapping ErrInvalidConfig names the
// missing one. Notifications (Listen) use store's notify channel; without
// one the runtime polls.
func NewConsumerStore(pool *pgxpool.Pool, store *Store) (*ConsumerStore, error) {
	if pool == nil {
		return nil, &ConfigError{Field: "pool", Reason: "must not be nil: pass the *pgxpool.Pool the consumers' transactions run on"}
	}
	if store == nil {
		return nil, &ConfigError{Field: "store", Reason: "must not be nil: pass the *Store from NewStore whose tables the consumers read"}
	}
	queries, err := pgsql.NewConsumerQueries(store.names, store.channel)
	if err != nil {
		return nil, err
	}
	return &ConsumerStore{pool: pool, store: store, queries: queries}, nil
}

// Begin starts a READ COMMITTED transaction on the pool, whatever the
// server's default isolation level.
func (s *ConsumerStore) Begin(ctx context.Context) (pgx.Tx, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return nil, pgsql.ConsumerError(ctx, "beginning a transaction", err)
	}
	return tx, nil
}

// Commit commits tx. A transaction that failed is rolled back instead and
// Commit returns an error.
func (s *ConsumerStore) Commit(ctx context.Context, tx pgx.Tx) error {
	if err := tx.Commit(ctx); err != nil {
		return pgsql.ConsumerError(ctx, "committing", err)
	}
	return nil
}

// Rollback rolls tx back; it returns nil when tx has already ended,
// including when its connection was closed (which ends it on the server;
// pgx closes a connection to interrupt a statement whose context ended).
func (s *ConsumerStore) Rollback(ctx context.Context, tx pgx.Tx) error {
	if err := tx.Rollback(ctx); err != nil && !databaseError(err).TxDone && !tx.Conn().IsClosed() {
		return pgsql.ConsumerError(ctx, "rolling back", err)
	}
	return nil
}
