package pgstore

import "hash/fnv"

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
	q := quoteIdentifier
	events := names.qualified(names.EventsTable)
	data := schemaData{
		Schema:         q(names.Schema),
		HasSchema:      names.Schema != "",
		Events:         events,
		EventsLiteral:  literal(events),
		Heads:          names.qualified(names.AggregateHeadsTable),
		Checkpoints:    names.qualified(names.CheckpointsTable),
		Offset:         names.qualified(names.OrderOffsetTable),
		EventsPkey:     q(c.EventsPrimaryKey),
		EventIDKey:     q(c.EventID),
		VersionKey:     q(c.AggregateVersion),
		OrderIndex:     q(c.TransactionOrderIndex),
		HeadsPkey:      q(derivedName(names.AggregateHeadsTable, "_pkey")),
		CheckpointPkey: q(derivedName(names.CheckpointsTable, "_pkey")),
		OffsetPkey:     q(derivedName(names.OrderOffsetTable, "_pkey")),
		OffsetCheck:    q(derivedName(names.OrderOffsetTable, "_singleton_check")),
		Trigger:        q(c.AppendOnlyTrigger),
		TriggerName:    literal(c.AppendOnlyTrigger),
		Truncate:       q(c.NoTruncateTrigger),
		TruncateName:   literal(c.NoTruncateTrigger),
		Function:       names.qualified(c.AppendOnlyFunction),
		Triggers:       !opts.OmitAppendOnlyTrigger,
		LockKey:        schemaLockKey(names),
		AppRole:        q(opts.AppRole),
		AppRoleLiteral: literal(opts.AppRole),
		HasAppRole:     opts.AppRole != "",
	}
	return render("schema.sql", data), nil
}

// literal is a validated identifier (or a quoted one) placed inside an SQL
// string literal: neither holds a single quote, so it cannot end the
// literal.
type literal string

// schemaData fills the markers of sql/schema.sql.
type schemaData struct {
	Schema                                                   quoted
	HasSchema                                                bool
	Events, Heads, Checkpoints, Offset, Function             quoted
	EventsLiteral, TriggerName, TruncateName, AppRoleLiteral literal
	EventsPkey, EventIDKey, VersionKey, OrderIndex           quoted
	HeadsPkey, CheckpointPkey, OffsetPkey, OffsetCheck       quoted
	Trigger, Truncate, AppRole                               quoted
	Triggers, HasAppRole                                     bool
	LockKey                                                  int64
}

// schemaLockKey is the advisory lock that serialises concurrent runs of
// one schema: a hash of the events table's qualified name, so that
// schemas for different tables do not wait on each other.
func schemaLockKey(names Names) int64 {
	h := fnv.New64a()
	h.Write([]byte("chronicle schema " + string(names.qualified(names.EventsTable))))
	return int64(h.Sum64())
}
