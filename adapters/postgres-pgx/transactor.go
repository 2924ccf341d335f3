package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/chronicle-go/chronicle/internal/pgstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// transactor is the pgx side of pgstore.Transactor, over a pool.
type transactor struct {
	pool *pgxpool.Pool
}

var (
	_ pgstore.Transactor[pgx.Tx] = transactor{}
	_ pgstore.Pipeliner[pgx.Tx]  = transactor{}
)

func (t transactor) Begin(ctx context.Context) (pgx.Tx, error) {
	return t.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
}

func (transactor) Commit(ctx context.Context, tx pgx.Tx) error { return tx.Commit(ctx) }

// BeginWith sends BEGIN and queries as one pgx batch on a connection of
// the pool (pgx.Batch.BeginTx): one round trip, plus one that prepares the
// statements on a connection's first use. The connection stays with the
// transaction until it ends.
func (t transactor) BeginWith(ctx context.Context, queries ...pgstore.Pipelined) (pgx.Tx, int, error) {
	b := &pgx.Batch{}
	b.BeginTx(pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	for _, q := range queries {
		b.Queue(q.SQL, q.Args...)
	}
	br := t.pool.SendBatch(ctx, b)
	tx := br.Tx()
	failed, err := -1, error(nil)
	if _, err = br.Exec(); err == nil {
		failed, err = readPipelined(br, queries)
	}
	if cerr := br.Close(); err == nil {
		failed, err = len(queries)-1, cerr
	}
	if err != nil {
		// Rolls back, or only hands the connection back when the
		// transaction never began.
		_ = t.Rollback(context.WithoutCancel(ctx), tx)
		return nil, failed, err
	}
	return tx, 0, nil
}

// readPipelined reads the results of queries from br, in order; on an
// error it returns the failing query's index.
func readPipelined(br pgx.BatchResults, queries []pgstore.Pipelined) (int, error) {
	for i, q := range queries {
		rows, err := br.Query()
		if err == nil {
			if q.Skip == nil || !q.Skip() {
				err = q.Read(rows)
			}
			rows.Close()
			if err == nil {
				err = rows.Err()
			}
		}
		if err != nil {
			return i, err
		}
	}
	return 0, nil
}

// ExecCommit sends the statement and COMMIT as one pgx batch. The server's
// transaction then has ended, but pgx's Tx does not know it: it is closed
// with a Commit under a context that has ended already, which sends
// nothing (pgx checks the context before it writes), marks the Tx closed
// and, the connection being idle, hands it back to its pool. A pgx that
// did send that COMMIT would cost a round trip and a warning, nothing else.
func (transactor) ExecCommit(ctx context.Context, tx pgx.Tx, sql string, args ...any) error {
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	// Not pgx's own "commit": the Commit below fails on purpose, and pgx
	// then drops the statement of its text from the connection's cache,
	// which would prepare this one again, a round trip, at every batch.
	b.Queue(batchCommit)
	br := tx.SendBatch(ctx, b)
	_, err := br.Exec()
	var tag pgconn.CommandTag
	if err == nil {
		tag, err = br.Exec()
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err // the statement failed: tx is aborted, for Rollback
	}
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	_ = tx.Commit(ended)
	if tag.String() == "ROLLBACK" {
		return pgx.ErrTxCommitRollback
	}
	return nil
}

// ExecCommitChain sends the statement, COMMIT AND CHAIN and queries as one
// pgx batch on tx's connection: tx goes on in the chained transaction,
// which pgx's Tx does not tell from the committed one. After the COMMIT a
// failure rolls the chained transaction back, ending tx.
func (t transactor) ExecCommitChain(ctx context.Context, tx pgx.Tx, sql string, args []any, queries ...pgstore.Pipelined) (bool, int, error) {
	b := &pgx.Batch{}
	b.Queue(sql, args...)
	b.Queue(chainCommit)
	for _, q := range queries {
		b.Queue(q.SQL, q.Args...)
	}
	br := tx.SendBatch(ctx, b)
	committed, failed := false, 0
	_, err := br.Exec()
	var tag pgconn.CommandTag
	if err == nil {
		tag, err = br.Exec()
		committed = err == nil && tag.String() == "COMMIT"
		if err == nil && !committed {
			err = pgx.ErrTxCommitRollback
		}
	}
	if err == nil {
		failed, err = readPipelined(br, queries)
	}
	if cerr := br.Close(); err == nil {
		failed, err = len(queries)-1, cerr
	}
	if err != nil && committed {
		_ = t.Rollback(context.WithoutCancel(ctx), tx)
	}
	return committed, failed, err
}

// chainCommit commits and begins the next transaction at once.
const chainCommit = "COMMIT AND CHAIN"

// batchCommit is the COMMIT ExecCommit sends.
const batchCommit = "COMMIT"

// Rollback treats a closed connection as a rolled-back transaction: it
// ends the transaction on the server, and pgx closes a connection to
// interrupt a statement whose context ended.
func (transactor) Rollback(ctx context.Context, tx pgx.Tx) error {
	if err := tx.Rollback(ctx); err != nil && !errors.Is(err, pgx.ErrTxClosed) && !tx.Conn().IsClosed() {
		return err
	}
	return nil
}

// listenCloseTimeout bounds closing the listening connection once Listen
// is done with it.
const listenCloseTimeout = 5 * time.Second

// Listen opens a connection of its own with the pool's connection settings
// (pgx.ConnectConfig), LISTENs, calls wake once and then once per
// notification (with its payload) until ctx ends or the connection fails,
// and closes the connection. It starts no goroutine.
func (t transactor) Listen(ctx context.Context, l pgstore.Listening, wake func(payload string)) error {
	conn, err := pgx.ConnectConfig(ctx, t.pool.Config().ConnConfig)
	if err != nil {
		return pgstore.ListenError(ctx, "connecting to listen for notifications", err)
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), listenCloseTimeout)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, l.Statement); err != nil {
		return pgstore.ListenError(ctx, "listening on channel "+l.Channel, err)
	}
	wake("")
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return pgstore.ListenError(ctx, "waiting for notifications on channel "+l.Channel, err)
		}
		wake(n.Payload)
	}
}

// Hold opens a connection of its own with the pool's connection settings
// (pgx.ConnectConfig, outside the pool, so that the pool's size is the
// application's), takes the lock, calls held, and then reads from the
// connection until ctx ends or the connection fails: a session the server
// ended (pg_terminate_backend, a restart) is noticed at once, with no
// polling. At the end it releases the lock, if the connection still works,
// and closes the connection, which ends the session and its locks anyway.
// It starts no goroutine.
func (t transactor) Hold(ctx context.Context, h pgstore.Holding, held func()) error {
	conn, err := pgx.ConnectConfig(ctx, t.pool.Config().ConnConfig)
	if err != nil {
		return pgstore.ListenError(ctx, "connecting to hold the presence", err)
	}
	locked := false
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), listenCloseTimeout)
		defer cancel()
		if locked && !conn.IsClosed() {
			_, _ = conn.Exec(closeCtx, h.Unlock, h.Args...)
		}
		_ = conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(ctx, h.Lock, h.Args...); err != nil {
		return pgstore.ListenError(ctx, "taking the presence", err)
	}
	locked = true
	held()
	for {
		// The session LISTENs on nothing: this only returns when ctx ends
		// or the connection fails.
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return pgstore.ListenError(ctx, "holding the presence", err)
		}
	}
}
