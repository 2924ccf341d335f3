-- ReadStream selects an aggregate's events by version, ascending.
-- Parameters: $1 aggregate_type text, $2 aggregate_id text, $3 and $4 the
-- inclusive version bounds bigint. Columns: the event columns (see
-- read_events.sql).
SELECT global_position, aggregate_type, aggregate_id, aggregate_version, event_id, event_type, event_version,
    payload, metadata::text, created_at, trace_id, correlation_id, causation_id, transaction_id
FROM {{.Events}}
WHERE aggregate_type = $1::text AND aggregate_id = $2::text AND aggregate_version BETWEEN $3::bigint AND $4::bigint
ORDER BY aggregate_version
