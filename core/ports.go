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
	// An append to a closed stream (see StreamCloser) fails with
	// ErrStreamClosed, a *StreamClosedError: a result like a conflict,
	// which writes nothing and leaves tx usable.
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
	// ErrInvalidArgument. Stream.Closed and Stream.Deleted report the
	// stream's state as tx sees it, whatever the window.
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

// StreamCloser ends aggregate streams.
type StreamCloser[TX any] interface {
	// Tombstone closes the aggregate's stream: it appends one final event
	// of type TombstoneEventType (with t's content, see PrepareTombstone),
	// under expected exactly as Append does, and marks the stream closed in
	// the same statement. From then on every append to the aggregate fails
	// with ErrStreamClosed (a *StreamClosedError naming it), whatever its
	// expected version, and reads report Stream.Closed. Consumers see the
	// tombstone as the aggregate's last event.
	//
	// The close is enforced where the version is: on the aggregate's head,
	// under its lock, so an append running concurrently either commits
	// before the tombstone (which then follows it, or conflicts under
	// Exact) or fails with ErrStreamClosed once the tombstone commits —
	// never after it. Tombstoning a closed stream is ErrStreamClosed; Any
	// and NoStream may tombstone an aggregate that has no events yet,
	// which reserves its id. Errors and the transaction's state after them
	// are Append's.
	Tombstone(ctx context.Context, tx TX, aggregateType, aggregateID string, expected ExpectedVersion, t Tombstone) (AppendResult, error)
}

// SnapshotStore saves and loads aggregate snapshots (AggregateSnapshot).
//
// A store keeps one snapshot per aggregate and state schema version: the
// one of the highest version saved. Saves never wait for appends to the
// aggregate, and appends never wait for saves.
type SnapshotStore[TX any] interface {
	// SaveSnapshot stores state as the aggregate's state at version, in
	// schema version stateSchemaVersion (0 means 1), in tx: visible to
	// others once tx commits, gone if it rolls back.
	//
	// version must be one the stream has as tx sees it (its committed
	// version, or tx's own appends): above that, or for an aggregate tx
	// sees no events of, it is ErrSnapshotVersion (a *SnapshotVersionError)
	// and nothing is written. A deleted stream is ErrStreamClosed; a
	// closed one may still be snapshotted. A version below 1, or a bad
	// aggregate or schema version, is ErrInvalidArgument before any I/O.
	// None of these errors leaves tx unusable.
	//
	// A save at the stored snapshot's version replaces it (a fixed
	// serialiser may rewrite a state); a save of a lower version than the
	// stored one keeps the stored one and returns nil, so concurrent
	// handlers never move a snapshot backwards. Two transactions saving the
	// same aggregate and schema version at once serialise: the second
	// waits for the first to end.
	SaveSnapshot(ctx context.Context, tx TX, aggregateType, aggregateID string, version int64, stateSchemaVersion int, state []byte) error
	// LoadAggregate returns, in one round trip, the aggregate's snapshot of
	// schema version stateSchemaVersion (0 means 1) visible to tx, and the
	// events after its version; without such a snapshot, every event.
	// Snapshots of any other schema version are ignored, as is a snapshot
	// above the stream's version (which SaveSnapshot never stores). The
	// Stream reports Closed and Deleted as ReadAggregateStream does. An
	// unknown aggregate is an empty result, not an error. Bad arguments are
	// ErrInvalidArgument before any I/O.
	LoadAggregate(ctx context.Context, tx TX, aggregateType, aggregateID string, stateSchemaVersion int) (LoadedAggregate, error)
}

// StreamDeleter hard-deletes streams: an operator's action (erasure,
// retention), not the application's. The PostgreSQL stores need a role
// with the DELETE privilege on the events table — its owner — since the
// application role migrate-gen's -app-role grants has none; see the
// adapters' README for the append-only trigger's opt-out it uses.
type StreamDeleter[TX any] interface {
	// DeleteStream removes every event and snapshot of the aggregate in tx
	// and leaves its head closed and marked deleted: the stream reads as
	// empty with Closed and Deleted set, appends fail with ErrStreamClosed
	// (the id is never reused), and the global log simply lacks the
	// events — positions have gaps anyway, and consumers' snapshot cursors
	// do not depend on positions being dense, so consumers neither stall
	// nor fail; a consumer that had not yet delivered the events never
	// will. It waits for transactions appending to the aggregate or saving
	// its snapshots to end first. An aggregate without a committed head
	// is not an error: DeletedStream.Existed is false and nothing is
	// written. Deleting a deleted stream removes nothing and succeeds.
	DeleteStream(ctx context.Context, tx TX, aggregateType, aggregateID string) (DeletedStream, error)
}

// Store is the whole event store port: appends and tombstones, stream,
// snapshot and global reads.
type Store[TX any] interface {
	EventStore[TX]
	StreamCloser[TX]
	AggregateStreamReader[TX]
	SnapshotStore[TX]
	EventReader[TX]
	GlobalPositionReader[TX]
}
