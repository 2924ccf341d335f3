package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/chronicle-go/chronicle/internal/pgstore"
)

// Transactions is the transaction half of pgstore.Transactor over a
// *sql.DB; a driver package adds Listen, which database/sql cannot do.
// DB is required: the zero Transactions panics on Begin. Safe for
// concurrent use.
type Transactions struct {
	DB *sql.DB
}

// Begin starts a READ COMMITTED transaction on the DB, bound to ctx as
// database/sql binds a transaction to the context it began with.
func (t Transactions) Begin(ctx context.Context) (*sql.Tx, error) {
	return t.DB.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
}

// Commit commits tx. It rolls tx back instead when ctx has already ended,
// and returns an error wrapping ctx's, as database/sql does for the
// context a transaction began with.
func (Transactions) Commit(ctx context.Context, tx *sql.Tx) error {
	if err := ctx.Err(); err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("rolled back instead: %w", err)
	}
	return tx.Commit()
}

// Rollback rolls tx back; nil when tx has already ended (sql.ErrTxDone),
// so that it can follow a Commit or a rollback on ctx's end.
func (Transactions) Rollback(_ context.Context, tx *sql.Tx) error {
	if err := tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return err
	}
	return nil
}

// holdCheck is how often Hold checks its connection: database/sql cannot
// wait on a connection for the server to end it, so a session the server
// ended is noticed within this.
const holdCheck = 2 * time.Second

// Hold takes a connection of the DB for itself (it counts towards the DB's
// SetMaxOpenConns while held), takes the lock, calls held, and pings the
// connection every holdCheck until ctx ends or a ping fails. It then
// releases the lock, if the connection still works, and discards the
// connection rather than returning it to the pool, so that the session
// ends with its locks anyway.
func (t Transactions) Hold(ctx context.Context, h pgstore.Holding, held func()) error {
	conn, err := t.DB.Conn(ctx)
	if err != nil {
		return pgstore.ListenError(ctx, "taking a connection to hold the presence", err)
	}
	locked, broken := false, false
	defer func() {
		if locked && !broken {
			releaseCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), holdCheck)
			_, _ = conn.ExecContext(releaseCtx, h.Unlock, h.Args...)
			cancel()
		}
		// driver.ErrBadConn from Raw makes database/sql close the
		// connection instead of pooling it.
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		_ = conn.Close()
	}()
	if _, err := conn.ExecContext(ctx, h.Lock, h.Args...); err != nil {
		return pgstore.ListenError(ctx, "taking the presence", err)
	}
	locked = true
	held()
	tick := time.NewTicker(holdCheck)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			if err := conn.PingContext(ctx); err != nil {
				broken = true
				return pgstore.ListenError(ctx, "holding the presence", err)
			}
		}
	}
}
