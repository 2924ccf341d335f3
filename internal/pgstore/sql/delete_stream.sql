-- DeleteStream removes an aggregate's events and snapshots and marks its
-- head closed and deleted, after DeleteStreamLock locked the head. A
-- statement of its own, so that under READ COMMITTED its snapshot sees
-- every row committed by the transactions the lock waited for.
-- Parameters: $1 aggregate_type text, $2 aggregate_id text.
-- Result: the events and the snapshots removed.
WITH removed_events AS (
    DELETE FROM {{.Events}} WHERE aggregate_type = $1::text AND aggregate_id = $2::text
    RETURNING 1
),
removed_snapshots AS (
    DELETE FROM {{.Snapshots}} WHERE aggregate_type = $1::text AND aggregate_id = $2::text
    RETURNING 1
),
marked AS (
    UPDATE {{.Heads}} SET closed = true, deleted_at = COALESCE(deleted_at, now())
    WHERE aggregate_type = $1::text AND aggregate_id = $2::text
    RETURNING 1
)
SELECT (SELECT count(*) FROM removed_events), (SELECT count(*) FROM removed_snapshots), (SELECT count(*) FROM marked)
