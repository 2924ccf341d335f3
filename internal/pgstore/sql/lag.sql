-- Lag samples the events a cursor has not delivered: at most $6 of them
-- (one more than the exact limit), the writers among the snapshot's
-- running ids first, then the range above its xmax, each arm an index scan
-- that stops at the limit, so that the cost does not grow with the lag.
-- Each arm is ordered by the (transaction_id, global_position) index and
-- filters the delivered rows itself: without the order a generic plan
-- bitmap-scans the whole range above the xmax (every row, at the start of
-- the log) before the limit applies.
-- Parameters: $1 snapshot xmax bigint, $2 snapshot running ids text (a
-- bigint[] literal), $3 upper xmin bigint, $4 upper xmax bigint, $5 upper
-- running ids text, $6 sample size bigint, $7 page position bigint (0 when
-- not paging: events visible in the upper snapshot up to it are
-- delivered){{if .Scoped}}, then the scope as in
-- consumer_batch.sql: $8 aggregate types text[], $9 partitions bigint, $10
-- partition bigint (only those events count){{end}}.
-- Columns: sampled bigint, min position bigint, max position bigint,
-- oldest created_at timestamptz, latest position bigint (the highest
-- committed, for extrapolating); NULLs for an empty sample.
WITH undelivered AS (
    SELECT global_position, created_at FROM (
        (SELECT global_position, created_at FROM {{.Events}}
         WHERE transaction_id = ANY((SELECT $2::text::bigint[])::bigint[])
{{- if .Scoped}}
           AND (pg_catalog.cardinality($8::text[]) = 0 OR aggregate_type = ANY($8::text[]))
           AND ($9::bigint = 0 OR pg_catalog.int8eq(('x' || pg_catalog.substr(pg_catalog.md5(pg_catalog.octet_length(aggregate_type)::text || ':' || aggregate_type || aggregate_id), 1, 8))::bit(32)::bigint % $9::bigint, $10::bigint))
{{- end}}
           AND NOT (global_position <= $7::bigint
                    AND (transaction_id < $3::bigint OR (transaction_id < $4::bigint AND transaction_id <> ALL((SELECT $5::text::bigint[])::bigint[]))))
         ORDER BY transaction_id, global_position
         LIMIT $6::bigint)
        UNION ALL
        (SELECT global_position, created_at FROM {{.Events}}
         WHERE transaction_id >= $1::bigint
{{- if .Scoped}}
           AND (pg_catalog.cardinality($8::text[]) = 0 OR aggregate_type = ANY($8::text[]))
           AND ($9::bigint = 0 OR pg_catalog.int8eq(('x' || pg_catalog.substr(pg_catalog.md5(pg_catalog.octet_length(aggregate_type)::text || ':' || aggregate_type || aggregate_id), 1, 8))::bit(32)::bigint % $9::bigint, $10::bigint))
{{- end}}
           AND NOT (global_position <= $7::bigint
                    AND (transaction_id < $3::bigint OR (transaction_id < $4::bigint AND transaction_id <> ALL((SELECT $5::text::bigint[])::bigint[]))))
         ORDER BY transaction_id, global_position
         LIMIT $6::bigint)
    ) u
    LIMIT $6::bigint
)
SELECT count(*)::bigint, min(global_position), max(global_position), min(created_at),
    (SELECT max(global_position) FROM {{.Events}})
FROM undelivered
