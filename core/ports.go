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
	// Errors: ErrInvalidEvent (ErrNoEvents for an empty batch) and
	// ErrInvalidArgument before any I/O; ErrOptimisticConcurrency when the
	// version does not match, or under REPEATABLE READ/SERIALIZABLE when a
	// concurrent writer changed the aggregate (the transaction is then
	// aborted: roll back and retry); ErrDuplicateEvent when an event id is
	// already stored; ErrQueryCanceled when the database cancelled the
	// statement (statement_timeout); the context's error (errors.Is with
	// context.DeadlineExceeded or context.Canceled) when ctx ended while the
	// append waited or ran. After a database error the transaction is
	// aborted, as always in PostgreSQL: nothing of it is written.
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
