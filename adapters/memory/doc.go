// Package memory is an in-memory Chronicle event store for unit tests.
//
// A [Store] implements core.Store[*memory.Tx] and behaves like the
// PostgreSQL adapters at READ COMMITTED, so application code written
// against the core ports runs on it in tests and on PostgreSQL in
// production:
//
//   - Appends are transactional. Uncommitted events are visible to their own
//     [Tx] only; every read of another transaction sees what was committed
//     before the read (READ COMMITTED). Readers never wait.
//   - An append locks its aggregate until the transaction ends: a second
//     writer of the aggregate waits for the first to commit or roll back,
//     then re-checks its expected version. Writers of different aggregates
//     never wait on each other.
//   - Event ids are unique across the store. An append of an id that another
//     transaction has written but not committed waits for that transaction,
//     like PostgreSQL's unique index, and then fails with
//     core.ErrDuplicateEvent or goes ahead.
//   - Global positions come from a sequence taken at insert: rolled-back
//     appends leave gaps, and positions are not in commit order.
//   - Each transaction gets a transaction id at its first write (an append,
//     a checkpoint write, RaiseOrderOffset), from an increasing counter
//     (PostgreSQL's pg_current_xact_id); each event's TransactionID is its
//     writer's id plus the order offset. Reads and consumer leases take no
//     id.
//   - A version conflict is a result, not an error of the transaction: it
//     stays usable and commits its other work. A NoStream conflict on an
//     existing aggregate keeps the aggregate locked until the transaction
//     ends (INSERT … ON CONFLICT locks the row); other conflicts lock
//     nothing. Exact(n) and StreamExists never wait for a transaction
//     creating the aggregate, nor for one whose uncommitted version they
//     name: they conflict at once, as PostgreSQL's UPDATE does not see those
//     rows.
//   - What PostgreSQL reports as a database error aborts the transaction
//     the way PostgreSQL does, at the error and not at rollback: a duplicate
//     event id, a deadlock, a context that ends while a call waits. Its
//     writes are discarded, its locks and transaction id released, and
//     everything but Rollback returns [ErrTxAborted]. Code that passes here
//     therefore rolls back where PostgreSQL requires it.
//   - Waiting transactions that wait on each other are a deadlock: the
//     store fails the one that would close the cycle at once (PostgreSQL
//     fails one after deadlock_timeout) with [ErrDeadlock]; from Append it
//     is a core.ErrOptimisticConcurrency conflict wrapping it, as
//     PostgreSQL's 40P01 is.
//
// A Store also implements core.ConsumerStore[*memory.Tx], the consumer
// runtime's storage port, the way the PostgreSQL adapters do, so the
// consumer processor and its consumers run on it in unit tests:
//
//   - Snapshots are PostgreSQL's (core.Snapshot, order offset applied): Xmin
//     is the lowest id of a transaction in progress (else Xmax), Xmax the
//     next id, Xip the ids in progress. Unlike pg_current_snapshot() they
//     list the caller's own id, if it has one, as running.
//   - A consumer batch takes the current snapshot and selects the committed
//     events whose writer it shows and the cursor's snapshot does not, by
//     GlobalPosition, at one instant; a diff larger than the batch is paged
//     with the snapshot fixed (core.Cursor.Upper). Each committed writer
//     falls into exactly one diff; rolled-back ones into none.
//   - A consumer's lease is a lock apart from its checkpoint row, held until
//     the transaction ends: ClaimCheckpoint takes it without waiting (and
//     without a transaction id), SetCheckpoint and DeleteCheckpoint wait for
//     it. Checkpoint rows have row locks of their own for their writers.
//     Checkpoint writes are visible to others only after commit.
//   - The order offset is added to transaction ids in events and snapshots.
//     An append to a log whose stored ids are ahead of the store's fails
//     with core.ErrTransactionOrderMoved; RaiseOrderOffset is the recovery
//     after a restore, which tests reproduce with
//     [Store.SetNextTransactionID].
//   - Lag counts exactly (Estimated only says the count exceeds
//     core.LagExactLimit); times come from the store's clock ([WithClock]),
//     in UTC to the microsecond.
//   - [Store.Listen] wakes after every commit that appended events, with the
//     committing transaction's id, and [Tx.OnCommit] lets a test's read
//     model change exactly when a batch commits.
//
// A Store is also core.SubjectKeyStore[*memory.Tx], the key storage of
// crypto-shredding (package core/shred): key rows visible at commit, a
// create that waits for another transaction creating the same subject's
// key (as INSERT … ON CONFLICT does), deletes and rewraps that wait for
// the row's writer; and its Begin, Commit and Rollback serve as the
// shred.Transactor of RewrapKeys.
//
// The store keeps everything in memory for its lifetime; it is not a
// production store.
package memory
