package postgres

import (
	"context"
	"database/sql"
	"fmt"

	pgsql "github.com/chronicle-go/chronicle/adapters/postgres-sql"
	"github.com/chronicle-go/chronicle/core"
	"github.com/lib/pq"
)

var _ core.ConsumerStore[*sql.Tx] = (*ConsumerStore)(nil)

// ConsumerStore is the consumer runtime's storage port
// (core.ConsumerStore[*sql.Tx]) over a *sql.DB, for the tables of a Store:
// pass it to consumer.NewProcessor and consumer.NewOperations. It begins
// its transactions on the DB; Listen uses lib/pq's listener on a
// connection string of its own (WithListenDSN). Safe for concurrent use;
// make one with NewConsumerStore.
//
// Every method but Begin, Commit, Rollback and Listen runs in the given
// transaction, which must come from Begin (or at least be a READ COMMITTED
// transaction on the store's database). An error from a statement aborts
// the transaction, as any PostgreSQL error does: roll it back.
type ConsumerStore struct {
	db        *sql.DB
	store     *Store
	queries   pgsql.ConsumerQueries
	listenDSN string
}

// ConsumerStoreOption configures NewConsumerStore.
type ConsumerStoreOption func(*ConsumerStore)

// WithListenDSN gives Listen a connection string (a postgres:// URL or
// key=value pairs, as lib/pq reads them) to LISTEN on the store's notify
// channel with lib/pq's listener. It works whichever database/sql driver
// runs the queries (lib/pq or pgx's stdlib), since the listener keeps its
// own connection, which must reach the same database. Default: none, and
// Listen returns core.ErrNotificationsUnsupported, so consumers only poll.
func WithListenDSN(dsn string) ConsumerStoreOption {
	return func(s *ConsumerStore) { s.listenDSN = dsn }
}

// NewConsumerStore returns the consumer storage port for store's tables
// over db. Both are required; an error wrapping ErrInvalidConfig names the
// missing one, or a listen DSN lib/pq cannot parse. Notifications need
// both the store's notify channel and WithListenDSN.
func NewConsumerStore(db *sql.DB, store *Store, opts ...ConsumerStoreOption) (*ConsumerStore, error) {
	if db == nil {
		return nil, &ConfigError{Field: "db", Reason: "must not be nil: pass the *sql.DB the consumers' transactions run on"}
	}
	if store == nil {
		return nil, &ConfigError{Field: "store", Reason: "must not be nil: pass the *Store from NewStore whose tables the consumers read"}
	}
	queries, err := pgsql.NewConsumerQueries(store.names, store.channel)
	if err != nil {
		return nil, err
	}
	s := &ConsumerStore{db: db, store: store, queries: queries}
	for _, opt := range opts {
		opt(s)
	}
	if s.listenDSN != "" {
		if _, err := pq.NewConnector(s.listenDSN); err != nil {
			// The DSN may hold a password, and lib/pq's error may quote it:
			// the message names the problem only; Err keeps the cause.
			return nil, &ConfigError{Field: "ListenDSN", Value: "(hidden)", Err: err,
				Reason: "lib/pq cannot read it; use a postgres:// URL or key=value pairs (see lib/pq's connection string parameters)"}
		}
	}
	return s, nil
}

// Begin starts a READ COMMITTED transaction on the DB, whatever the
// server's default isolation level.
func (s *ConsumerStore) Begin(ctx context.Context) (*sql.Tx, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return nil, pgsql.ConsumerError(ctx, "beginning a transaction", err)
	}
	return tx, nil
}

// Commit commits tx. When ctx has already ended it rolls tx back instead
// and returns an error wrapping ctx's, as database/sql does for the
// context a transaction began with. A transaction that failed is rolled
// back by the server and Commit returns an error.
func (s *ConsumerStore) Commit(ctx context.Context, tx *sql.Tx) error {
	if err := ctx.Err(); err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("error committing: rolled back instead: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return pgsql.ConsumerError(ctx, "committing", err)
	}
	return nil
}

// Rollback rolls tx back; it returns nil when tx has already ended.
func (s *ConsumerStore) Rollback(ctx context.Context, tx *sql.Tx) error {
	if err := tx.Rollback(); err != nil && !databaseError(err).TxDone {
		return pgsql.ConsumerError(ctx, "rolling back", err)
	}
	return nil
}
