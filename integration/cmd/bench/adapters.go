package main

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"

	pgxstore "github.com/chronicle-go/chronicle/adapters/postgres-pgx"
	pqstore "github.com/chronicle-go/chronicle/adapters/postgres-pq"
	"github.com/chronicle-go/chronicle/core"
	"github.com/chronicle-go/chronicle/internal/pgstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/lib/pq" // database/sql driver "postgres"
)

// The store configurations measured.
const (
	adapterPgx = "pgx"    // postgres-pgx over a pgxpool.Pool
	adapterPq  = "lib/pq" // postgres-pq over database/sql with lib/pq, statements prepared (WithPreparedStatements)
	// adapterPqText is postgres-pq without prepared statements, sending the
	// statement text each time: not in the default run.
	adapterPqText = "lib/pq-text"
)

// maxConns sizes every pool: above the most concurrent writers plus a
// processor, so that no workload waits for a connection.
const maxConns = 16

// adapter drives one store configuration, so that each workload is
// written once for every driver's transaction type.
type adapter[TX any] struct {
	name     string
	url      string
	begin    func(ctx context.Context) (TX, error)
	commit   func(ctx context.Context, tx TX) error
	rollback func(ctx context.Context, tx TX) error
	// newStore returns a store on the tables of names (which exist),
	// notifying channel when it is not "".
	newStore func(names pgstore.Names, channel string) (core.Store[TX], error)
	// newConsumers returns the consumer storage port for a store from
	// newStore, listening when the store notifies.
	newConsumers func(store core.Store[TX]) (core.ConsumerStore[TX], error)
	// newKeys returns the subject key store of a store from newStore.
	newKeys func(store core.Store[TX]) (core.SubjectKeyStore[TX], error)
	// newProcess returns the consumer storage port for the tables of names
	// over a pool (and a store) of its own, without notifications, and a
	// function closing that pool: what a separate process running a
	// processor would have (W9, W7p).
	newProcess func(ctx context.Context, names pgstore.Names) (core.ConsumerStore[TX], func(), error)
	// statements, when set, counts the round trips made so far (BEGIN and
	// COMMIT included; a pipelined batch of statements is one); nil where
	// the driver cannot count them.
	statements func() int64
	close      func()
}

// statementCounter is a pgx tracer that counts the round trips a pool
// makes: a statement, or a pipelined batch of them; one atomic add each,
// cheap enough to stay on for every workload.
// Connections made from the pool's configuration outside the pool (the
// processor's presence session, a listener) carry the tracer too: only the
// pool's own connections, registered by its AfterConnect, count, so that
// round trips per batch counts a batch's alone.
type statementCounter struct {
	n      atomic.Int64
	pooled sync.Map // *pgx.Conn → struct{}
}

func (c *statementCounter) TraceQueryStart(ctx context.Context, conn *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	if ctx.Err() != nil {
		return ctx // pgx sends nothing under an ended context
	}
	if _, ok := c.pooled.Load(conn); ok {
		c.n.Add(1)
	}
	return ctx
}

