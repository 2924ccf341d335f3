// Package core holds Chronicle's value types, errors and ports: the parts of
// the event store that do not depend on a database.
//
// An event store appends immutable [Event] values to aggregate streams under
// optimistic concurrency ([ExpectedVersion]) and reads them back as a
// [Stream] or from the global log as [PersistedEvent] values. The ports
// ([EventStore], [AggregateStreamReader], [EventReader],
// [GlobalPositionReader], together [Store]) are generic in the transaction
// type so that each adapter works with its driver's own transaction: every
// operation runs inside a transaction the caller begins, commits or rolls
// back.
//
// Streams can be snapshotted ([SnapshotStore]: [AggregateSnapshot],
// [SnapshotPolicy]), closed with a tombstone ([StreamCloser], [Tombstone],
// [TombstoneEventType], [ErrStreamClosed]) and, by an operator, deleted
// ([StreamDeleter]).
//
// Adapters live in their own modules: adapters/postgres-pgx (pgx.Tx),
// adapters/postgres-pq (*sql.Tx) and adapters/memory (*memory.Tx, for unit
// tests). All of them pass the conformance suite in package coretest and call
// [PrepareEvents], so validation is the same everywhere.
//
// [SubjectKeyStore] stores the per-subject data keys of crypto-shredding,
// which package core/shred builds on.
//
// Errors are sentinels for [errors.Is] ([ErrOptimisticConcurrency],
// [ErrNoEvents], [ErrInvalidEvent], [ErrDuplicateEvent],
// [ErrInvalidArgument]), each with a typed error carrying the detail for
// [errors.As].
package core
