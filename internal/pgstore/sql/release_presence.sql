-- ReleasePresence gives up an owner's presence (hold_presence.sql) before
-- its connection closes, so that the owner is gone as soon as the holder
-- returns, not once the server has noticed the closed connection.
-- Parameters: $1 owner text. Columns: released boolean.
SELECT pg_catalog.pg_advisory_unlock_shared(pg_catalog.hashtextextended('chronicle owner {{.Checkpoints}} ' || $1::text, 0))
