-- Chronicle migration 0005_consumer_progress: a consumer's progress since
-- its cursor was last set — how many events it has handled, and since
-- when — so that a rebuild (a new consumer catching up from the start of
-- the log) reports events done, its rate and its ETA from one row, and the
-- partitions of a consumer group each report their own. Idempotent. Both
-- columns come with constant defaults or none: adding them rewrites no row.
-- Existing checkpoints start counting at 0 from this migration. It has no
-- down migration, like every one after 0001: this release's statements
-- read the columns.

DO $chronicle$ BEGIN PERFORM pg_advisory_xact_lock({{.LockKey}}); END $chronicle$;

-- events_delivered: events handled since delivering_since (a reset,
-- set-cursor or start-from-now sets both anew; each batch adds its events).
ALTER TABLE {{.Checkpoints}}
    ADD COLUMN IF NOT EXISTS events_delivered bigint NOT NULL DEFAULT 0,
    ADD COLUMN IF NOT EXISTS delivering_since timestamptz;

INSERT INTO {{.Versions}} (version, name) VALUES (5, 'consumer_progress') ON CONFLICT DO NOTHING;
