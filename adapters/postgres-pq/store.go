package postgres

import (
	"database/sql"
	"log/slog"

	"github.com/chronicle-go/chronicle/core"
	"github.com/chronicle-go/chronicle/internal/pgstore"
	"github.com/chronicle-go/chronicle/internal/pgstore/sqldb"
	"github.com/lib/pq"
)

var (
	_ core.Store[*sql.Tx]           = (*Store)(nil)
	_ core.ConsumerStore[*sql.Tx]   = (*ConsumerStore)(nil)
	_ core.StreamDeleter[*sql.Tx]   = (*Store)(nil)
	_ core.SubjectKeyStore[*sql.Tx] = (*KeyStore)(nil)
)

// Store is the event store over database/sql, core.Store[*sql.Tx]:
// Append, Tombstone, ReadAggregateStream, SaveSnapshot, LoadAggregate,
// ReadEvents and GetLatestGlobalPosition with the contracts of the core
// ports, DeleteStream (core.StreamDeleter[*sql.Tx], for the tables'
// owner), and SchemaSQL. It holds no connection
// and no state besides its configuration, so one Store serves any number
// of goroutines, each with its own transaction. Make one with NewStore:
// the zero Store's methods return an error wrapping ErrInvalidConfig, and a
// nil transaction is a *core.InvalidArgumentError.
type Store = pgstore.Store[*sql.Tx]

// NewStore returns a store for cfg, or an error wrapping ErrInvalidConfig
// (a *ConfigError naming the field) when a name is not a valid identifier,
// two tables share a name, or lib/pq cannot read the ListenDSN. It does not
// touch the database.
func NewStore(cfg StoreConfig) (*Store, error) {
	if cfg.ListenDSN != "" {
		if _, err := pq.NewConnector(cfg.ListenDSN); err != nil {
			// The DSN may hold a password, and lib/pq's error may quote it:
			// the message names the problem only; Err keeps the cause.
			return nil, &ConfigError{Field: "ListenDSN", Value: "(hidden)", Err: err,
				Reason: "lib/pq cannot read it; use a postgres:// URL or key=value pairs (see lib/pq's connection string parameters)"}
		}
	}
	return pgstore.NewStore[*sql.Tx](cfg.settings(), executor{Executor: sqldb.NewExecutor(cfg.PrepareOn), listenDSN: cfg.ListenDSN})
}

// executor is the database/sql executor carrying the store's ListenDSN,
// which NewConsumerStore reads back from the store it is given.
type executor struct {
	pgstore.Executor[*sql.Tx]
	listenDSN string
}

// ConsumerStore is the consumer runtime's storage port,
// core.ConsumerStore[*sql.Tx], over a *sql.DB, for the tables of a Store:
// pass it to consumer.NewProcessor and consumer.NewOperations. It begins
// its transactions on the DB; Listen uses lib/pq's listener on the store's
// ListenDSN. Safe for concurrent use; make one with NewConsumerStore.
type ConsumerStore = pgstore.ConsumerStore[*sql.Tx]

// NewConsumerStore returns the consumer storage port for store's tables
// over db, with opts applied. Both are required; an error wrapping
// ErrInvalidConfig names the missing one. Notifications need both the
// store's NotifyChannel and its ListenDSN; without them the runtime polls.
// Batch transactions commit without waiting for their WAL flush unless
// opts has WithSynchronousBatchCommit (read it before choosing).
func NewConsumerStore(db *sql.DB, store *Store, opts ...ConsumerStoreOption) (*ConsumerStore, error) {
	if db == nil {
		return nil, &ConfigError{Field: "db", Reason: "must not be nil: pass the *sql.DB the consumers' transactions run on"}
	}
	var listenDSN string
	if e, ok := pgstore.ExecutorOf(store).(executor); ok {
		listenDSN = e.listenDSN
	}
	return pgstore.NewConsumerStore[*sql.Tx](store, transactor{Transactions: sqldb.Transactions{DB: db}, listenDSN: listenDSN}, opts...)
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
// core.SubjectKeyStore[*sql.Tx], in the subject keys table of a Store's
// schema (events table name + "_subject_keys", migration 0004): pass it to
// shred.New (package core/shred). It runs in the caller's transactions and
// is safe for concurrent use; make one with NewKeyStore.
type KeyStore = pgstore.KeyStore[*sql.Tx]

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
	// ListenDSN gives a ConsumerStore's Listen a connection string (a
	// postgres:// URL or key=value pairs, as lib/pq reads them) to LISTEN
	// on NotifyChannel with lib/pq's listener. It works whichever
	// database/sql driver runs the queries (lib/pq or pgx's stdlib), since
	// the listener keeps its own connection, which must reach the same
	// database. Default "": Listen returns core.ErrNotificationsUnsupported,
	// so consumers only poll. It may hold a password: no error shows it.
	ListenDSN string
	// Logger receives debug messages about appends, and the connection
	// losses and reconnects of a ConsumerStore's notification listener.
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

// WithPreparedStatements sets StoreConfig.PrepareOn.
func WithPreparedStatements(db *sql.DB) StoreOption { return func(c *StoreConfig) { c.PrepareOn = db } }

// WithListenDSN sets StoreConfig.ListenDSN.
func WithListenDSN(dsn string) StoreOption { return func(c *StoreConfig) { c.ListenDSN = dsn } }

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
