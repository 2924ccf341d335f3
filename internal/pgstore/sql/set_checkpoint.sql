-- SetCheckpoint waits for a consumer's lease (see claim_lease.sql), then
-- moves the consumer to a cursor, creating its row if missing, and clears
-- failed_attempts and stopped_at (the last error fields stay), and restarts
-- the progress: events_delivered 0 from now. Parameters:
-- $1 consumer_name text, $2 snapshot_xmin bigint, $3 snapshot_xmax bigint,
-- $4 snapshot_xip text (a bigint[] literal), $5 upper_xmin bigint,
-- $6 upper_xmax bigint, $7 upper_xip text, $8 page_position bigint.
-- ON CONFLICT updates the newest committed row version, also one a batch
-- committed while this statement waited for its lease.
INSERT INTO {{.Checkpoints}} AS c (consumer_name, snapshot_xmin, snapshot_xmax, snapshot_xip, upper_xmin, upper_xmax, upper_xip,
    page_position, updated_at, events_delivered, delivering_since)
SELECT $1::text, $2::bigint, $3::bigint, $4::text::bigint[], $5::bigint, $6::bigint, $7::text::bigint[], $8::bigint, now(), 0, now()
FROM (SELECT pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('chronicle consumer {{.Checkpoints}} ' || $1::text, 0))) lease
ON CONFLICT (consumer_name) DO UPDATE SET
    snapshot_xmin = EXCLUDED.snapshot_xmin,
    snapshot_xmax = EXCLUDED.snapshot_xmax,
    snapshot_xip = EXCLUDED.snapshot_xip,
    upper_xmin = EXCLUDED.upper_xmin,
    upper_xmax = EXCLUDED.upper_xmax,
    upper_xip = EXCLUDED.upper_xip,
    page_position = EXCLUDED.page_position,
    updated_at = EXCLUDED.updated_at,
    failed_attempts = 0,
    stopped_at = NULL,
    events_delivered = 0,
    delivering_since = EXCLUDED.delivering_since
