-- Frontier selects the oldest transaction id running in the cluster (the
-- caller's included), or the next id if none, plus the order offset; NULL
-- without an offset row. It assigns the caller no transaction id.
SELECT pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())::text::bigint
    + (SELECT order_offset FROM {{.Offset}})