func (c *statementCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TraceBatchStart counts a pipelined batch of statements as the one round
// trip it is.
func (c *statementCounter) TraceBatchStart(ctx context.Context, conn *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	return c.TraceQueryStart(ctx, conn, pgx.TraceQueryStartData{})
}

func (c *statementCounter) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (c *statementCounter) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

func pgxAdapter(ctx context.Context, url string) (*adapter[pgx.Tx], error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("error parsing the database URL: %w", err)
	}
	cfg.MaxConns = maxConns
	counter := &statementCounter{}
	cfg.ConnConfig.Tracer = counter
	cfg.AfterConnect = func(_ context.Context, conn *pgx.Conn) error {
		counter.pooled.Store(conn, struct{}{})
		return nil
	}
	cfg.BeforeClose = func(conn *pgx.Conn) { counter.pooled.Delete(conn) }
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("error opening a pgx pool: %w", err)
	}
	return &adapter[pgx.Tx]{
		name: adapterPgx, url: url,
		begin:    func(ctx context.Context) (pgx.Tx, error) { return pool.Begin(ctx) },
		commit:   func(ctx context.Context, tx pgx.Tx) error { return tx.Commit(ctx) },
		rollback: func(ctx context.Context, tx pgx.Tx) error { return tx.Rollback(ctx) },
		newStore: func(names pgstore.Names, channel string) (core.Store[pgx.Tx], error) {
			return pgxstore.NewStore(pgxstore.NewStoreConfig(
				pgxstore.WithSchema(names.Schema), pgxstore.WithNotifyChannel(channel)))
		},
		newConsumers: func(store core.Store[pgx.Tx]) (core.ConsumerStore[pgx.Tx], error) {
			return pgxstore.NewConsumerStore(pool, store.(*pgxstore.Store))
		},
		newKeys: func(store core.Store[pgx.Tx]) (core.SubjectKeyStore[pgx.Tx], error) {
			return pgxstore.NewKeyStore(store.(*pgxstore.Store))
		},
		newProcess: func(ctx context.Context, names pgstore.Names) (core.ConsumerStore[pgx.Tx], func(), error) {
			store, err := pgxstore.NewStore(pgxstore.NewStoreConfig(pgxstore.WithSchema(names.Schema)))
			if err != nil {
				return nil, nil, err
			}
			pool, err := pgxpool.New(ctx, url)
			if err != nil {
				return nil, nil, fmt.Errorf("error opening a pgx pool: %w", err)
			}
			cs, err := pgxstore.NewConsumerStore(pool, store)
			if err != nil {
				pool.Close()
				return nil, nil, err
			}
			return cs, pool.Close, nil
		},
		statements: counter.n.Load,
		close:      pool.Close,
	}, nil
}

// pqAdapter drives postgres-pq over lib/pq under name; prepared selects
// WithPreparedStatements.
func pqAdapter(url, name string, prepared bool) (*adapter[*sql.Tx], error) {
	db, err := sql.Open("postgres", url)
	if err != nil {
		return nil, fmt.Errorf("error opening database/sql with lib/pq: %w", err)
	}
	// database/sql keeps 2 idle connections by default: more writers would
	// open and close a connection per transaction.
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	// storeOn returns a store on the tables of names whose statements, when
	// prepared, are db's.
	storeOn := func(db *sql.DB, names pgstore.Names, channel string) (*pqstore.Store, error) {
		opts := []pqstore.StoreOption{pqstore.WithSchema(names.Schema), pqstore.WithNotifyChannel(channel), pqstore.WithListenDSN(url)}
		if prepared {
			opts = append(opts, pqstore.WithPreparedStatements(db))
		}
		return pqstore.NewStore(pqstore.NewStoreConfig(opts...))
	}
	return &adapter[*sql.Tx]{
		name: name, url: url,
		begin:    func(ctx context.Context) (*sql.Tx, error) { return db.BeginTx(ctx, nil) },
		commit:   func(_ context.Context, tx *sql.Tx) error { return tx.Commit() },
		rollback: func(_ context.Context, tx *sql.Tx) error { return tx.Rollback() },
		newStore: func(names pgstore.Names, channel string) (core.Store[*sql.Tx], error) {
			return storeOn(db, names, channel)
		},
		newConsumers: func(store core.Store[*sql.Tx]) (core.ConsumerStore[*sql.Tx], error) {
			return pqstore.NewConsumerStore(db, store.(*pqstore.Store))
		},
		newKeys: func(store core.Store[*sql.Tx]) (core.SubjectKeyStore[*sql.Tx], error) {
			return pqstore.NewKeyStore(store.(*pqstore.Store))
		},
		newProcess: func(_ context.Context, names pgstore.Names) (core.ConsumerStore[*sql.Tx], func(), error) {
			own, err := sql.Open("postgres", url)
			if err != nil {
				return nil, nil, fmt.Errorf("error opening database/sql with lib/pq: %w", err)
			}
			closeDB := func() { _ = own.Close() }
			store, err := storeOn(own, names, "")
			if err != nil {
				closeDB()
				return nil, nil, err
			}
			cs, err := pqstore.NewConsumerStore(own, store)
			if err != nil {
				closeDB()
				return nil, nil, err
			}
			return cs, closeDB, nil
		},
		close: func() { db.Close() },
	}, nil
}

// inTx runs fn in a transaction of a, committing when it returns nil.
func (a *adapter[TX]) inTx(ctx context.Context, fn func(tx TX) error) error {
	tx, err := a.begin(ctx)
	if err != nil {
		return fmt.Errorf("error beginning: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = a.rollback(context.WithoutCancel(ctx), tx)
		return err
	}
	return a.commit(ctx, tx)
}
