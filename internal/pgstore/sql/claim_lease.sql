-- ClaimLease takes a consumer's lease without waiting: a transaction-scoped
-- advisory lock keyed by the checkpoint table and the consumer name, held
-- until the transaction ends. When $2 is true it also sets
-- synchronous_commit off for the rest of the transaction, so that the
-- batch's commit does not wait for its WAL to reach the disk (see
-- ConsumerStore's WithSynchronousBatchCommit). Parameters: $1
-- consumer_name text, $2 relax_commit boolean. Columns: claimed boolean.
--
-- Not a row lock: locking a row gives the transaction a transaction id,
-- and a batch transaction must not have one when its batch statement takes
-- its snapshot (the snapshot would count the transaction's own appends as
-- delivered). The lease is taken in a statement of its own, before the
-- checkpoint is read (read_checkpoint.sql): a statement's snapshot is taken
-- when it starts, so one that locked and read together could read the
-- checkpoint a previous holder committed just before releasing the lock.
-- A hash collision between two consumers' keys only makes them share one
-- lease. The setting rides on this statement to cost no round trip of its
-- own.
SELECT pg_catalog.pg_try_advisory_xact_lock(pg_catalog.hashtextextended('chronicle consumer {{.Checkpoints}} ' || $1::text, 0))
FROM (SELECT CASE WHEN $2::boolean THEN pg_catalog.set_config('synchronous_commit', 'off', true) END) relax
