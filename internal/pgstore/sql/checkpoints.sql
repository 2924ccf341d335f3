-- Checkpoints selects every checkpoint ordered by consumer name (byte
-- order). Columns (the checkpoint columns, in this order): consumer_name
-- text, transaction_order bigint, global_position bigint, updated_at
-- timestamptz, owner text, failed_attempts integer, stopped_at
-- timestamptz (NULL), last_error text (NULL), last_error_position bigint
-- (NULL), last_error_at timestamptz (NULL); then held boolean.
--
-- held reports whether another transaction holds the row now. It neither
-- locks nor waits: a transaction that locked or updated the row version
-- this statement sees left its transaction id in the version's xmax, and a
-- running transaction holds an exclusive lock on its own id in pg_locks
-- until it ends (a prepared transaction too, with no pid). A finished
-- locker leaves xmax set but no such lock. Locking the rows with SKIP
-- LOCKED instead would hold them until the caller's transaction ends,
-- making running processors skip their batches meanwhile, and give the
-- caller a transaction id. Reading pg_locks needs no privilege. (A row
-- locked by several transactions at once carries a MultiXact id in xmax,
-- which this does not resolve; Chronicle's statements never share a
-- checkpoint's lock.) The running ids are collected once: an uncorrelated
-- ARRAY is an InitPlan, and pg_locks is a snapshot of the whole lock table.
SELECT consumer_name, transaction_order, global_position, updated_at, owner, failed_attempts,
    stopped_at, last_error, last_error_position, last_error_at,
    c.xmax = ANY (ARRAY(
        SELECT l.transactionid FROM pg_catalog.pg_locks l
        WHERE l.locktype = 'transactionid' AND l.mode = 'ExclusiveLock' AND l.granted
          AND l.pid IS DISTINCT FROM pg_catalog.pg_backend_pid())) AS held
FROM {{.Checkpoints}} c
ORDER BY consumer_name COLLATE "C"
