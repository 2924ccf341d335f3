-- Chronicle migration 0001_init: the event log, aggregate heads, consumer
-- checkpoints, the transaction order offset and the schema version table.
-- Idempotent: every object is created only if it is missing, so it also
-- records version 1 on a database made by an earlier, unversioned schema.

-- Processes that start together may all run this script; CREATE … IF NOT
-- EXISTS alone races. Run as one transaction (a migration tool's, or the
-- whole text in one Exec), the script waits here for the others. Statement
-- by statement (psql -f), the lock ends at once and changes nothing.
DO $chronicle$ BEGIN PERFORM pg_advisory_xact_lock({{.LockKey}}); END $chronicle$;
{{- if .HasSchema}}

CREATE SCHEMA IF NOT EXISTS {{.Schema}};
{{- end}}

-- The event log. global_position orders inserts, not commits; consumers
-- read by (transaction_order, global_position) instead.
CREATE TABLE IF NOT EXISTS {{.Events}} (
    global_position   bigint      GENERATED ALWAYS AS IDENTITY,
    aggregate_type    text        NOT NULL,
    aggregate_id      text        NOT NULL,
    aggregate_version bigint      NOT NULL,
    event_id          uuid        NOT NULL,
    event_type        text        NOT NULL,
    event_version     integer     NOT NULL,
    payload           bytea       NOT NULL,
    metadata          jsonb,
    created_at        timestamptz NOT NULL,
    trace_id          text,
    correlation_id    text,
    causation_id      text,
    transaction_order bigint      NOT NULL,
    CONSTRAINT {{.EventsPkey}} PRIMARY KEY (global_position),
    CONSTRAINT {{.EventIDKey}} UNIQUE (event_id),
    CONSTRAINT {{.VersionKey}} UNIQUE (aggregate_type, aggregate_id, aggregate_version)
);

-- The consumer cursor's order. Created only when no relation has its name:
-- CREATE INDEX IF NOT EXISTS resolves the columns before it looks at the
-- name, and migration 0002 renames the column, so running this script
-- again on a later schema would fail.
DO $chronicle$
BEGIN
    IF pg_catalog.to_regclass('{{.OrderIndexLiteral}}') IS NULL THEN
        CREATE INDEX {{.OrderIndex}} ON {{.Events}} (transaction_order, global_position);
    END IF;
END
$chronicle$;

-- One row per aggregate: its version and the transaction order of its last
-- append. Appends lock this row, which serialises writers of one aggregate.
CREATE TABLE IF NOT EXISTS {{.Heads}} (
    aggregate_type    text   NOT NULL,
    aggregate_id      text   NOT NULL,
    aggregate_version bigint NOT NULL,
    transaction_order bigint NOT NULL,
    CONSTRAINT {{.HeadsPkey}} PRIMARY KEY (aggregate_type, aggregate_id)
);

-- One row per consumer: its cursor, its lease (the row lock) and its last
-- failure.
CREATE TABLE IF NOT EXISTS {{.Checkpoints}} (
    consumer_name       text        NOT NULL,
    transaction_order   bigint      NOT NULL DEFAULT 0,
    global_position     bigint      NOT NULL DEFAULT 0,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    owner               text        NOT NULL DEFAULT '',
    failed_attempts     integer     NOT NULL DEFAULT 0,
    stopped_at          timestamptz,
    last_error          text,
    last_error_position bigint,
    last_error_at       timestamptz,
    CONSTRAINT {{.CheckpointPkey}} PRIMARY KEY (consumer_name)
);

-- The offset added to transaction ids to form transaction orders: exactly
-- one row. Raise it (never lower it) after restoring the log into another
-- cluster, so that new orders continue above the stored ones.
CREATE TABLE IF NOT EXISTS {{.Offset}} (
    singleton    boolean NOT NULL DEFAULT true,
    order_offset bigint  NOT NULL DEFAULT 0,
    CONSTRAINT {{.OffsetPkey}} PRIMARY KEY (singleton),
    CONSTRAINT {{.OffsetCheck}} CHECK (singleton)
);

