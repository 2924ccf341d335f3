package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"reflect"
	"sync"
	"time"

	"github.com/chronicle-go/chronicle/core"
	"github.com/chronicle-go/chronicle/internal/pgstore"
	"github.com/chronicle-go/chronicle/internal/pgstore/pgtext"
)

// NewExecutor returns the pgstore.Executor for transactions of any
// PostgreSQL driver for database/sql. With prepareOn set, statements run
// prepared on that DB once prepared (see statements), and every
// transaction given to the executor must come from it, since database/sql
// rejects another DB's statement; nil (the default) sends the statement
// text every time, as PgBouncer in transaction mode and drivers that cache
// statements themselves need. Safe for concurrent use.
func NewExecutor(prepareOn *sql.DB) pgstore.Executor[*sql.Tx] {
	return executor{prepared: newStatements(prepareOn)}
}

// executor is the database/sql side of pgstore.Executor. It uses
// database/sql only, so it runs on any PostgreSQL driver for it.
type executor struct {
	// prepared runs statements prepared on NewExecutor's DB; nil runs
	// their text.
	prepared *statements
}

var _ pgstore.Executor[*sql.Tx] = executor{}

func (e executor) Query(ctx context.Context, tx *sql.Tx, query string, args ...any) (pgstore.Rows, error) {
	var rows *sql.Rows
	var err error
	if stmt := e.prepared.stmt(query); stmt != nil {
		rows, err = tx.StmtContext(ctx, stmt).QueryContext(ctx, args...)
	} else {
		rows, err = tx.QueryContext(ctx, query, args...)
	}
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

func (e executor) Exec(ctx context.Context, tx *sql.Tx, query string, args ...any) error {
	var err error
	if stmt := e.prepared.stmt(query); stmt != nil {
		_, err = tx.StmtContext(ctx, stmt).ExecContext(ctx, args...)
	} else {
		_, err = tx.ExecContext(ctx, query, args...)
	}
	return err
}

// sqlRows is *sql.Rows as pgstore.Rows.
type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { _ = r.Rows.Close() }

// PayloadEncoding: all payloads in one bytea parameter, the only binary
// value every driver sends exactly.
func (executor) PayloadEncoding() pgstore.PayloadEncoding { return pgstore.PayloadPacked }

// AppendEventParams sends the arrays as PostgreSQL array literals in
// string parameters (see append_params.go) and the payloads packed.
func (executor) AppendEventParams(args []any, events []core.Event) []any {
	a := buildAppendArrays(events)
	return append(args, a.ids, a.types, a.versions, a.metadata, a.created, a.traces, a.correlations, a.causations,
		a.payloads, a.payloadStarts, a.payloadLengths)
}

// TextArray returns values as a text[] literal.
func (executor) TextArray(values []string) any {
	var a pgtext.Array
	for _, v := range values {
		a.Quoted(v)
	}
	return a.String()
}

func (executor) NewEventRow(leading int, text bool) pgstore.EventRow {
	return newEventRow(leading, text)
}

// sqlStater is what PostgreSQL drivers for database/sql expose on server
// errors: lib/pq's *pq.Error and pgx's *pgconn.PgError both implement it.
type sqlStater interface {
	SQLState() string
}

// DatabaseError finds a server error by its SQLState method, whichever
// driver made it, and the constraint and detail by the fields drivers store
// them in (lib/pq: Constraint, Detail; pgx: ConstraintName, Detail).
func (executor) DatabaseError(err error) pgstore.DatabaseError {
	var s sqlStater
	if !errors.As(err, &s) {
		return pgstore.DatabaseError{TxDone: errors.Is(err, sql.ErrTxDone)}
	}
	return pgstore.DatabaseError{Code: s.SQLState(), Constraint: stringField(s, "ConstraintName", "Constraint"), Detail: stringField(s, "Detail")}
}

// stringField returns the first of the named string fields of the struct
// err points to, "" when it has none.
func stringField(err any, names ...string) string {
	v := reflect.ValueOf(err)
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return ""
	}
	for _, name := range names {
		if f := v.FieldByName(name); f.IsValid() && f.Kind() == reflect.String {
			return f.String()
		}
	}
	return ""
}

// statements keeps the store's statements prepared on a *sql.DB (the
// driver packages' StoreConfig.PrepareOn). database/sql keeps a prepared statement per
// connection and prepares it on a connection the first time a transaction
// there uses it, so after that a call is one round trip with a cached plan.
// Without them lib/pq sends each statement in two round trips (parse and
// describe, then bind and execute) and the server plans it afresh every
// time. A nil *statements runs the text.
type statements struct {
	db *sql.DB
	mu sync.Mutex
	// prepared maps statement text to its statement on db; preparing marks
	// the texts being prepared.
	prepared  map[string]*sql.Stmt
	preparing map[string]bool
}

func newStatements(db *sql.DB) *statements {
	if db == nil {
		return nil
	}
	return &statements{db: db, prepared: map[string]*sql.Stmt{}, preparing: map[string]bool{}}
}

// prepareTimeout bounds one background preparation.
const prepareTimeout = 30 * time.Second

// stmt returns the prepared statement for query; nil when s is nil or the
// statement is not prepared yet, and then the caller runs the text. The
// first use starts preparing it aside: preparing needs a connection of the
// DB's, and every one may be held by a transaction, the caller's own
// included, so no call ever waits for it. A failed preparation (a table not
// created yet, the DB closed) is tried again on a later use.
func (s *statements) stmt(query string) *sql.Stmt {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if stmt := s.prepared[query]; stmt != nil {
		return stmt
	}
	if !s.preparing[query] {
		s.preparing[query] = true
		go s.prepare(query)
	}
	return nil
}

func (s *statements) prepare(query string) {
	ctx, cancel := context.WithTimeout(context.Background(), prepareTimeout)
	defer cancel()
	stmt, err := s.db.PrepareContext(ctx, query)
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.preparing, query)
	if err == nil {
		s.prepared[query] = stmt
	}
}
