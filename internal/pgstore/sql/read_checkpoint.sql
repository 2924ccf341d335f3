-- ReadCheckpoint reads one consumer's checkpoint and the database's clock.
-- Parameters: $1 consumer_name text. Columns: now timestamptz, then the
-- checkpoint columns (see checkpoints.sql), all NULL when the consumer has
-- no checkpoint yet. Always one row; it neither locks nor writes.
SELECT now(), c.consumer_name, c.snapshot_xmin, c.snapshot_xmax, pg_catalog.array_to_string(c.snapshot_xip, ','),
    c.upper_xmin, c.upper_xmax, pg_catalog.array_to_string(c.upper_xip, ','), c.page_position,
    c.updated_at, c.owner, c.failed_attempts, c.stopped_at, c.last_error, c.last_error_position, c.last_error_at, c.events_delivered, c.delivering_since
FROM (SELECT 1) one
LEFT JOIN {{.Checkpoints}} c ON c.consumer_name = $1::text
