-- ConsumerBatch selects, from one snapshot, the frontier and up to $3
-- events after the cursor ($1, $2) below it, in cursor order as the plan
-- delivers them (callers check the order, which saves the server a sort:
-- an outer ORDER BY was a third of the statement's time for 500 events).
-- Parameters: $1 transaction_order bigint, $2 global_position bigint,
-- $3 limit bigint{{if .Scoped}}, $4 aggregate types text[] (only those are selected){{end}}.
-- Columns: frontier bigint, then the event columns, which are NULL in the
-- single row returned when no event qualifies. frontier is NULL when the
-- order offset row is missing.
--
-- The frontier is pg_snapshot_xmin(pg_current_snapshot()) plus the offset,
-- computed in a subquery the events are joined LATERAL to, so both come
-- from the statement's snapshot: reading the frontier in a statement of its
-- own would let an event commit between the two and be skipped. The cursor
-- is compared as a row value, which the (transaction_order,
-- global_position) index serves as a range scan.
SELECT f.frontier, e.global_position, e.aggregate_type, e.aggregate_id, e.aggregate_version, e.event_id, e.event_type,
    e.event_version, e.payload, e.metadata::text, e.created_at, e.trace_id, e.correlation_id, e.causation_id, e.transaction_order
FROM (
    SELECT pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())::text::bigint
        + (SELECT order_offset FROM {{.Offset}}) AS frontier
) f
LEFT JOIN LATERAL (
    SELECT * FROM {{.Events}}
    WHERE transaction_order < f.frontier
      AND (transaction_order, global_position) > ($1::bigint, $2::bigint)
{{- if .Scoped}}
      AND aggregate_type = ANY($4::text[])
{{- end}}
    ORDER BY transaction_order, global_position
    LIMIT $3::bigint
) e ON true
