-- ReadStream selects an aggregate's events by version, ascending, after a
-- header row with the stream's state.
-- Parameters: $1 aggregate_type text, $2 aggregate_id text, $3 and $4 the
-- inclusive version bounds bigint.
-- Columns: the stream state bigint (the header row only: 0 open, 1 closed,
-- 2 deleted, NULL no head), then the event columns (see read_events.sql),
-- all NULL in the header row.
--
-- The header comes first, always exactly one row, so that an empty window
-- still reports the state. No ORDER BY over the union, which would sort
-- every row: the events arm is ordered by the version key it scans, and
-- the store checks the order it receives (see readStreamRows).
SELECT (SELECT CASE WHEN deleted_at IS NOT NULL THEN 2 WHEN closed THEN 1 ELSE 0 END
        FROM {{.Heads}} WHERE aggregate_type = $1::text AND aggregate_id = $2::text)::bigint,
    NULL::bigint, NULL::text, NULL::text, NULL::bigint, NULL::uuid, NULL::text, NULL::integer,
    NULL::bytea, NULL::text, NULL::timestamptz, NULL::text, NULL::text, NULL::text, NULL::bigint
UNION ALL
(SELECT NULL::bigint, global_position, aggregate_type, aggregate_id, aggregate_version, event_id, event_type, event_version,
    payload, metadata::text, created_at, trace_id, correlation_id, causation_id, transaction_id
FROM {{.Events}}
WHERE aggregate_type = $1::text AND aggregate_id = $2::text AND aggregate_version BETWEEN $3::bigint AND $4::bigint
ORDER BY aggregate_version)
