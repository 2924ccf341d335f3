-- CurrentVersion selects an aggregate's version (0 when it has none),
-- whether it is closed, and whether it was deleted. Parameters: $1
-- aggregate_type text, $2 aggregate_id text. Used to report a conflict's
-- actual version when the head changed after the Append statement's
-- snapshot — a tombstone committed meanwhile shows here as closed. Always
-- one row: the aggregates run over at most one head.
SELECT COALESCE(max(aggregate_version), 0)::bigint, COALESCE(bool_or(closed), false), COALESCE(bool_or(deleted_at IS NOT NULL), false)
FROM {{.Heads}}
WHERE aggregate_type = $1::text AND aggregate_id = $2::text
