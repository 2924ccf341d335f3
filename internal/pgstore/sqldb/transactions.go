package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
