-- SaveCheckpoint writes a checkpoint and sets updated_at to now(), creating
-- the row if missing (it waits for the row lock otherwise). Parameters:
--   $1 consumer_name text, $2 transaction_order bigint, $3 global_position bigint,
--   $4 owner text, $5 failed_attempts integer, $6 stopped_at timestamptz (NULL: running),
--   $7 last_error text, $8 last_error_position bigint, $9 last_error_at timestamptz
--   (NULL for none of the last three).
INSERT INTO {{.Checkpoints}} AS c (consumer_name, transaction_order, global_position, updated_at, owner, failed_attempts,
    stopped_at, last_error, last_error_position, last_error_at)
VALUES ($1::text, $2::bigint, $3::bigint, now(), $4::text, $5::integer, $6::timestamptz, $7::text, $8::bigint, $9::timestamptz)
ON CONFLICT (consumer_name) DO UPDATE SET
    transaction_order = EXCLUDED.transaction_order,
    global_position = EXCLUDED.global_position,
    updated_at = EXCLUDED.updated_at,
    owner = EXCLUDED.owner,
    failed_attempts = EXCLUDED.failed_attempts,
    stopped_at = EXCLUDED.stopped_at,
    last_error = EXCLUDED.last_error,
    last_error_position = EXCLUDED.last_error_position,
    last_error_at = EXCLUDED.last_error_at
