-- ConsumerBatch takes the current snapshot S2 and selects up to $3 events
-- whose writer is not visible in the cursor's snapshot S1 — writer id at or
-- above S1's xmax, or among S1's running ids — in global_position order.
-- Parameters: $1 S1 xmax bigint, $2 S1 running ids text (a bigint[]
-- literal), $3 limit bigint{{if .Scoped}}, then the scope: $4 aggregate
-- types text[] (when not empty only those are selected), $5 partitions
-- bigint and $6 partition bigint (when $5 is not 0, only the events of the
-- aggregates in partition $6 of $5: core.PartitionOf, written out in SQL){{end}}. Columns: S2's xmin bigint, xmax bigint,
-- writing bigint (1 when another transaction holds the events table's
-- RowExclusiveLock, which every INSERT takes until its transaction ends: an
-- append in flight), then S2's running ids text (comma-separated), then
-- the event columns, NULL in
-- the single row returned when no event qualifies. No row at all: the
-- order offset row is missing.
--
-- ONE statement (never a function: each statement there takes a new
-- snapshot): every row it sees has a writer visible in its own snapshot,
-- which pg_current_snapshot() returns, so the events and S2 agree. The
-- caller's own transaction id, when it has one below S2's xmax, is added
-- to S2's running ids, and its rows are left out: a snapshot does not list
-- its own transaction as running, so S2 would count the caller's appends
-- as delivered. (xmax is one past the latest completed transaction, so an
-- id at or above it is not visible anyway.) Ids carry the order offset.
--
-- The plan (see the integration tests' EXPLAIN): the writer-id condition is
-- a range scan plus index probes on the (transaction_id, global_position)
-- index, so a long-running writer costs only its own id in the probe list.
-- The redundant upper bound transaction_id < S2's xmax bounds the range for
-- the planner, and ORDER BY global_position + 0 keeps it from walking the
-- primary key from the start of the log to find the few new events. The
-- variant for a cursor at the start of the log (the empty snapshot, every
-- event undelivered) walks the primary key instead: sorting the whole log
-- to find its first events would cost a catch-up its first seconds. Its
-- writer-id conditions are written transaction_id + 0 so that they match
-- neither an index nor the column's statistics: the planner cannot know
-- that S2's xmax bounds nothing, and with the writer-id index on offer it
-- chose a bitmap scan of every event and a sort; on a log of few writers
-- the statistics made "not the caller's id" look like no row at all, and
-- it chose a scan of the table and a sort (0.2–0.4 s for a 100,000-event
-- log of one writer, where walking the key takes a millisecond). The running
-- ids are a sub-select, evaluated once: the text-to-array conversion
-- written in the condition itself would run once per row tested.
-- The partition test is written as the function int8eq rather than the
-- operator =: the planner estimates an equality on an expression it has no
-- statistics for at 0.5% of the rows, and took one partition of eight for
-- a few rows — a scan of the table and a sort for a new consumer's first
-- batch (0.35 s on 200,000 events) where walking the key takes
-- milliseconds; a function's default estimate is a third. The partition is
-- core.PartitionOf: the first 32 bits of the MD5 of the aggregate's key.
-- s2 is MATERIALIZED so that its running-id array is built once, not once
-- per event row, and LIMIT 1 tells the planner the offset table has one
-- row: it is never analyzed, so the planner would assume thousands, and
-- the inflated cost made the server JIT-compile every batch (tens of
-- milliseconds per batch with jit on, the default).
WITH snap AS (
    SELECT pg_catalog.pg_current_snapshot() AS s, pg_catalog.pg_current_xact_id_if_assigned()::text::bigint AS own,
        o.order_offset AS k
    FROM {{.Offset}} o
    LIMIT 1
),
s2 AS MATERIALIZED (
    SELECT LEAST(pg_catalog.pg_snapshot_xmin(snap.s)::text::bigint, CASE WHEN snap.own < pg_catalog.pg_snapshot_xmax(snap.s)::text::bigint THEN snap.own END) + snap.k AS xmin,
        pg_catalog.pg_snapshot_xmax(snap.s)::text::bigint + snap.k AS xmax,
        ARRAY(SELECT ids.id FROM (SELECT x::text::bigint + snap.k FROM pg_catalog.pg_snapshot_xip(snap.s) x
                                  UNION SELECT snap.own + snap.k WHERE snap.own < pg_catalog.pg_snapshot_xmax(snap.s)::text::bigint) ids(id)
              ORDER BY ids.id) AS xip,
        snap.own + snap.k AS own,
        EXISTS (SELECT 1 FROM pg_catalog.pg_locks l
                WHERE l.locktype = 'relation' AND l.mode = 'RowExclusiveLock' AND l.granted
                  AND l.relation = '{{.EventsLiteral}}'::regclass
                  AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())
                  AND l.pid IS DISTINCT FROM pg_catalog.pg_backend_pid()) AS writing
    FROM snap
)
SELECT s2.xmin, s2.xmax, CASE WHEN s2.writing THEN 1 ELSE 0 END::bigint, pg_catalog.array_to_string(s2.xip, ','), e.global_position, e.aggregate_type, e.aggregate_id,
    e.aggregate_version, e.event_id, e.event_type, e.event_version, e.payload, e.metadata::text, e.created_at, e.trace_id,
    e.correlation_id, e.causation_id, e.transaction_id
FROM s2
LEFT JOIN LATERAL (
    SELECT * FROM {{.Events}}
{{- if .FromStart}}
    WHERE (transaction_id + 0 >= $1::bigint OR transaction_id + 0 = ANY((SELECT $2::text::bigint[])::bigint[]))
      AND transaction_id + 0 < s2.xmax
      AND transaction_id + 0 IS DISTINCT FROM s2.own
{{- else}}
    WHERE (transaction_id >= $1::bigint OR transaction_id = ANY((SELECT $2::text::bigint[])::bigint[]))
      AND transaction_id < s2.xmax
      AND transaction_id IS DISTINCT FROM s2.own
{{- end}}
{{- if .Scoped}}
      AND (pg_catalog.cardinality($4::text[]) = 0 OR aggregate_type = ANY($4::text[]))
      AND ($5::bigint = 0 OR pg_catalog.int8eq(('x' || pg_catalog.substr(pg_catalog.md5(pg_catalog.octet_length(aggregate_type)::text || ':' || aggregate_type || aggregate_id), 1, 8))::bit(32)::bigint % $5::bigint, $6::bigint))
{{- end}}
{{- if .FromStart}}
    ORDER BY global_position
{{- else}}
    ORDER BY global_position + 0
{{- end}}
    LIMIT $3::bigint
) e ON true
