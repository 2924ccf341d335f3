-- SetCheckpoint moves a consumer to a cursor, creating its row if missing,
-- and clears failed_attempts and stopped_at; the last error fields stay.
-- Parameters: $1 consumer_name text, $2 transaction_order bigint,
-- $3 global_position bigint. Unlike ClaimCheckpoint it waits for a
-- transaction holding the row (a running batch), and for one creating it
-- (it takes the creation's advisory lock, waiting).
INSERT INTO {{.Checkpoints}} AS c (consumer_name, transaction_order, global_position, updated_at)
SELECT $1::text, $2::bigint, $3::bigint, now()
FROM (SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('chronicle checkpoint {{.Checkpoints}} ' || $1::text, 0))) creation
ON CONFLICT (consumer_name) DO UPDATE SET
    transaction_order = EXCLUDED.transaction_order,
    global_position = EXCLUDED.global_position,
    updated_at = EXCLUDED.updated_at,
    failed_attempts = 0,
    stopped_at = NULL
