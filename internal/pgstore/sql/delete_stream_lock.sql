-- DeleteStreamLock is DeleteStream's first statement: it locks the
-- aggregate's head FOR UPDATE — waiting for appends to it and snapshot
-- saves of it to end — and names the stream in the two transaction-local
-- settings that the append-only trigger's opt-out reads (migration 0003).
-- Parameters: $1 aggregate_type text, $2 aggregate_id text.
-- Result: the head's version and whether it was deleted before; no row
-- when the aggregate has no committed head.
SELECT h.aggregate_version, h.deleted_at IS NOT NULL,
    pg_catalog.set_config('chronicle.delete_aggregate_type', $1::text, true),
    pg_catalog.set_config('chronicle.delete_aggregate_id', $2::text, true)
FROM {{.Heads}} h
WHERE h.aggregate_type = $1::text AND h.aggregate_id = $2::text
FOR UPDATE
