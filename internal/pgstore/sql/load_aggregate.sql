-- LoadAggregate selects an aggregate's snapshot of one state schema
-- version and the events after it, in one statement.
-- Parameters: $1 aggregate_type text, $2 aggregate_id text, $3 the state
-- schema version integer.
-- Columns: the stream state bigint (header row only: 0 open, 1 closed, 2
-- deleted, NULL no head), then the event columns (see read_events.sql).
--
-- The first arm is the header, always exactly one row: the stream state,
-- and the snapshot in the event columns — global_position 0 (NULL when
-- there is no snapshot), aggregate_version its version, event_version its
-- schema version, payload its state, created_at when it was saved, and
-- placeholders (the nil UUID, an empty type) where a snapshot has nothing.
-- The second arm is the events after the snapshot's version, ordered by
-- the version key it scans; the store checks the order (no ORDER BY over
-- the union, which would sort every row).
--
-- A snapshot counts only while its version is one the head has and the
-- stream is not deleted: SaveSnapshot never stores another, and this
-- keeps a load right even so.
WITH snapshot AS MATERIALIZED (
    SELECT s.aggregate_version, s.schema_version, s.state, s.saved_at
    FROM {{.Snapshots}} s
    JOIN {{.Heads}} h ON h.aggregate_type = s.aggregate_type AND h.aggregate_id = s.aggregate_id
    WHERE s.aggregate_type = $1::text AND s.aggregate_id = $2::text AND s.schema_version = $3::integer
      AND s.aggregate_version <= h.aggregate_version AND h.deleted_at IS NULL
)
SELECT (SELECT CASE WHEN deleted_at IS NOT NULL THEN 2 WHEN closed THEN 1 ELSE 0 END
        FROM {{.Heads}} WHERE aggregate_type = $1::text AND aggregate_id = $2::text)::bigint,
    CASE WHEN snapshot.aggregate_version IS NULL THEN NULL ELSE 0 END::bigint, $1::text, $2::text,
    snapshot.aggregate_version, '00000000-0000-0000-0000-000000000000'::uuid, ''::text, snapshot.schema_version,
    snapshot.state, NULL::text, snapshot.saved_at, NULL::text, NULL::text, NULL::text, 0::bigint
FROM (SELECT) AS one
LEFT JOIN snapshot ON true
UNION ALL
(SELECT NULL::bigint, global_position, aggregate_type, aggregate_id, aggregate_version, event_id, event_type, event_version,
    payload, metadata::text, created_at, trace_id, correlation_id, causation_id, transaction_id
FROM {{.Events}}
WHERE aggregate_type = $1::text AND aggregate_id = $2::text
  AND aggregate_version > COALESCE((SELECT aggregate_version FROM snapshot), 0)
ORDER BY aggregate_version)
