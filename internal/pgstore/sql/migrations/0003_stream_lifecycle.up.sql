-- Chronicle migration 0003_stream_lifecycle: aggregate snapshots, closed
-- (tombstoned) streams and the operator's deletion of a stream's events.
-- The aggregate heads get a closed flag, which the append statement checks
-- under the head's row lock, and a deletion time; a snapshots table keeps
-- one state per aggregate and state schema version; the append-only
-- trigger lets an operator delete the rows of one named stream. Idempotent:
-- every object is created or changed only if missing, so running it again,
-- or on a schema that has it, changes nothing. It cannot be reverted: a
-- revert would reopen closed streams and let a deleted one start again
-- under its old id.

DO $chronicle$ BEGIN PERFORM pg_advisory_xact_lock({{.LockKey}}); END $chronicle$;

-- closed: the stream ended with a tombstone (or was deleted); appends are
-- refused. deleted_at: when an operator deleted its events (NULL: never).
-- Constant defaults: adding them rewrites no row.
ALTER TABLE {{.Heads}}
    ADD COLUMN IF NOT EXISTS closed boolean NOT NULL DEFAULT false,
    ADD COLUMN IF NOT EXISTS deleted_at timestamptz;

-- One snapshot per aggregate and state schema version: the highest version
-- saved. A snapshot is saved only of a version its stream has, and is
-- deleted with the stream's events.
CREATE TABLE IF NOT EXISTS {{.Snapshots}} (
    aggregate_type    text        NOT NULL,
    aggregate_id      text        NOT NULL,
    schema_version    integer     NOT NULL,
    aggregate_version bigint      NOT NULL,
    state             bytea       NOT NULL,
    saved_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT {{.SnapshotsPkey}} PRIMARY KEY (aggregate_type, aggregate_id, schema_version),
    CONSTRAINT {{.SnapshotsCheck}} CHECK (aggregate_version >= 1 AND schema_version >= 1)
);
{{- if .Triggers}}

-- The event log stays append-only, with one opt-out: a DELETE of the rows
-- of the one stream that the transaction names in the settings
-- chronicle.delete_aggregate_type and chronicle.delete_aggregate_id
-- (set_config(…, true): they end with the transaction). DeleteStream and
-- `chronicle delete-stream` set them. Any role may set a setting, but only
-- a role with the DELETE privilege on the table can delete: its owner, or
-- whom the owner grants it; the application role has none. UPDATE and
-- TRUNCATE stay refused. Replacing the function keeps the triggers, and
-- whether they are enabled.
CREATE OR REPLACE FUNCTION {{.Function}}() RETURNS trigger
LANGUAGE plpgsql AS $chronicle$
BEGIN
    IF TG_OP = 'DELETE'
       AND OLD.aggregate_type = current_setting('chronicle.delete_aggregate_type', true)
       AND OLD.aggregate_id = current_setting('chronicle.delete_aggregate_id', true) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'chronicle: % on %.% is not allowed: the event log is append-only', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation',
              HINT = 'delete a stream with DeleteStream or chronicle delete-stream as the table owner; '
                     'for another deliberate change the owner can ALTER TABLE ... DISABLE TRIGGER ' || TG_NAME;
END
$chronicle$;
{{- end}}

INSERT INTO {{.Versions}} (version, name) VALUES (3, 'stream_lifecycle') ON CONFLICT DO NOTHING;
{{- if .HasAppRole}}

-- Snapshots: SELECT, INSERT and UPDATE (a save replaces the stored
-- snapshot). No DELETE: snapshots go with their stream's deletion, an
-- operator's action, as do the events.
GRANT SELECT, INSERT, UPDATE ON {{.Snapshots}} TO {{.AppRole}};
{{- end}}
