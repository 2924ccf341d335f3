-- FrontierHolders selects the transactions holding a transaction id, oldest
-- first: from pg_stat_activity every backend but the caller's with a
-- backend_xid, and every prepared transaction from pg_prepared_xacts.
-- Columns: pid integer (0 for a prepared transaction), xid bigint (the full
-- 64-bit id, with its epoch), started timestamptz (NULL when unknown),
-- state text, query text, application text. For a prepared transaction
-- state is "prepared", query its global id and application its owner.
--
-- Without pg_read_all_stats (or membership in the session's role),
-- PostgreSQL hides other users' sessions' details: their query reads
-- "<insufficient privilege>", state is "" and started NULL; pid, xid and
-- application name stay visible.
WITH now AS (
    SELECT pg_catalog.pg_snapshot_xmax(pg_catalog.pg_current_snapshot())::text::bigint AS next_xid
),
holders AS (
    SELECT a.pid, a.backend_xid AS xid, a.xact_start AS started, COALESCE(a.state, '') AS state,
        COALESCE(a.query, '') AS query, COALESCE(a.application_name, '') AS application
    FROM pg_catalog.pg_stat_activity a
    WHERE a.backend_xid IS NOT NULL AND a.pid <> pg_catalog.pg_backend_pid()
    UNION ALL
    SELECT 0, p.transaction, p.prepared, 'prepared', p.gid, p.owner::text
    FROM pg_catalog.pg_prepared_xacts p
),
full_ids AS (
    -- A 32-bit xid is within 2^31 of the next id: its signed distance from
    -- the next id's low 32 bits gives the full 64-bit id.
    SELECT h.*, now.next_xid + (((h.xid::text::bigint - now.next_xid % 4294967296) + 6442450944) % 4294967296 - 2147483648) AS full_xid
    FROM holders h CROSS JOIN now
)
SELECT pid, full_xid, started, state, query, application
FROM full_ids
ORDER BY full_xid, pid
