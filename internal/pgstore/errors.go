package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/chronicle-go/chronicle/core"
	"github.com/google/uuid"
)

// SQLSTATE codes the stores interpret.
const (
	uniqueViolation      = "23505"
	serializationFailure = "40001"
	deadlockDetected     = "40P01"
	// queryCanceled is statement_timeout or a cancel request.
	queryCanceled = "57014"
	// undefinedTable is a missing relation: the schema was not created.
	undefinedTable = "42P01"
	// insufficientPrivilege: the role lacks a privilege (DeleteStream as
	// the application role).
	insufficientPrivilege = "42501"
)

// DatabaseError is what a driver knows about an error: the SQLSTATE,
// constraint and detail of a server error, and whether the error says the
// transaction had already ended. Each driver has one function that
// extracts it from its own error types (Executor.DatabaseError); the
// interpretation is shared.
type DatabaseError struct {
	// Code is the SQLSTATE, "" when the error did not come from the server.
	Code string
	// Constraint is the constraint the server named, if any.
	Constraint string
	// Detail is the server's detail line, if any. A unique violation's
	// names the key value, "Key (event_id)=(…) already exists."; the
	// value part is not translated, whatever lc_messages says.
	Detail string
	// TxDone reports the driver's "transaction already ended" error
	// (pgx.ErrTxClosed, sql.ErrTxDone): a rollback of such a transaction
	// has nothing left to do.
	TxDone bool
}

// appendError turns an error of the Append statement, run with ctx, into
// Chronicle's errors, by SQLSTATE and constraint name:
//
//   - 23505 on the event_id key: *core.DuplicateEventError naming the
//     duplicate id (see duplicateID);
//   - 23505 on the version key: *core.ConcurrencyError (the head and the
//     log disagreed; the key is the last safety net);
//   - 40001 (serialization failure under REPEATABLE READ/SERIALIZABLE, a
//     concurrent writer changed the head) and 40P01 (deadlock):
//     *core.ConcurrencyError with Actual -1;
//   - 57014 (statement_timeout, a cancel request): core.ErrQueryCanceled;
//   - 42P01 (a missing table): says to apply the schema;
//   - anything else: wrapped as "error appending to aggregate …".
//
// When ctx has ended, the error also wraps ctx's error, whatever the
// driver reported (a broken connection, the server's 57014, database/sql's
// "transaction done"), so that a caller can tell its own deadline or
// cancellation from the database's. The driver's error is kept for
// errors.As/errors.Unwrap in every case.
func appendError(ctx context.Context, err error, dbErr DatabaseError, constraints ConstraintNames, events []core.Event, expected core.ExpectedVersion) error {
	first := events[0]
	switch dbErr.Code {
	case uniqueViolation:
		switch dbErr.Constraint {
		case constraints.EventID:
			return &core.DuplicateEventError{EventID: duplicateID(events, dbErr.Detail),
				AggregateType: first.AggregateType, AggregateID: first.AggregateID, Err: err}
		case constraints.AggregateVersion:
			return conflictError(events, expected, -1, err)
		}
	case serializationFailure, deadlockDetected:
		return conflictError(events, expected, -1, err)
	}
	return fmt.Errorf("error appending to aggregate %s/%s: %w", first.AggregateType, first.AggregateID, statementError(ctx, err, dbErr))
}

// duplicateID returns the id of events that a unique violation of the
// event_id key is about: the only one of a one-event batch, else the one
// whose canonical text the server's detail holds (the key value is
// printed, never translated), else uuid.Nil.
func duplicateID(events []core.Event, detail string) uuid.UUID {
	if len(events) == 1 {
		return events[0].EventID
	}
	if _, value, ok := strings.Cut(detail, "=("); ok {
		for i := range events {
			if strings.HasPrefix(value, events[i].EventID.String()+")") {
				return events[i].EventID
			}
		}
	}
	return uuid.Nil
}

// statementError adds to err, a statement's failure, what a caller needs
// to tell its causes apart: core.ErrQueryCanceled for 57014, ctx's error
// once ctx has ended, and the fix for a missing table.
func statementError(ctx context.Context, err error, dbErr DatabaseError) error {
	switch dbErr.Code {
	case queryCanceled:
		err = fmt.Errorf("%w: %w", core.ErrQueryCanceled, err)
	case undefinedTable:
		err = fmt.Errorf("the schema is missing, apply migrate-gen's migrations (or Store.SchemaSQL): %w", err)
	}
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		err = fmt.Errorf("%w: %w", ctxErr, err)
	}
	return err
}

// consumerError wraps err, the failure of the consumer store operation
// described by doing (e.g. "claiming the checkpoint of consumer \"c\""),
// as "error doing: err", through statementError.
func (s *Store[TX]) consumerError(ctx context.Context, doing string, err error) error {
	return fmt.Errorf("error %s: %w", doing, statementError(ctx, err, s.exec.DatabaseError(err)))
}

// ListenError is what a driver's Listen returns for err, the failure of
// doing: ctx's error once ctx has ended — the normal end of Listen — and
// the wrapped failure otherwise.
func ListenError(ctx context.Context, doing string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	return fmt.Errorf("error %s: %w", doing, err)
}

// errOrderOffsetMissing is returned when the order offset table has no
// row: the schema was not created by SchemaSQL, or the row was deleted.
// Running the schema again restores it with offset 0 (raise it again with
// the recovery if the log was moved).
var errOrderOffsetMissing = errors.New("the transaction order offset row is missing; run the schema (SchemaSQL or tools/migrate-gen) to restore it")

// errNotInitialised is the error of a zero Store or ConsumerStore.
func errNotInitialised(what, constructor string) error {
	return &ConfigError{Field: what, Value: "(zero value)", Reason: "is not initialised: make it with " + constructor}
}

// errNilTx is the error of a nil transaction.
var errNilTx = &core.InvalidArgumentError{Argument: "tx", Reason: "must not be nil: pass the transaction the call runs in"}
