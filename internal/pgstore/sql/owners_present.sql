-- OwnersPresent reports, for each given owner in order, whether a session
-- holds its presence (hold_presence.sql) now. Parameters: $1 owners text[].
-- Columns: present boolean, one row per owner, in the given order.
--
-- From pg_locks, as of the call (pg_locks is not part of a transaction's
-- snapshot) and without taking the lock. A bigint advisory key appears there
-- as classid (high 32 bits), objid (low 32 bits) and objsubid 1; the
-- presence is the only shared advisory lock Chronicle takes. Reading
-- pg_locks needs no privilege. An empty owner is never present.
SELECT o.owner <> '' AND EXISTS (
        SELECT 1
        FROM pg_catalog.pg_locks l
        WHERE l.locktype = 'advisory' AND l.mode = 'ShareLock' AND l.objsubid = 1 AND l.granted
          AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())
          AND (l.classid::bigint << 32) | l.objid::bigint = pg_catalog.hashtextextended('chronicle owner {{.Checkpoints}} ' || o.owner, 0))
FROM pg_catalog.unnest($1::text[]) WITH ORDINALITY AS o(owner, n)
ORDER BY o.n
