package pgsql

import (
	"hash/fnv"
	"strings"
	"text/template"
)

// SchemaOptions adjust the generated schema. The zero value is the
// recommended schema.
type SchemaOptions struct {
	// OmitAppendOnlyTrigger leaves out the triggers that reject UPDATE,
	// DELETE and TRUNCATE on the events table. Default false: the log is
	// append-only at the database level.
	//
	// Operators who must change stored events (e.g. to erase personal data)
	// can instead suspend the triggers of an existing schema, as the table
	// owner:
	//
	//	ALTER TABLE events DISABLE TRIGGER events_append_only;
	//	-- … the change …
	//	ALTER TABLE events ENABLE TRIGGER events_append_only;
	//
	// or remove them for good with DROP TRIGGER events_append_only ON events
	// (and events_no_truncate). Running the schema again recreates dropped
	// triggers, but leaves a disabled trigger disabled.
	OmitAppendOnlyTrigger bool

	// AppRole, when set, names the application's role: the script creates
	// it NOLOGIN if it does not exist (a group role; make the login roles
	// the application connects as its members: GRANT app TO app_login)
	// and grants it the least privilege Chronicle needs (see the script's
	// comment). It must be a valid identifier and must not own the tables:
	// an owner keeps every privilege. Default "": no role, no grants.
	AppRole string
}

// SchemaSQL returns the DDL for names: the optional schema, the events,
// aggregate heads, consumer checkpoints and order offset tables with their
// named constraints and indexes, the order offset's single row, and (unless
// opts omit it) the append-only triggers. The script is idempotent — every
// object is created only if missing, so it is safe to run on every start —
// and deterministic. Invalid names return a *ConfigError.
func SchemaSQL(names Names, opts SchemaOptions) (string, error) {
	if err := names.Validate(); err != nil {
		return "", err
	}
	if opts.AppRole != "" {
		if err := checkIdentifier("AppRole", opts.AppRole, "or leave it empty to grant nothing"); err != nil {
			return "", err
		}
	}
	c := names.Constraints()
	q := QuoteIdentifier
	data := map[string]any{
		"Schema":         names.Schema,
		"QSchema":        q(names.Schema),
		"Events":         names.qualified(names.EventsTable),
		"EventsLiteral":  names.qualified(names.EventsTable), // validated: no quote can end the literal
		"Heads":          names.qualified(names.AggregateHeadsTable),
		"Checkpoints":    names.qualified(names.CheckpointsTable),
		"Offset":         names.qualified(names.OrderOffsetTable),
		"EventsPkey":     q(c.EventsPrimaryKey),
		"EventIDKey":     q(c.EventID),
		"VersionKey":     q(c.AggregateVersion),
		"OrderIndex":     q(c.TransactionOrderIndex),
		"HeadsPkey":      q(derivedName(names.AggregateHeadsTable, "_pkey")),
		"CheckpointPkey": q(derivedName(names.CheckpointsTable, "_pkey")),
		"OffsetPkey":     q(derivedName(names.OrderOffsetTable, "_pkey")),
		"OffsetCheck":    q(derivedName(names.OrderOffsetTable, "_singleton_check")),
		"Trigger":        q(c.AppendOnlyTrigger),
		"TriggerName":    c.AppendOnlyTrigger,
		"Truncate":       q(c.NoTruncateTrigger),
		"TruncateName":   c.NoTruncateTrigger,
		"Function":       names.qualified(c.AppendOnlyFunction),
		"Triggers":       !opts.OmitAppendOnlyTrigger,
		"LockKey":        schemaLockKey(names),
		"AppRole":        q(opts.AppRole),
		"AppRoleLiteral": opts.AppRole, // validated: no quote can end the literal
		"HasAppRole":     opts.AppRole != "",
	}
	var b strings.Builder
	if err := schemaTemplate.Execute(&b, data); err != nil {
		return "", err // the template is fixed; only a programming error gets here
	}
	return b.String(), nil
}

// schemaLockKey is the advisory lock that serialises concurrent runs of
// one schema: a hash of the events table's qualified name, so that
// schemas for different tables do not wait on each other.
func schemaLockKey(names Names) int64 {
	h := fnv.New64a()
	h.Write([]byte("chronicle schema " + names.qualified(names.EventsTable)))
	return int64(h.Sum64())
}

var schemaTemplate = template.Must(template.New("schema").Parse(`-- Chronicle event store schema.
-- Idempotent: every object is created only if it is missing.

-- Processes that start together may all run this script; CREATE … IF NOT
-- EXISTS alone races. Run as one transaction (a migration tool's, or the
-- whole text in one Exec), the script waits here for the others. Statement
-- by statement (psql -f), the lock ends at once and changes nothing.
DO $chronicle$ BEGIN PERFORM pg_advisory_xact_lock({{.LockKey}}); END $chronicle$;
{{- if .Schema}}

CREATE SCHEMA IF NOT EXISTS {{.QSchema}};
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

-- The consumer cursor's order.
CREATE INDEX IF NOT EXISTS {{.OrderIndex}} ON {{.Events}} (transaction_order, global_position);

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
-- cluster runs as the owner. The role is created NOLOGIN when missing: let
-- the login roles the application connects as inherit it (GRANT … TO
-- app_login). It must not own these tables. Without pg_read_all_stats,
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
{{- if .Schema}}
GRANT USAGE ON SCHEMA {{.QSchema}} TO {{.AppRole}};
{{- end}}
GRANT SELECT, INSERT ON {{.Events}} TO {{.AppRole}};
GRANT SELECT, INSERT, UPDATE ON {{.Heads}} TO {{.AppRole}};
GRANT SELECT, INSERT, UPDATE ON {{.Checkpoints}} TO {{.AppRole}};
GRANT SELECT ON {{.Offset}} TO {{.AppRole}};
{{- end}}
`))
