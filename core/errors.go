package core

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/google/uuid"
)

// Sentinel errors, for errors.Is. Each is returned wrapped in a typed error
// that carries the detail, for errors.As.
var (
	// ErrOptimisticConcurrency: the aggregate's version did not match the
	// expected version (the transaction stays usable), or the database
	// reported a conflict with a concurrent writer — a deadlock, or a
	// change of the aggregate under a REPEATABLE READ or SERIALIZABLE
	// transaction (the transaction is aborted). Detail: *ConcurrencyError,
	// whose Err tells the two apart.
	ErrOptimisticConcurrency = errors.New("optimistic concurrency conflict")
	// ErrNoEvents: Append was called with no events. It is also an
	// ErrInvalidEvent. Detail: *InvalidEventError.
	ErrNoEvents = errors.New("no events to append")
	// ErrInvalidEvent: an event failed validation; nothing was written.
	// Detail: *InvalidEventError.
	ErrInvalidEvent = errors.New("invalid event")
	// ErrDuplicateEvent: an event id is already stored, or appears twice in
	// one batch; nothing was written. Detail: *DuplicateEventError.
	ErrDuplicateEvent = errors.New("duplicate event id")
	// ErrInvalidArgument: an argument other than an event was out of range
	// (a read limit, version bounds, a negative expected version). Detail:
	// *InvalidArgumentError.
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrQueryCanceled: the database cancelled a statement (SQLSTATE 57014,
	// query_canceled) because statement_timeout expired or a cancel request
	// arrived (pg_cancel_backend). The transaction is aborted and nothing
	// of it is written; the caller rolls back and may retry. A statement
	// cancelled because the caller's context ended is reported with the
	// context's error instead (errors.Is(err, context.DeadlineExceeded) or
	// context.Canceled), and may match this as well when the driver
	// cancelled it through the server. Returned wrapped with the driver's
	// error.
	ErrQueryCanceled = errors.New("statement cancelled by the database")
)

// ConcurrencyError is the detail of ErrOptimisticConcurrency.
type ConcurrencyError struct {
	AggregateType string
	AggregateID   string
	Expected      ExpectedVersion
	// Actual is the aggregate's version seen by the append (0: no events,
	// or an aggregate another transaction is still creating), or -1 when
	// unknown (a conflict the database reported).
	Actual int64
	// Err is the database's error (a serialization failure, a deadlock)
	// when the database reported the conflict: the transaction is then
	// aborted and can only be rolled back. It is nil for a conflict of the
	// version check, which leaves the transaction usable.
	Err error
}

func (e *ConcurrencyError) Error() string {
	actual := "unknown"
	if e.Actual >= 0 {
		actual = strconv.FormatInt(e.Actual, 10)
	}
	msg := fmt.Sprintf("optimistic concurrency conflict on aggregate %s/%s: expected %s, actual version %s",
		e.AggregateType, e.AggregateID, e.Expected, actual)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Is reports whether target is ErrOptimisticConcurrency.
func (e *ConcurrencyError) Is(target error) bool { return target == ErrOptimisticConcurrency }

// Unwrap returns the driver's error, if any.
func (e *ConcurrencyError) Unwrap() error { return e.Err }

// InvalidEventError is the detail of ErrInvalidEvent.
type InvalidEventError struct {
	// Index is the event's index in the batch, or -1 for the batch as a whole.
	Index int
	// Field names the offending field, e.g. "AggregateID" or "Metadata".
	Field string
	// Reason says what is wrong with it.
	Reason string
	// Err is the underlying cause (ErrNoEvents, a JSON syntax error), if any.
	Err error
}

func (e *InvalidEventError) Error() string {
	if e.Index < 0 {
		return fmt.Sprintf("invalid event batch: %s: %s", e.Field, e.Reason)
	}
	return fmt.Sprintf("invalid event at index %d: %s: %s", e.Index, e.Field, e.Reason)
}

// Is reports whether target is ErrInvalidEvent.
func (e *InvalidEventError) Is(target error) bool { return target == ErrInvalidEvent }

// Unwrap returns the underlying cause, if any.
func (e *InvalidEventError) Unwrap() error { return e.Err }

// DuplicateEventError is the detail of ErrDuplicateEvent.
type DuplicateEventError struct {
	// EventID is the duplicated id: the id of the batch's event that is
	// already stored, or that repeats an earlier event of the batch. Every
	// adapter sets it.
	EventID       uuid.UUID
	AggregateType string
	AggregateID   string
	// Err is the driver's error, if the database reported the duplicate.
	Err error
}

func (e *DuplicateEventError) Error() string {
	id := "of the batch"
	if e.EventID != uuid.Nil {
		id = e.EventID.String()
	}
	msg := fmt.Sprintf("duplicate event id %s appending to aggregate %s/%s", id, e.AggregateType, e.AggregateID)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Is reports whether target is ErrDuplicateEvent.
func (e *DuplicateEventError) Is(target error) bool { return target == ErrDuplicateEvent }

// Unwrap returns the driver's error, if any.
func (e *DuplicateEventError) Unwrap() error { return e.Err }

// InvalidArgumentError is the detail of ErrInvalidArgument.
type InvalidArgumentError struct {
	// Argument names the argument, e.g. "limit".
	Argument string
	// Reason says what is wrong with it and what is accepted.
	Reason string
}

func (e *InvalidArgumentError) Error() string {
	return fmt.Sprintf("invalid argument %s: %s", e.Argument, e.Reason)
}

// Is reports whether target is ErrInvalidArgument.
func (e *InvalidArgumentError) Is(target error) bool { return target == ErrInvalidArgument }
