-- ConsumerPage selects the next page of a step from snapshot S1 to a fixed
-- S2 that had more events than one batch: up to $7 events whose writer is
-- visible in S2 and not in S1, after global position $6, in global_position
-- order. Parameters: $1 S1 xmax bigint, $2 S1 running ids text (a bigint[]
-- literal), $3 S2 xmin bigint, $4 S2 xmax bigint, $5 S2 running ids text,
-- $6 the last position delivered bigint, $7 limit bigint{{if .Scoped}},
-- then the scope as in consumer_batch.sql: $8 aggregate types text[], $9
-- partitions bigint, $10 partition bigint{{end}}. Columns: the
-- event columns.
--
-- Every writer visible in S2 had committed when S2 was taken, so any later
-- snapshot sees its rows; those committed since are left out by the S2
-- condition and come in the next step. The pages walk the primary key from
-- $6. The running-id arrays are sub-selects, converted from text once per
-- statement rather than once per row the filter tests.
SELECT global_position, aggregate_type, aggregate_id, aggregate_version, event_id, event_type, event_version,
    payload, metadata::text, created_at, trace_id, correlation_id, causation_id, transaction_id
FROM {{.Events}}
WHERE global_position > $6::bigint
  AND (transaction_id >= $1::bigint OR transaction_id = ANY((SELECT $2::text::bigint[])::bigint[]))
  AND (transaction_id < $3::bigint OR (transaction_id < $4::bigint AND transaction_id <> ALL((SELECT $5::text::bigint[])::bigint[])))
{{- if .Scoped}}
  AND (pg_catalog.cardinality($8::text[]) = 0 OR aggregate_type = ANY($8::text[]))
  AND ($9::bigint = 0 OR pg_catalog.int8eq(('x' || pg_catalog.substr(pg_catalog.md5(pg_catalog.octet_length(aggregate_type)::text || ':' || aggregate_type || aggregate_id), 1, 8))::bit(32)::bigint % $9::bigint, $10::bigint))
{{- end}}
ORDER BY global_position
LIMIT $7::bigint
