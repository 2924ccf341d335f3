-- LatestPosition selects the highest visible global position, 0 when the
-- log is empty.
SELECT COALESCE(max(global_position), 0)::bigint FROM {{.Events}}
