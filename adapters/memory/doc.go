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
//   - Each transaction gets a transaction id at its first append or row
//     lock, from an increasing counter (PostgreSQL's pg_current_xact_id),
//     and each event's TransactionOrder is the greater of that id plus the
//     order offset and the previous order of its aggregate.
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
//   - Checkpoint rows have row locks held until the transaction ends:
//     ClaimCheckpoint skips a locked row (FOR UPDATE SKIP LOCKED),
//     SetCheckpoint and SaveCheckpoint wait for it, and locking a row gives
//     the transaction an id, so it holds the frontier back as in PostgreSQL.
//     Checkpoint writes are visible to others only after commit.
//   - The frontier is the smallest id held by a transaction in progress (the
//     caller's included), else the next id, plus the order offset; a
//     consumer batch and its frontier are read at one instant.
//   - The order offset is added to transaction ids for new events'
//     TransactionOrder and to the frontier; RaiseOrderOffset is the recovery
//     after a restore, which tests reproduce with [Store.SetNextTransactionID].
//   - [Store.Listen] wakes on every commit that appended events, and
//     [Tx.OnCommit] lets a test's read model change exactly when a batch
//     commits.
//
// The store keeps everything in memory for its lifetime; it is not a
// production store.
package memory
