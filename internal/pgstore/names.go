package pgstore

import (
	"errors"
	"fmt"
	"strconv"
)

// Default names, as in the seed plus the tables Chronicle adds.
const (
	DefaultEventsTable         = "events"
	DefaultAggregateHeadsTable = "aggregate_heads"
	DefaultCheckpointsTable    = "consumer_checkpoints"
	DefaultOrderOffsetTable    = "transaction_order_offset"
)

// Names are the database objects a store uses. Every name is validated with
// ValidateIdentifier and always quoted.
type Names struct {
	// Schema holds the tables. "" (the default) means unqualified names,
	// resolved through the connection's search_path; the schema generator
	// then creates no schema.
	Schema string
	// EventsTable is the append-only event log. Default "events".
	EventsTable string
	// AggregateHeadsTable holds one row per aggregate: its version. Default
	// "aggregate_heads".
	AggregateHeadsTable string
	// CheckpointsTable holds one row per consumer (the consumer runtime's
	// cursor and failure state). Default "consumer_checkpoints".
	CheckpointsTable string
	// OrderOffsetTable is the one-row table with the offset added to
	// transaction ids (see the package doc). Default
	// "transaction_order_offset".
	OrderOffsetTable string
}

// DefaultNames returns the default names, with no schema.
func DefaultNames() Names {
	return Names{
		EventsTable:         DefaultEventsTable,
		AggregateHeadsTable: DefaultAggregateHeadsTable,
		CheckpointsTable:    DefaultCheckpointsTable,
		OrderOffsetTable:    DefaultOrderOffsetTable,
	}
}

// ErrInvalidConfig: a store or schema configuration was rejected. Detail:
// *ConfigError.
var ErrInvalidConfig = errors.New("invalid configuration")

// ConfigError is the detail of ErrInvalidConfig.
type ConfigError struct {
	// Field names the configuration field, e.g. "EventsTable".
	Field string
	// Value is the rejected value.
	Value string
	// Reason says what is wrong and how to fix it.
	Reason string
	// Err is the underlying cause (an *IdentifierError), if any.
	Err error
}

// Error names the field, its value and the fix.
func (e *ConfigError) Error() string {
	return fmt.Sprintf("invalid configuration: %s %q: %s", e.Field, e.Value, e.Reason)
}

// Is reports whether target is ErrInvalidConfig.
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

// Unwrap returns the underlying cause, if any.
func (e *ConfigError) Unwrap() error { return e.Err }

const identifierFix = "use 1 to 63 ASCII letters, digits or underscores, not starting with a digit"

// Validate checks every name and returns a *ConfigError naming the first bad
// field: table names are required, Schema is optional, and the four tables
// must have distinct names.
func (n Names) Validate() error {
	if n.Schema != "" {
		if err := checkIdentifier("Schema", n.Schema, "or leave it empty to use the search_path"); err != nil {
			return err
		}
	}
	tables := [...]struct{ field, value, def string }{
		{"EventsTable", n.EventsTable, DefaultEventsTable},
		{"AggregateHeadsTable", n.AggregateHeadsTable, DefaultAggregateHeadsTable},
		{"CheckpointsTable", n.CheckpointsTable, DefaultCheckpointsTable},
		{"OrderOffsetTable", n.OrderOffsetTable, DefaultOrderOffsetTable},
	}
	for i, t := range tables {
		if err := checkIdentifier(t.field, t.value, "(the default is "+strconv.Quote(t.def)+")"); err != nil {
			return err
		}
		for _, prev := range tables[:i] {
			if prev.value == t.value {
				return &ConfigError{Field: t.field, Value: t.value, Reason: "is also the " + prev.field + "; give each table its own name"}
			}
		}
	}
	return nil
}

// ValidateNotifyChannel checks a notify channel name: "" (no
// notifications) or an identifier, since listeners LISTEN on it.
func ValidateNotifyChannel(channel string) error {
	if channel == "" {
		return nil
	}
	return checkIdentifier("NotifyChannel", channel, "or leave it empty to send no notifications")
}

func checkIdentifier(field, value, hint string) error {
	if err := ValidateIdentifier(value); err != nil {
		var ie *IdentifierError
		errors.As(err, &ie)
		return &ConfigError{Field: field, Value: value, Reason: ie.Reason + "; " + identifierFix + " " + hint, Err: err}
	}
	return nil
}

// qualified returns the quoted, schema-qualified name of table.
func (n Names) qualified(table string) quoted {
	if n.Schema == "" {
		return quoteIdentifier(table)
	}
	return quoteIdentifier(n.Schema) + "." + quoteIdentifier(table)
}

// SchemaVersionTable is the schema version table's name: derived from the
// events table (EventsTable + "_schema_version", shortened with a hash
// beyond 63 bytes), so that every store's tables have their own.
func (n Names) SchemaVersionTable() string { return derivedName(n.EventsTable, "_schema_version") }

// SnapshotsTable is the aggregate snapshots table's name, derived from the
// events table as SchemaVersionTable is: EventsTable + "_snapshots".
func (n Names) SnapshotsTable() string { return derivedName(n.EventsTable, "_snapshots") }

// SubjectKeysTable is the table of the subjects' data keys
// (crypto-shredding, migration 0004): derived from the events table
// (EventsTable + "_subject_keys", shortened with a hash beyond 63 bytes),
// like SchemaVersionTable.
func (n Names) SubjectKeysTable() string { return derivedName(n.EventsTable, "_subject_keys") }

// ConstraintNames are the names the schema gives to the events table's
// constraints, derived from the table name (shortened with a hash when
// needed to stay within 63 bytes).
type ConstraintNames struct {
	// EventsPrimaryKey is the key on global_position.
	EventsPrimaryKey string
	// EventID is the unique key on event_id: a violation is a duplicate
	// event.
	EventID string
	// AggregateVersion is the unique key on (aggregate_type, aggregate_id,
	// aggregate_version): a violation is a version conflict.
	AggregateVersion string
	// TransactionOrderIndex is the index on (transaction_id,
	// global_position) that consumer batches scan and probe. It keeps the
	// name revision 1 gave it, when the column was transaction_order.
	TransactionOrderIndex string
	// WriterCheck is the check that every event's transaction_id is its
	// writer's transaction id plus the order offset.
	WriterCheck string
	// AppendOnlyTrigger rejects UPDATE and DELETE on the events table.
	AppendOnlyTrigger string
	// NoTruncateTrigger rejects TRUNCATE on the events table.
	NoTruncateTrigger string
	// AppendOnlyFunction is the trigger function both triggers execute.
	AppendOnlyFunction string
}

// Constraints returns the names derived from n.EventsTable.
func (n Names) Constraints() ConstraintNames {
	e := n.EventsTable
	return ConstraintNames{
		EventsPrimaryKey:      derivedName(e, "_pkey"),
		EventID:               derivedName(e, "_event_id_key"),
		AggregateVersion:      derivedName(e, "_aggregate_version_key"),
		TransactionOrderIndex: derivedName(e, "_transaction_order_idx"),
		WriterCheck:           derivedName(e, "_writer_check"),
		AppendOnlyTrigger:     derivedName(e, "_append_only"),
		NoTruncateTrigger:     derivedName(e, "_no_truncate"),
		AppendOnlyFunction:    derivedName(e, "_reject_change"),
	}
}
