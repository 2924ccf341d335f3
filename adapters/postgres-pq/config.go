package postgres

import (
	"database/sql"

	pgsql "github.com/chronicle-go/chronicle/adapters/postgres-sql"
	"github.com/chronicle-go/chronicle/core"
)

// StoreConfig configures a Store. Start from DefaultStoreConfig or
// NewStoreConfig: the zero value has no table names and is rejected.
type StoreConfig struct {
	// Schema holds the tables. "" (default) means unqualified names,
	// resolved through the connection's search_path.
	Schema string
	// EventsTable is the event log. Default "events".
	EventsTable string
	// AggregateHeadsTable holds each aggregate's version. Default
	// "aggregate_heads".
	AggregateHeadsTable string
	// CheckpointsTable holds the consumer runtime's checkpoints. Default
	// "consumer_checkpoints".
	CheckpointsTable string
	// OrderOffsetTable holds the transaction order offset (see package
	// pgsql). Default "transaction_order_offset".
	OrderOffsetTable string
	// NotifyChannel, when not "", makes every append pg_notify this channel
	// (delivered on commit, never on rollback) so consumers wake at once.
	// The payload is the aggregate type (empty when longer than 7000
	// bytes); notifications are hints, never the data. Default "": no
	// notifications, consumers poll.
	NotifyChannel string
	// PrepareOn, when set, makes Append, ReadAggregateStream, ReadEvents
	// and a ConsumerStore's batches run statements prepared on this
	// *sql.DB, which database/sql then keeps prepared on each of its
	// connections: a call is one round trip with a plan the server cached.
	// Without it lib/pq spends two round trips per statement (parse and
	// describe, then bind and execute) and the server plans it every time.
	// Every transaction given to the store and its ConsumerStore must then
	// come from this DB (database/sql rejects another's). Leave it nil
	// behind PgBouncer in transaction mode, which cannot keep prepared
	// statements, and with a driver that caches statements itself (pgx's
	// stdlib does). Default nil: the statement text is sent every time.
	PrepareOn *sql.DB
	// Logger receives debug messages about appends, and the connection
	// losses and reconnects of a ConsumerStore's notification listener.
	// Default (nil): core.NoOpLogger.
	Logger core.Logger
}

// ErrInvalidConfig: NewStore rejected the configuration. Detail:
// *ConfigError, naming the field and the fix. It is the same value in both
// PostgreSQL adapters.
var ErrInvalidConfig = pgsql.ErrInvalidConfig

// ConfigError is the detail of ErrInvalidConfig.
type ConfigError = pgsql.ConfigError

// DefaultStoreConfig returns the default configuration: tables events,
// aggregate_heads, consumer_checkpoints and transaction_order_offset on the
// search_path, no notifications, no logging.
func DefaultStoreConfig() StoreConfig {
	n := pgsql.DefaultNames()
	return StoreConfig{
		EventsTable:         n.EventsTable,
		AggregateHeadsTable: n.AggregateHeadsTable,
		CheckpointsTable:    n.CheckpointsTable,
		OrderOffsetTable:    n.OrderOffsetTable,
	}
}

// StoreOption changes one setting of a StoreConfig.
type StoreOption func(*StoreConfig)

// NewStoreConfig returns DefaultStoreConfig with opts applied in order.
// Values are checked by NewStore, not here.
func NewStoreConfig(opts ...StoreOption) StoreConfig {
	cfg := DefaultStoreConfig()
	for _, opt := range opts {
		opt(&cfg)
	}
	return cfg
}

// WithSchema sets StoreConfig.Schema.
func WithSchema(schema string) StoreOption { return func(c *StoreConfig) { c.Schema = schema } }

// WithEventsTable sets StoreConfig.EventsTable.
func WithEventsTable(name string) StoreOption { return func(c *StoreConfig) { c.EventsTable = name } }

// WithAggregateHeadsTable sets StoreConfig.AggregateHeadsTable.
func WithAggregateHeadsTable(name string) StoreOption {
	return func(c *StoreConfig) { c.AggregateHeadsTable = name }
}

// WithCheckpointsTable sets StoreConfig.CheckpointsTable.
func WithCheckpointsTable(name string) StoreOption {
	return func(c *StoreConfig) { c.CheckpointsTable = name }
}

// WithOrderOffsetTable sets StoreConfig.OrderOffsetTable.
func WithOrderOffsetTable(name string) StoreOption {
	return func(c *StoreConfig) { c.OrderOffsetTable = name }
}

// WithNotifyChannel sets StoreConfig.NotifyChannel.
func WithNotifyChannel(channel string) StoreOption {
	return func(c *StoreConfig) { c.NotifyChannel = channel }
}

// WithPreparedStatements sets StoreConfig.PrepareOn.
func WithPreparedStatements(db *sql.DB) StoreOption { return func(c *StoreConfig) { c.PrepareOn = db } }

// WithLogger sets StoreConfig.Logger; nil means no logging.
func WithLogger(logger core.Logger) StoreOption { return func(c *StoreConfig) { c.Logger = logger } }

// Names returns the configured database object names.
func (c StoreConfig) Names() pgsql.Names {
	return pgsql.Names{
		Schema:              c.Schema,
		EventsTable:         c.EventsTable,
		AggregateHeadsTable: c.AggregateHeadsTable,
		CheckpointsTable:    c.CheckpointsTable,
		OrderOffsetTable:    c.OrderOffsetTable,
	}
}