INSERT INTO {{.Offset}} (singleton, order_offset) VALUES (true, 0) ON CONFLICT DO NOTHING;

-- Which of Chronicle's migrations this schema has had, one row each. The
-- store reads it at first use and names a missing migration.
CREATE TABLE IF NOT EXISTS {{.Versions}} (
    version    integer     NOT NULL,
    name       text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT {{.VersionsPkey}} PRIMARY KEY (version)
);

INSERT INTO {{.Versions}} (version, name) VALUES (1, 'init') ON CONFLICT DO NOTHING;
{{- if .Triggers}}

-- The event log is append-only. To change stored events anyway, as the
-- table owner: ALTER TABLE … DISABLE TRIGGER {{.TriggerName}} (and
-- {{.TruncateName}}), or DROP TRIGGER. Running this script again
-- recreates a dropped trigger but leaves a disabled one disabled.
CREATE OR REPLACE FUNCTION {{.Function}}() RETURNS trigger
LANGUAGE plpgsql AS $chronicle$
BEGIN
    RAISE EXCEPTION 'chronicle: % on %.% is not allowed: the event log is append-only', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation',
              HINT = 'the table owner can ALTER TABLE ... DISABLE TRIGGER ' || TG_NAME || ' for a deliberate change';
END
$chronicle$;

DO $chronicle$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger
                   WHERE tgrelid = '{{.EventsLiteral}}'::regclass AND tgname = '{{.TriggerName}}') THEN
        CREATE TRIGGER {{.Trigger}} BEFORE UPDATE OR DELETE ON {{.Events}}
            FOR EACH ROW EXECUTE FUNCTION {{.Function}}();
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_trigger
                   WHERE tgrelid = '{{.EventsLiteral}}'::regclass AND tgname = '{{.TruncateName}}') THEN
        CREATE TRIGGER {{.Truncate}} BEFORE TRUNCATE ON {{.Events}}
            FOR EACH STATEMENT EXECUTE FUNCTION {{.Function}}();
    END IF;
END
$chronicle$;
{{- end}}
{{- if .HasAppRole}}

-- The application's role, with least privilege. The events table: SELECT
-- and INSERT only, never UPDATE, DELETE or TRUNCATE, so the log stays
-- append-only for the application even where the triggers are disabled.
-- Aggregate heads: SELECT, INSERT and UPDATE (an append moves its head).
-- Consumer checkpoints: SELECT, INSERT and UPDATE (the processor claims,
-- creates and moves them; resetting one is an UPDATE). The order offset:
-- SELECT only; RecoverTransactionOrder after a restore into another
-- cluster runs as the owner. The schema versions: SELECT only. The role is
-- created NOLOGIN when missing: let the login roles the application
-- connects as inherit it (GRANT … TO app_login). It must not own these tables. Without pg_read_all_stats,
-- FrontierHolders shows other roles' queries as "<insufficient
-- privilege>".
DO $chronicle$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = '{{.AppRoleLiteral}}') THEN
        CREATE ROLE {{.AppRole}} NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object THEN
    NULL; -- created meanwhile by a concurrent run
END
$chronicle$;
{{- if .HasSchema}}
GRANT USAGE ON SCHEMA {{.Schema}} TO {{.AppRole}};
{{- end}}
GRANT SELECT, INSERT ON {{.Events}} TO {{.AppRole}};
GRANT SELECT, INSERT, UPDATE ON {{.Heads}} TO {{.AppRole}};
GRANT SELECT, INSERT, UPDATE ON {{.Checkpoints}} TO {{.AppRole}};
GRANT SELECT ON {{.Offset}} TO {{.AppRole}};
GRANT SELECT ON {{.Versions}} TO {{.AppRole}};
{{- end}}
