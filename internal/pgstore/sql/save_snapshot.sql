-- SaveSnapshot stores an aggregate's state at a version, replacing the
-- stored snapshot of the same schema version unless that one is newer.
-- Parameters: $1 aggregate_type text, $2 aggregate_id text, $3 version
-- bigint, $4 state schema version integer, $5 state bytea.
-- Result: one row: the head's version as the statement sees it (NULL: no
-- head), whether the stream is deleted, and whether the snapshot was
-- written (false also when a newer one is kept).
--
-- The head is read FOR KEY SHARE: that waits for no append (an append's
-- update of the version takes a weaker lock than KEY SHARE conflicts
-- with), but DeleteStream's FOR UPDATE waits for it, so a deletion never
-- misses a snapshot saved meanwhile, and a save that waited for a deletion
-- re-reads the head and finds it deleted. The version check uses the head
-- the transaction sees: committed, or its own appends.
WITH head AS (
    SELECT aggregate_version, deleted_at IS NOT NULL AS deleted
    FROM {{.Heads}}
    WHERE aggregate_type = $1::text AND aggregate_id = $2::text
    FOR KEY SHARE
),
saved AS (
    INSERT INTO {{.Snapshots}} AS s (aggregate_type, aggregate_id, schema_version, aggregate_version, state)
    SELECT $1::text, $2::text, $4::integer, $3::bigint, $5::bytea
    FROM head
    WHERE head.aggregate_version >= $3::bigint AND NOT head.deleted
    ON CONFLICT (aggregate_type, aggregate_id, schema_version) DO UPDATE
        SET aggregate_version = EXCLUDED.aggregate_version, state = EXCLUDED.state, saved_at = now()
        WHERE s.aggregate_version <= EXCLUDED.aggregate_version
    RETURNING 1
)
SELECT (SELECT aggregate_version FROM head), COALESCE((SELECT deleted FROM head), false), EXISTS (SELECT 1 FROM saved)
