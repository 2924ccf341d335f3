-- SaveCheckpoint writes a checkpoint and sets updated_at to now(), creating
-- the row if missing. Parameters:
--   $1 consumer_name text,
--   $2 snapshot_xmin bigint, $3 snapshot_xmax bigint, $4 snapshot_xip text (a bigint[] literal),
--   $5 upper_xmin bigint, $6 upper_xmax bigint, $7 upper_xip text (a bigint[] literal), $8 page_position bigint,
--   $9 owner text, $10 failed_attempts integer, $11 stopped_at timestamptz (NULL: running),
--   $12 last_error text, $13 last_error_position bigint, $14 last_error_at timestamptz
--   (NULL for none of the last three),
--   $15 events_delivered bigint, $16 delivering_since timestamptz (NULL: now).
-- delivering_since, the start of the progress events_delivered counts, is
-- kept once stored (set_checkpoint.sql restarts it); a row without one
-- takes $16, or now().
INSERT INTO {{.Checkpoints}} AS c (consumer_name, snapshot_xmin, snapshot_xmax, snapshot_xip, upper_xmin, upper_xmax, upper_xip,
    page_position, updated_at, owner, failed_attempts, stopped_at, last_error, last_error_position, last_error_at,
    events_delivered, delivering_since)
VALUES ($1::text, $2::bigint, $3::bigint, $4::text::bigint[], $5::bigint, $6::bigint, $7::text::bigint[], $8::bigint, now(),
    $9::text, $10::integer, $11::timestamptz, $12::text, $13::bigint, $14::timestamptz, $15::bigint,
    COALESCE($16::timestamptz, now()))
ON CONFLICT (consumer_name) DO UPDATE SET
    snapshot_xmin = EXCLUDED.snapshot_xmin,
    snapshot_xmax = EXCLUDED.snapshot_xmax,
    snapshot_xip = EXCLUDED.snapshot_xip,
    upper_xmin = EXCLUDED.upper_xmin,
    upper_xmax = EXCLUDED.upper_xmax,
    upper_xip = EXCLUDED.upper_xip,
    page_position = EXCLUDED.page_position,
    updated_at = EXCLUDED.updated_at,
    owner = EXCLUDED.owner,
    failed_attempts = EXCLUDED.failed_attempts,
    stopped_at = EXCLUDED.stopped_at,
    last_error = EXCLUDED.last_error,
    last_error_position = EXCLUDED.last_error_position,
    last_error_at = EXCLUDED.last_error_at,
    events_delivered = EXCLUDED.events_delivered,
    delivering_since = COALESCE(c.delivering_since, EXCLUDED.delivering_since)
