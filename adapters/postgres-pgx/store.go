package postgres

import (
	"log/slog"

	"github.com/chronicle-go/chronicle/core"
	"github.com/chronicle-go/chronicle/internal/pgstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

var (
	_ core.Store[pgx.Tx]           = (*Store)(nil)
	_ core.ConsumerStore[pgx.Tx]   = (*ConsumerStore)(nil)
	_ core.StreamDeleter[pgx.Tx]   = (*Store)(nil)
	_ core.SubjectKeyStore[pgx.Tx] = (*KeyStore)(nil)
)

// Store is the event store over pgx, core.Store[pgx.Tx]: Append,
// Tombstone, ReadAggregateStream, SaveSnapshot, LoadAggregate, ReadEvents
// and GetLatestGlobalPosition with the contracts of the core ports,
// DeleteStream (core.StreamDeleter[pgx.Tx], for the tables' owner), and
// SchemaSQL. It holds no connection and
// no state besides its configuration, so one Store serves any number of
// goroutines, each with its own transaction. Make one with NewStore: the
// zero Store's methods return an error wrapping ErrInvalidConfig, and a nil
// transaction is a *core.InvalidArgumentError.
type Store = pgstore.Store[pgx.Tx]

// NewStore returns a store for cfg, or an error wrapping ErrInvalidConfig
// (a *ConfigError naming the field) when a name is not a valid identifier
// or two tables share a name. It does not touch the database.
func NewStore(cfg StoreConfig) (*Store, error) {
	return pgstore.NewStore[pgx.Tx](cfg.settings(), executor{})
}

// ConsumerStore is the consumer runtime's storage port,
// core.ConsumerStore[pgx.Tx], over a pgx pool, for the tables of a Store:
// pass it to consumer.NewProcessor and consumer.NewOperations. It begins
// its transactions on the pool, and Listen opens a connection of its own
// with the pool's connection settings (it takes none from the pool).
// Behind PgBouncer in transaction mode LISTEN does not work; connect the
// listener directly, or rely on polling. Safe for concurrent use; make one
// with NewConsumerStore.
type ConsumerStore = pgstore.ConsumerStore[pgx.Tx]

// NewConsumerStore returns the consumer storage port for store's tables
// over pool, with opts applied. Both are required; an error wrapping
// ErrInvalidConfig names the missing one. Notifications (Listen) use
// store's notify channel; without one the runtime polls. Batch
// transactions commit without waiting for their WAL flush unless opts has
// WithSynchronousBatchCommit (read it before choosing).
func NewConsumerStore(pool *pgxpool.Pool, store *Store, opts ...ConsumerStoreOption) (*ConsumerStore, error) {
	if pool == nil {
		return nil, &ConfigError{Field: "pool", Reason: "must not be nil: pass the *pgxpool.Pool the consumers' transactions run on"}
	}
	return pgstore.NewConsumerStore[pgx.Tx](store, transactor{pool: pool}, opts...)
}

// ConsumerStoreOption changes how a ConsumerStore runs its batches; it is
// the same type in both PostgreSQL adapters.
type ConsumerStoreOption = pgstore.ConsumerStoreOption

// WithSynchronousBatchCommit makes batch transactions wait for their
// commit's WAL flush, as the server's synchronous_commit says. Without it a
// server crash can lose the last batches committed before it, each whole
// (the handler's writes with the checkpoint), and the consumer delivers
// their events again after the restart; events a handler appended in
// them are lost and appended again. The README's "Durability of consumer
// batches" has the trade-off.
func WithSynchronousBatchCommit() ConsumerStoreOption { return pgstore.WithSynchronousBatchCommit() }

// KeyStore stores crypto-shredding's subject keys,
// core.SubjectKeyStore[pgx.Tx], in the subject keys table of a Store's
// schema (events table name + "_subject_keys", migration 0004): pass it to
// shred.New (package core/shred). It runs in the caller's transactions and
// is safe for concurrent use; make one with NewKeyStore.
type KeyStore = pgstore.KeyStore[pgx.Tx]

// NewKeyStore returns the subject key storage for store's schema. A nil or
// zero store returns an error wrapping ErrInvalidConfig. It does not touch
// the database.
func NewKeyStore(store *Store) (*KeyStore, error) { return pgstore.NewKeyStore(store) }

// SchemaOptions adjust the schema Store.SchemaSQL returns; the zero value
// is the recommended schema (for example, OmitAppendOnlyTrigger leaves out
// the append-only triggers, AppRole grants an application role least
// privilege).
type SchemaOptions = pgstore.SchemaOptions

// ErrInvalidConfig: NewStore, NewConsumerStore or SchemaSQL rejected the
// configuration. Detail: *ConfigError, naming the field and the fix. It is
// the same value in both PostgreSQL adapters.
var ErrInvalidConfig = pgstore.ErrInvalidConfig

// ConfigError is the detail of ErrInvalidConfig.
type ConfigError = pgstore.ConfigError

// ErrSchemaVersion: at its first use in a transaction, the store found the
// database's schema at another version than this release needs: a
// migration is missing (or Chronicle is older than the schema). Detail:
// *SchemaVersionError, naming the migrations to apply with
// tools/migrate-gen. The check reads the schema version table once per
// Store and never aborts the transaction.
var ErrSchemaVersion = pgstore.ErrSchemaVersion

// SchemaVersionError is the detail of ErrSchemaVersion.
type SchemaVersionError = pgstore.SchemaVersionError

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
	// OrderOffsetTable holds the transaction order offset, which the
	// recovery after a restore raises. Default "transaction_order_offset".
	OrderOffsetTable string
	// NotifyChannel, when not "", makes appends pg_notify this channel
	// (delivered on commit, never on rollback) so consumers wake at once:
	// at most one append per 5 ms per store does,
	// since notifying transactions serialise their commits, and consumers
	// poll quickly after each wakeup.
	// The payload is the aggregate type, or "" when the type is 7000 bytes
	// or longer; notifications are hints, never the data. Default "": no
	// notifications, consumers poll.
	NotifyChannel string
	// Logger receives debug messages about appends and conflicts.
	// Default (nil): no logs.
	Logger *slog.Logger
}

// DefaultStoreConfig returns the default configuration: tables events,
// aggregate_heads, consumer_checkpoints and transaction_order_offset on the
// search_path, no notifications, no logging.
func DefaultStoreConfig() StoreConfig {
	n := pgstore.DefaultNames()
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

// WithLogger sets StoreConfig.Logger, which receives the store's
// diagnostics; nil (the default) means no logs.
func WithLogger(logger *slog.Logger) StoreOption { return func(c *StoreConfig) { c.Logger = logger } }

// settings returns the shared store's configuration.
func (c StoreConfig) settings() pgstore.Config {
	return pgstore.Config{
		Names: pgstore.Names{Schema: c.Schema, EventsTable: c.EventsTable, AggregateHeadsTable: c.AggregateHeadsTable,
			CheckpointsTable: c.CheckpointsTable, OrderOffsetTable: c.OrderOffsetTable},
		NotifyChannel: c.NotifyChannel,
		Logger:        c.Logger,
	}
}
