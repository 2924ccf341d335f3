-- CurrentVersion selects an aggregate's version, 0 when it has none.
-- Parameters: $1 aggregate_type text, $2 aggregate_id text. Used to report
-- a conflict's actual version when the head changed after the Append
-- statement's snapshot.
SELECT COALESCE((SELECT aggregate_version FROM {{.Heads}}
                 WHERE aggregate_type = $1::text AND aggregate_id = $2::text), 0)::bigint
