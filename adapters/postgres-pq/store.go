package postgres

import (
	"database/sql"
	"time"

	pgsql "github.com/chronicle-go/chronicle/adapters/postgres-sql"
	"github.com/chronicle-go/chronicle/core"
)

var _ core.Store[*sql.Tx] = (*Store)(nil)

// Store is the event store over database/sql. It holds no connection and no state
// besides its configuration, so one Store serves any number of goroutines,
// each with its own transaction. Make one with NewStore: the zero Store
// has no names and is not usable.
type Store struct {
	names       pgsql.Names
	constraints pgsql.ConstraintNames
	queries     pgsql.Queries
	channel     string
	logger      core.Logger
	now         func() time.Time
	// statements runs the hot statements prepared; nil runs their text.
	statements *statements
}

// NewStore returns a store for cfg, or an error wrapping ErrInvalidConfig
// (a *ConfigError naming the field) when a name is not a valid identifier
// or two tables share a name. It does not touch the database.
func NewStore(cfg StoreConfig) (*Store, error) {
	names := cfg.Names()
	queries, err := pgsql.NewQueries(names, cfg.NotifyChannel, pgsql.PayloadPacked)
	if err != nil {
		return nil, err
	}
	logger := cfg.Logger
	if logger == nil {
		logger = core.NoOpLogger{}
	}
	return &Store{
		names:       names,
		constraints: names.Constraints(),
		queries:     queries,
		channel:     cfg.NotifyChannel,
		logger:      logger,
		now:         time.Now,
		statements:  newStatements(cfg.PrepareOn),
	}, nil
}

// SchemaOptions adjust the schema SchemaSQL returns; the zero value is the
// recommended schema (see pgsql.SchemaOptions, e.g. to omit the
// append-only triggers).
type SchemaOptions = pgsql.SchemaOptions

// SchemaSQL returns the DDL for this store's names (see pgsql.SchemaSQL):
// several statements, idempotent, so it may be executed on every start, e.g.
// db.ExecContext(ctx, store.SchemaSQL(postgres.SchemaOptions{})). Migration tools
// get the same text from tools/migrate-gen.
func (s *Store) SchemaSQL(opts SchemaOptions) string {
	ddl, err := pgsql.SchemaSQL(s.names, opts)
	if err != nil {
		panic("chronicle: names validated by NewStore were rejected: " + err.Error())
	}
	return ddl
}
