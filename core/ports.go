package core

import "context"

// EventStore appends events. TX is the adapter's transaction type; the
// caller owns it and commits or rolls it back. Implementations are safe for
// concurrent use with different transactions.
type EventStore[TX any] interface {
	// Append validates events (see PrepareEvents), checks expected against
	// the aggregate's current version and stores the events with the next
	// contiguous versions, all or nothing, in one round trip.
	//
	// The aggregate is locked until tx ends: a concurrent append to the same
	// aggregate waits, then re-checks its expected version. Appends to
	// different aggregates never wait on each other.
	//
	// Expectations that need an existing aggregate (Exact(n) with n > 0,
	// StreamExists) are checked against the committed version (or tx's
	// own appends) first and conflict at once when it does not match: they
	// never wait for a transaction that is creating the aggregate or whose
	// uncommitted version they name.
	//
	// Errors: ErrInvalidEvent (ErrNoEvents for an empty batch) and
	// ErrInvalidArgument before any I/O, leaving tx as it was;
	// ErrOptimisticConcurrency when the version does not match — a result,
	// not a database error: nothing is written and tx stays usable, so that
	// its other work may still commit (a NoStream conflict on an existing
	// aggregate keeps the aggregate locked until tx ends; no other conflict
	// locks anything); ErrOptimisticConcurrency wrapping the database's error
	// (ConcurrencyError.Err set, Actual -1) for a deadlock and, under
	// REPEATABLE READ/SERIALIZABLE, a concurrent change of the aggregate —
	// the transaction is then aborted: roll back and retry; ErrDuplicateEvent
	// when an event id is already stored (tx is aborted); ErrQueryCanceled
	// when the database cancelled the statement (statement_timeout); the
	// context's error (errors.Is with context.DeadlineExceeded or
	// context.Canceled) when ctx ended while the append waited or ran. After
	// a database error the transaction is aborted, as always in PostgreSQL:
	// nothing of it is written, its locks are released, and it can only be
	// rolled back.
	Append(ctx context.Context, tx TX, expected ExpectedVersion, events []Event) (AppendResult, error)
}

// AggregateStreamReader reads one aggregate's events.
type AggregateStreamReader[TX any] interface {
	// ReadAggregateStream returns the aggregate's events by version,
	// ascending, with fromVersion and toVersion as optional inclusive bounds
	// (nil: unbounded). An unknown aggregate or an empty window is an empty
	// Stream, not an error. fromVersion > toVersion, or a bound below 1, is
	// ErrInvalidArgument.
	ReadAggregateStream(ctx context.Context, tx TX, aggregateType, aggregateID string, fromVersion, toVersion *int64) (Stream, error)
}

// EventReader reads the raw global log.
type EventReader[TX any] interface {
	// ReadEvents returns up to limit events with GlobalPosition >
	// fromPosition, ascending. limit must be >= 1 and fromPosition >= 0
	// (else ErrInvalidArgument).
	//
	// Positions are assigned at insert, not at commit: under concurrent
	// writers an event with a lower position can become visible after one
	// with a higher position. The highest position read is therefore NOT a
	// safe checkpoint for a consumer; use the consumer runtime, whose cursor
	// has no such gaps.
	ReadEvents(ctx context.Context, tx TX, fromPosition int64, limit int) ([]PersistedEvent, error)
}

// GlobalPositionReader reads the head of the global log.
type GlobalPositionReader[TX any] interface {
	// GetLatestGlobalPosition returns the highest global position visible to
	// tx, or 0 when the log is empty.
	GetLatestGlobalPosition(ctx context.Context, tx TX) (int64, error)
}

// Store is the whole event store port.
type Store[TX any] interface {
	EventStore[TX]
	AggregateStreamReader[TX]
	EventReader[TX]
	GlobalPositionReader[TX]
}
