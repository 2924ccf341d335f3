package integration_test

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chronicle-go/chronicle/core"
)

// lockKind is the heavyweight lock a LockWaitFunc waits to see a backend
// blocked on: pg_stat_activity's wait_event for wait_event_type 'Lock'.
type lockKind string

const (
	// anyLock is any heavyweight lock: an append waits for an aggregate
	// head's row (wait_event 'transactionid' or 'tuple').
	anyLock lockKind = ""
	// advisoryLock is a consumer's lease, a transaction-scoped advisory
	// lock, which SetCheckpoint and DeleteCheckpoint wait for.
	advisoryLock lockKind = "advisory"
)

// pgxLockWait is the PostgreSQL LockWaitFunc for pgx: poll the backend of
// tx's connection in pg_stat_activity until it waits for a lock of kind.
func pgxLockWait(pool *pgxpool.Pool, kind lockKind) func(ctx context.Context, tx pgx.Tx) error {
	return func(ctx context.Context, tx pgx.Tx) error {
		return awaitBackendLockWait(ctx, func(ctx context.Context, q string, pid uint32) (bool, error) {
			var w bool
			err := pool.QueryRow(ctx, q, int32(pid), string(kind)).Scan(&w)
			return w, err
		}, tx.Conn().PgConn().PID())
	}
}

// sqlPIDs records each database/sql transaction's backend pid at Begin.
type sqlPIDs struct{ m sync.Map }

func (p *sqlPIDs) begin(db *sql.DB) func(ctx context.Context) (*sql.Tx, error) {
	return func(ctx context.Context) (*sql.Tx, error) {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return nil, err
		}
		return p.record(ctx, tx)
	}
}

// record keeps tx's backend pid, or rolls tx back when it cannot be read.
func (p *sqlPIDs) record(ctx context.Context, tx *sql.Tx) (*sql.Tx, error) {
	var pid int32
	if err := tx.QueryRowContext(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	p.m.Store(tx, uint32(pid))
	return tx, nil
}

func (p *sqlPIDs) lockWait(db *sql.DB, kind lockKind) func(ctx context.Context, tx *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		pid, ok := p.m.Load(tx)
		if !ok {
			return fmt.Errorf("transaction not begun by the harness")
		}
		return awaitBackendLockWait(ctx, func(ctx context.Context, q string, pid uint32) (bool, error) {
			var w bool
			err := db.QueryRowContext(ctx, q, int32(pid), string(kind)).Scan(&w)
			return w, err
		}, pid.(uint32))
	}
}

func awaitBackendLockWait(ctx context.Context, query func(context.Context, string, uint32) (bool, error), pid uint32) error {
	// $2 is the wait_event wanted, '' for any heavyweight lock.
	const q = "SELECT COALESCE((SELECT wait_event_type = 'Lock' AND ($2::text = '' OR wait_event = $2::text) FROM pg_stat_activity WHERE pid = $1), false)"
	for {
		waiting, err := query(ctx, q, pid)
		if err != nil {
			return fmt.Errorf("polling pg_stat_activity for backend %d: %w", pid, err)
		}
		if waiting {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("backend %d never waited for a lock: %w", pid, ctx.Err())
		case <-time.After(time.Millisecond):
		}
	}
}

// pidConsumers is a consumer store whose Begin records each transaction's
// backend pid for the lock-wait hook.
type pidConsumers struct {
	core.ConsumerStore[*sql.Tx]
	pids *sqlPIDs
}

func (c pidConsumers) Begin(ctx context.Context) (*sql.Tx, error) {
	tx, err := c.ConsumerStore.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return c.pids.record(ctx, tx)
}
