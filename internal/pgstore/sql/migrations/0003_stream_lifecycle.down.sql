-- Reverts Chronicle migration 0003_stream_lifecycle: drops the snapshots
-- and the heads' closed and deleted state — closed streams accept appends
-- again, and deleted ones start again at their old version. The
-- append-only trigger keeps its stream-deletion opt-out, which needs the
-- DELETE privilege that only the owner has.
DROP TABLE IF EXISTS {{.Snapshots}};
ALTER TABLE {{.Heads}} DROP COLUMN IF EXISTS closed, DROP COLUMN IF EXISTS deleted_at;
DELETE FROM {{.Versions}} WHERE version = 3;
