-- Append reserves the version range on the aggregate head and inserts the
-- batch, in one statement and one round trip for any batch size.
--
-- Parameters (every one cast here, so pgx's simple protocol, which infers
-- no types, works too):
--   $1  aggregate_type text
--   $2  aggregate_id text
--   $3  expected version bigint: -1 Any, 0 NoStream, -2 StreamExists, n Exact(n)
--   $4  number of events bigint
--   $5  event ids uuid[]
--   $6  event types text[]
--   $7  event versions integer[]
--   $8  metadata text[] (JSON text, NULL elements for none)
--   $9  created_at timestamptz[]
--   $10 trace ids text[] (NULL elements for none)
--   $11 correlation ids text[]
--   $12 causation ids text[]
--   bytea[] payloads: $13 payloads bytea[]
--   packed payloads:  $13 every payload back to back bytea, $14 1-based starts integer[], $15 lengths integer[]
--   the notifying variant: the channel text and the payload text last ($14, $15 or $16, $17)
--
-- The closing variant (Tombstone) appends one event, the tombstone, and
-- sets the head's closed flag in the same write.
--
-- Result: one row (global_position, aggregate_version, transaction_id) per
-- event in version order; or a single row of what stopped the append, with
-- the head's version as the statement's snapshot saw it: global_position 0
-- for a version conflict, -2 for a closed stream, -3 for a deleted one; or,
-- when the log was moved into another cluster, a single row with
-- global_position -1.
--
-- How it works:
--   - moved guards every write: a log restored into another cluster holds
--     writer ids (or consumer snapshots) at or above this cluster's next
--     transaction id plus the offset, so this writer's events would sort
--     behind consumers' cursors and never be delivered. In one cluster every
--     committed writer's id is below the snapshot's xmax, and the caller's
--     own rows (which it sees) below its own id + 1. Two index probes: the
--     highest stored writer id, and the highest cursor bound. A missing
--     offset row counts as moved; the caller then names that.
--   - inserted_head serves Any (-1) and NoStream (0), the expectations that
--     may create the head. The conflict arm updates only for Any, so
--     NoStream against an existing head changes nothing (the row is locked
--     all the same, as ON CONFLICT does). Concurrent Any appends queue on
--     the head row and each gets the versions after the previous commit.
--   - updated_head serves Exact(n>0) and StreamExists (-2): a plain UPDATE
--     of an existing head, so these never create one. Under READ COMMITTED
--     an UPDATE that waited for a concurrent writer re-checks the version
--     against the committed row.
--   - A head that did not match is not written: its version does not move
--     on a conflict.
--   - A closed head (NOT h.closed fails) is never written either: both
--     writes test the flag under the row lock, re-checked on the committed
--     row after a wait, so an append that queued behind a tombstone finds
--     the stream closed.
--   - appended inserts the batch from unnest(...) WITH ORDINALITY, in
--     version order. transaction_id comes from the column's default, the
--     writer's id plus the offset, which a check enforces.
WITH guard AS (
    SELECT COALESCE(GREATEST((SELECT max(transaction_id) + 1 FROM {{.Events}}),
                             (SELECT max(GREATEST(snapshot_xmax, upper_xmax)) FROM {{.Checkpoints}}), 0)
                    > GREATEST(pg_catalog.pg_snapshot_xmax(pg_catalog.pg_current_snapshot())::text::bigint,
                               pg_catalog.pg_current_xact_id()::text::bigint + 1)
                      + (SELECT order_offset FROM {{.Offset}}), true) AS moved
),
inserted_head AS (
    INSERT INTO {{.Heads}} AS h (aggregate_type, aggregate_id, aggregate_version{{if .Close}}, closed{{end}})
    SELECT $1::text, $2::text, $4::bigint{{if .Close}}, true{{end}} FROM guard
    WHERE $3::bigint IN (-1, 0) AND NOT guard.moved
    ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE
        SET aggregate_version = h.aggregate_version + EXCLUDED.aggregate_version{{if .Close}}, closed = true{{end}}
        WHERE $3::bigint = -1 AND NOT h.closed
    RETURNING h.aggregate_version
),
updated_head AS (
    UPDATE {{.Heads}} AS h
    SET aggregate_version = h.aggregate_version + $4::bigint{{if .Close}}, closed = true{{end}}
    FROM guard
    WHERE $3::bigint NOT IN (-1, 0) AND NOT guard.moved
      AND h.aggregate_type = $1::text AND h.aggregate_id = $2::text
      AND ($3::bigint = -2 OR h.aggregate_version = $3::bigint) AND NOT h.closed
    RETURNING h.aggregate_version
),
head AS (
    SELECT aggregate_version FROM inserted_head
    UNION ALL
    SELECT aggregate_version FROM updated_head
),
appended AS (
    INSERT INTO {{.Events}} (aggregate_type, aggregate_id, aggregate_version, event_id, event_type,
        event_version, payload, metadata, created_at, trace_id, correlation_id, causation_id)
    SELECT $1::text, $2::text, head.aggregate_version - $4::bigint + e.n, e.event_id, e.event_type,
{{- if .Packed}}
        e.event_version, substring($13::bytea FROM e.payload_start FOR e.payload_length), e.metadata::jsonb, e.created_at,
        e.trace_id, e.correlation_id, e.causation_id
    FROM head
    CROSS JOIN unnest($5::uuid[], $6::text[], $7::integer[], $8::text[], $9::timestamptz[], $10::text[], $11::text[], $12::text[],
            $14::integer[], $15::integer[])
        WITH ORDINALITY AS e(event_id, event_type, event_version, metadata, created_at, trace_id, correlation_id, causation_id,
            payload_start, payload_length, n)
{{- else}}
        e.event_version, COALESCE(e.payload, ''::bytea), e.metadata::jsonb, e.created_at,
        e.trace_id, e.correlation_id, e.causation_id
    FROM head
    CROSS JOIN unnest($5::uuid[], $6::text[], $7::integer[], $8::text[], $9::timestamptz[], $10::text[], $11::text[], $12::text[],
            $13::bytea[])
        WITH ORDINALITY AS e(event_id, event_type, event_version, metadata, created_at, trace_id, correlation_id, causation_id,
            payload, n)
{{- end}}
    ORDER BY e.n
    RETURNING global_position, aggregate_version, transaction_id
)
{{- if .Notify}},
notified AS (
    SELECT pg_notify({{if .Packed}}$16::text, $17::text{{else}}$14::text, $15::text{{end}}) FROM head
)
SELECT global_position, aggregate_version, transaction_id FROM appended CROSS JOIN notified
{{- else}}
SELECT global_position, aggregate_version, transaction_id FROM appended
{{- end}}
UNION ALL
SELECT CASE WHEN guard.moved THEN -1 WHEN c.deleted_at IS NOT NULL THEN -3 WHEN c.closed THEN -2 ELSE 0 END,
    COALESCE(c.aggregate_version, 0), 0
FROM guard
LEFT JOIN {{.Heads}} c ON c.aggregate_type = $1::text AND c.aggregate_id = $2::text
WHERE NOT EXISTS (SELECT 1 FROM head)
ORDER BY 2
