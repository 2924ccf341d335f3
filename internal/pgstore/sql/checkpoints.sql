-- Checkpoints selects every checkpoint ordered by consumer name (byte
-- order). Columns (the checkpoint columns, in this order): consumer_name
-- text, snapshot_xmin bigint, snapshot_xmax bigint, snapshot_xip text (the
-- ids comma-separated), upper_xmin bigint, upper_xmax bigint, upper_xip
-- text, page_position bigint, updated_at timestamptz, owner text,
-- failed_attempts integer, stopped_at timestamptz (NULL), last_error text
-- (NULL), last_error_position bigint (NULL), last_error_at timestamptz
-- (NULL), events_delivered bigint, delivering_since timestamptz; then held
-- boolean.
--
-- held reports whether another session holds the consumer's lease (see
-- claim_lease.sql) now, from pg_locks, without taking it: trying the lock
-- would hold it until the caller's transaction ends and make running
-- processors skip their batches meanwhile. A bigint advisory key appears in
-- pg_locks as classid (high 32 bits), objid (low 32 bits) and objsubid 1.
-- Reading pg_locks needs no privilege. The held keys are collected once:
-- an uncorrelated ARRAY is an InitPlan.
SELECT consumer_name, snapshot_xmin, snapshot_xmax, pg_catalog.array_to_string(snapshot_xip, ','),
    upper_xmin, upper_xmax, pg_catalog.array_to_string(upper_xip, ','), page_position,
    updated_at, owner, failed_attempts, stopped_at, last_error, last_error_position, last_error_at, events_delivered, delivering_since,
    pg_catalog.hashtextextended('chronicle consumer {{.Checkpoints}} ' || consumer_name, 0) = ANY (ARRAY(
        SELECT (l.classid::bigint << 32) | l.objid::bigint
        FROM pg_catalog.pg_locks l
        WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted
          AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())
          AND l.pid IS DISTINCT FROM pg_catalog.pg_backend_pid())) AS held
FROM {{.Checkpoints}} c
ORDER BY consumer_name COLLATE "C"
