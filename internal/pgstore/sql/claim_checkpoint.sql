-- ClaimCheckpoint locks the checkpoint row of a consumer FOR UPDATE SKIP
-- LOCKED, or creates it at the start of the log, in one statement that
-- never waits. Parameters: $1 consumer_name text. Columns: the checkpoint
-- columns (see checkpoints.sql). No row means another transaction holds
-- the row, or is creating it.
--
-- A row created here is locked by the creating transaction until it ends,
-- so it is claimed too. Creating takes a transaction-scoped advisory lock
-- on a key derived from the table and the consumer name, without waiting
-- (pg_try_advisory_xact_lock): a second transaction creating the same row
-- concurrently would otherwise wait in the unique index for the first to
-- end, while a claim must never wait. A hash collision with another
-- advisory lock only makes a creation report "not claimed" until that lock
-- ends.
WITH claimed AS (
    SELECT consumer_name, transaction_order, global_position, updated_at, owner, failed_attempts,
        stopped_at, last_error, last_error_position, last_error_at
    FROM {{.Checkpoints}}
    WHERE consumer_name = $1::text
    FOR UPDATE SKIP LOCKED
),
created AS (
    INSERT INTO {{.Checkpoints}} (consumer_name)
    SELECT $1::text
    WHERE CASE WHEN EXISTS (SELECT 1 FROM {{.Checkpoints}} WHERE consumer_name = $1::text) THEN false
               ELSE pg_catalog.pg_try_advisory_xact_lock(pg_catalog.hashtextextended('chronicle checkpoint {{.Checkpoints}} ' || $1::text, 0)) END
    ON CONFLICT (consumer_name) DO NOTHING
    RETURNING consumer_name, transaction_order, global_position, updated_at, owner, failed_attempts,
        stopped_at, last_error, last_error_position, last_error_at
)
SELECT consumer_name, transaction_order, global_position, updated_at, owner, failed_attempts,
    stopped_at, last_error, last_error_position, last_error_at
FROM claimed
UNION ALL
SELECT consumer_name, transaction_order, global_position, updated_at, owner, failed_attempts,
    stopped_at, last_error, last_error_position, last_error_at
FROM created
