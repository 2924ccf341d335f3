-- Writers selects the transactions among the given ids (order offset
-- applied) that still run in this database, oldest first: sessions from
-- pg_stat_activity holding a transaction id, and prepared transactions.
-- Parameters: $1 ids text (a bigint[] literal). Columns: id bigint (offset
-- applied), pid integer (0 for a prepared transaction), started
-- timestamptz (NULL when unknown), state text, query text, application
-- text. For a prepared transaction state is "prepared", query its global
-- id and application its owner.
--
-- Without pg_read_all_stats (or membership in the session's role),
-- PostgreSQL hides other users' sessions' details: their query reads
-- "<insufficient privilege>", state is "" and started NULL; pid, id and
-- application name stay visible.
WITH now AS (
    SELECT pg_catalog.pg_snapshot_xmax(pg_catalog.pg_current_snapshot())::text::bigint AS next_xid,
        (SELECT order_offset FROM {{.Offset}}) AS k
),
running AS (
    SELECT a.pid, a.backend_xid AS xid, a.xact_start AS started, COALESCE(a.state, '') AS state,
        COALESCE(a.query, '') AS query, COALESCE(a.application_name, '') AS application
    FROM pg_catalog.pg_stat_activity a
    WHERE a.backend_xid IS NOT NULL AND a.datname = pg_catalog.current_database()
    UNION ALL
    SELECT 0, p.transaction, p.prepared, 'prepared', p.gid, p.owner::text
    FROM pg_catalog.pg_prepared_xacts p
    WHERE p.database = pg_catalog.current_database()
),
full_ids AS (
    -- A 32-bit xid is within 2^31 of the next id: its signed distance from
    -- the next id's low 32 bits gives the full 64-bit id.
    SELECT r.*, now.next_xid + (((r.xid::text::bigint - now.next_xid % 4294967296) + 6442450944) % 4294967296 - 2147483648)
        + now.k AS id
    FROM running r CROSS JOIN now
)
SELECT id, pid, started, state, query, application
FROM full_ids
WHERE id = ANY($1::text::bigint[])
ORDER BY id, pid
