package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/chronicle-go/chronicle/internal/pgstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// transactor is the pgx side of pgstore.Transactor, over a pool.
type transactor struct {
	pool *pgxpool.Pool
}

var _ pgstore.Transactor[pgx.Tx] = transactor{}

func (t transactor) Begin(ctx context.Context) (pgx.Tx, error) {
	return t.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
}

func (transactor) Commit(ctx context.Context, tx pgx.Tx) error { return tx.Commit(ctx) }

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
