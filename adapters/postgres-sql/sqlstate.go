package pgsql

import (
	"context"
	"errors"
	"fmt"

	"github.com/chronicle-go/chronicle/core"
)

// SQLSTATE codes the stores interpret.
const (
	UniqueViolation      = "23505"
	SerializationFailure = "40001"
	DeadlockDetected     = "40P01"
	// QueryCanceled is statement_timeout or a cancel request.
	QueryCanceled = "57014"
)

// DatabaseError is what a driver knows about an error: the SQLSTATE and
// constraint of a server error, and whether the error says the transaction
// had already ended. Each driver has one function that extracts it from its
// own error types; the interpretation is shared.
type DatabaseError struct {
	// Code is the SQLSTATE, "" when the error did not come from the server.
	Code string
	// Constraint is the constraint the server named, if any.
	Constraint string
	// TxDone reports the driver's "transaction already ended" error
	// (pgx.ErrTxClosed, sql.ErrTxDone): a rollback of such a transaction
	// has nothing left to do.
	TxDone bool
}

// AppendError turns an error of the Append statement, run with ctx, into
// Chronicle's errors, by SQLSTATE and constraint name, never by message
// text:
//
//   - 23505 on the event_id key: *core.DuplicateEventError;
//   - 23505 on the version key: *core.ConcurrencyError (the head and the
//     log disagreed; the key is the last safety net);
//   - 40001 (serialization failure under REPEATABLE READ/SERIALIZABLE, a
//     concurrent writer changed the head) and 40P01 (deadlock):
//     *core.ConcurrencyError with Actual -1;
//   - 57014 (statement_timeout, a cancel request): core.ErrQueryCanceled;
//   - anything else: wrapped as "error appending to aggregate …".
//
// When ctx has ended, the error also wraps ctx's error, whatever the
// driver reported (a broken connection, the server's 57014, database/sql's
// "transaction done"), so that a caller can tell its own deadline or
// cancellation from the database's. The driver's error is kept for
// errors.As/errors.Unwrap in every case.
func AppendError(ctx context.Context, err error, dbErr DatabaseError, constraints ConstraintNames, events []core.Event, expected core.ExpectedVersion) error {
	first := events[0]
	switch dbErr.Code {
	case UniqueViolation:
		switch dbErr.Constraint {
		case constraints.EventID:
			return &core.DuplicateEventError{AggregateType: first.AggregateType, AggregateID: first.AggregateID, Err: err}
		case constraints.AggregateVersion:
			return ConflictError(events, expected, -1, err)
		}
	case SerializationFailure, DeadlockDetected:
		return ConflictError(events, expected, -1, err)
	case QueryCanceled:
		err = fmt.Errorf("%w: %w", core.ErrQueryCanceled, err)
	}
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		err = fmt.Errorf("%w: %w", ctxErr, err)
	}
	return fmt.Errorf("error appending to aggregate %s/%s: %w", first.AggregateType, first.AggregateID, err)
}
