package postgres

import (
	"context"
	"database/sql"
	"fmt"

	pgsql "github.com/chronicle-go/chronicle/adapters/postgres-sql"
	"github.com/chronicle-go/chronicle/core"
)

// ClaimCheckpoint implements core.ConsumerStore: it locks the consumer's
// checkpoint row FOR UPDATE SKIP LOCKED, or creates it at the start of the
// log, in one statement, and never waits (see
// pgsql.ConsumerQueries.ClaimCheckpoint). claimed is false when another
// transaction holds the row or is creating it. The lock gives tx a
// transaction id, so tx holds the frontier back until it ends: keep batch
// transactions short.
func (s *ConsumerStore) ClaimCheckpoint(ctx context.Context, tx *sql.Tx, consumer string) (core.Checkpoint, bool, error) {
	if err := pgsql.ValidateConsumerName(consumer); err != nil {
		return core.Checkpoint{}, false, err
	}
	doing := fmt.Sprintf("claiming the checkpoint of consumer %q", consumer)
	rows, err := s.store.statements.query(ctx, tx, s.queries.ClaimCheckpoint, consumer)
	if err != nil {
		return core.Checkpoint{}, false, pgsql.ConsumerError(ctx, doing, err)
	}
	defer rows.Close()
	var (
		r       checkpointRow
		claimed bool
	)
	for rows.Next() {
		if err := rows.Scan(r.targets()...); err != nil {
			return core.Checkpoint{}, false, pgsql.ConsumerError(ctx, doing, err)
		}
		claimed = true
	}
	if err := rows.Err(); err != nil {
		return core.Checkpoint{}, false, pgsql.ConsumerError(ctx, doing, err)
	}
	if !claimed {
		return core.Checkpoint{}, false, nil
	}
	return r.checkpoint(), true, nil
}

// SaveCheckpoint implements core.ConsumerStore: it writes cp's cursor,
// owner and failure fields, with UpdatedAt set to the transaction's now()
// (times are stored in UTC to the microsecond). The write becomes visible
// to others when tx commits. Meant for a checkpoint claimed in tx; on
// another it waits for the row lock, and it creates a missing row.
func (s *ConsumerStore) SaveCheckpoint(ctx context.Context, tx *sql.Tx, cp core.Checkpoint) error {
	if err := pgsql.ValidateConsumerName(cp.ConsumerName); err != nil {
		return err
	}
	if err := pgsql.ValidateCursor(cp.Cursor); err != nil {
		return err
	}
	lastError := sql.NullString{String: cp.LastError, Valid: cp.LastError != ""}
	lastErrorPosition := sql.NullInt64{Int64: cp.LastErrorPosition, Valid: cp.LastErrorPosition != 0}
	_, err := s.store.statements.exec(ctx, tx, s.queries.SaveCheckpoint, cp.ConsumerName, cp.Cursor.TransactionOrder, cp.Cursor.GlobalPosition,
		cp.Owner, int64(cp.FailedAttempts), pgsql.DBTime(cp.StoppedAt), lastError, lastErrorPosition, pgsql.DBTime(cp.LastErrorAt))
	if err != nil {
		return pgsql.ConsumerError(ctx, fmt.Sprintf("saving the checkpoint of consumer %q", cp.ConsumerName), err)
	}
	return nil
}

// SetCheckpoint implements core.ConsumerStore: it moves the consumer's
// cursor to at, creating the checkpoint if missing, and clears
// FailedAttempts and StoppedAt (the last error stays). It waits while
// another transaction holds the row (a running batch) or creates it, until
// that ends or ctx does.
func (s *ConsumerStore) SetCheckpoint(ctx context.Context, tx *sql.Tx, consumer string, at core.Cursor) error {
	if err := pgsql.ValidateConsumerName(consumer); err != nil {
		return err
	}
	if err := pgsql.ValidateCursor(at); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, s.queries.SetCheckpoint, consumer, at.TransactionOrder, at.GlobalPosition); err != nil {
		return pgsql.ConsumerError(ctx, fmt.Sprintf("setting the checkpoint of consumer %q to %s", consumer, at), err)
	}
	return nil
}

// Checkpoints implements core.ConsumerStore: every checkpoint tx sees,
// ordered by consumer name (byte order), and for each whether another
// transaction holds it now. It neither locks nor waits (see
// pgsql.ConsumerQueries.Checkpoints). Rows another transaction is still
// creating are not seen.
func (s *ConsumerStore) Checkpoints(ctx context.Context, tx *sql.Tx) ([]core.Checkpoint, []bool, error) {
	rows, err := tx.QueryContext(ctx, s.queries.Checkpoints)
	if err != nil {
		return nil, nil, pgsql.ConsumerError(ctx, "reading checkpoints", err)
	}
	defer rows.Close()
	cps, held := []core.Checkpoint{}, []bool{}
	for rows.Next() {
		var (
			r checkpointRow
			h bool
		)
		if err := rows.Scan(append(r.targets(), &h)...); err != nil {
			return nil, nil, pgsql.ConsumerError(ctx, "reading checkpoints", err)
		}
		cps, held = append(cps, r.checkpoint()), append(held, h)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, pgsql.ConsumerError(ctx, "reading checkpoints", err)
	}
	return cps, held, nil
}

// checkpointRow receives the pgsql.CheckpointColumns of one row.
type checkpointRow struct {
	cp                core.Checkpoint
	failedAttempts    int64
	stoppedAt         sql.NullTime
	lastError         sql.NullString
	lastErrorPosition sql.NullInt64
	lastErrorAt       sql.NullTime
}

// targets returns the scan targets, in column order.
func (r *checkpointRow) targets() []any {
	return []any{&r.cp.ConsumerName, &r.cp.Cursor.TransactionOrder, &r.cp.Cursor.GlobalPosition, &r.cp.UpdatedAt,
		&r.cp.Owner, &r.failedAttempts, &r.stoppedAt, &r.lastError, &r.lastErrorPosition, &r.lastErrorAt}
}

// checkpoint returns the scanned checkpoint, times in UTC, NULLs as zero
// values.
func (r *checkpointRow) checkpoint() core.Checkpoint {
	cp := r.cp
	cp.UpdatedAt = cp.UpdatedAt.UTC()
	cp.FailedAttempts = int(r.failedAttempts)
	if r.stoppedAt.Valid {
		cp.StoppedAt = r.stoppedAt.Time.UTC()
	}
	cp.LastError, cp.LastErrorPosition = r.lastError.String, r.lastErrorPosition.Int64
	if r.lastErrorAt.Valid {
		cp.LastErrorAt = r.lastErrorAt.Time.UTC()
	}
	return cp
}
