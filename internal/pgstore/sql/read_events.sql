-- ReadEvents selects the global log after a position, ascending.
-- Parameters: $1 position bigint (exclusive), $2 limit bigint.
-- Columns (the event columns, which every event read returns in this
-- order): global_position, aggregate_type, aggregate_id,
-- aggregate_version, event_id, event_type, event_version, payload,
-- metadata as text (NULL when absent), created_at, trace_id,
-- correlation_id, causation_id, transaction_id.
SELECT global_position, aggregate_type, aggregate_id, aggregate_version, event_id, event_type, event_version,
    payload, metadata::text, created_at, trace_id, correlation_id, causation_id, transaction_id
FROM {{.Events}}
WHERE global_position > $1::bigint
ORDER BY global_position
LIMIT $2::bigint
