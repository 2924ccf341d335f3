-- CurrentSnapshot selects the current snapshot with the order offset
-- applied, listing the caller's own transaction id (when it has one) as
-- running, as consumer_batch.sql does. Columns: xmin bigint, xmax bigint,
-- running ids text (comma-separated). No row: the order offset row is
-- missing. It assigns no transaction id.
WITH snap AS (
    SELECT pg_catalog.pg_current_snapshot() AS s, pg_catalog.pg_current_xact_id_if_assigned()::text::bigint AS own,
        o.order_offset AS k
    FROM {{.Offset}} o
)
SELECT LEAST(pg_catalog.pg_snapshot_xmin(snap.s)::text::bigint, CASE WHEN snap.own < pg_catalog.pg_snapshot_xmax(snap.s)::text::bigint THEN snap.own END) + snap.k,
    pg_catalog.pg_snapshot_xmax(snap.s)::text::bigint + snap.k,
    pg_catalog.array_to_string(ARRAY(
        SELECT ids.id FROM (SELECT x::text::bigint + snap.k FROM pg_catalog.pg_snapshot_xip(snap.s) x
                            UNION SELECT snap.own + snap.k WHERE snap.own < pg_catalog.pg_snapshot_xmax(snap.s)::text::bigint) ids(id)
        ORDER BY ids.id), ',')
FROM snap
