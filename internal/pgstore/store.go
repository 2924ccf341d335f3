package pgstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chronicle-go/chronicle/core"
)

// Config is what a Store is made of; each driver package's StoreConfig
// converts to it.
type Config struct {
	// Names are the tables (see Names).
	Names Names
	// NotifyChannel, when not "", makes appends pg_notify it: at most one
	// append per NotifyInterval (see Store).
	NotifyChannel string
	// Logger receives debug messages about appends and conflicts, and is
	// passed to the driver's Listen (Listening.Logger). Default (nil): no
	// logs.
	Logger *slog.Logger
}

// NotifyInterval is the least time between two appends of one Store that
// notify its channel. A transaction that called NOTIFY takes a cluster-wide
// lock at commit, which serialises the commits of every notifying
// transaction: notifying in every append halved concurrent append
// throughput. One notification per interval wakes the consumers, which then
// poll fast for a while (see the consumer package) and so find the appends
// that did not notify.
const NotifyInterval = 5 * time.Millisecond

// Store is Chronicle's PostgreSQL event store, core.Store[TX], over a
// driver's Executor. It holds no connection and no state besides its
// configuration, so one Store serves any number of goroutines, each with
// its own transaction. Every operation runs in the caller's transaction;
// the caller begins, commits and rolls back. The zero Store is not usable:
// its methods return an error wrapping ErrInvalidConfig.
type Store[TX any] struct {
	names       Names
	constraints ConstraintNames
	sql         Statements
	channel     string
	logger      *slog.Logger
	exec        Executor[TX]
	// lastNotify is when an append last chose the notifying statement
	// (unix nanoseconds), shared by every goroutine using the store.
	lastNotify atomic.Int64
	// quiet collects the writers of the appends that did not notify, for
	// the next notification's payload.
	quiet quietWriters
	// schemaChecked is set once the schema version matched (checkSchema).
	schemaChecked atomic.Bool
}

// NewStore returns a store for cfg over exec, or an error wrapping
// ErrInvalidConfig (a *ConfigError naming the field) when a name is not a
// valid identifier or two tables share a name. It does not touch the
// database.
func NewStore[TX any](cfg Config, exec Executor[TX]) (*Store[TX], error) {
	statements, err := RenderStatements(cfg.Names, cfg.NotifyChannel, exec.PayloadEncoding())
	if err != nil {
		return nil, err
	}
	return &Store[TX]{
		names:       cfg.Names,
		constraints: cfg.Names.Constraints(),
		sql:         statements,
		channel:     cfg.NotifyChannel,
		logger:      LoggerOrDiscard(cfg.Logger),
		exec:        exec,
	}, nil
}

// usable returns the error of a zero Store or a nil transaction: misuse
// is an error, never a nil-pointer panic. Each method then validates its
// arguments, and only then, before its statement, checks the schema
// version (checkSchema), so that bad input sends nothing.
func (s *Store[TX]) usable(tx TX) error {
	if s == nil || s.exec == nil {
		return errNotInitialised("Store", "NewStore")
	}
	if isNil(tx) {
		return errNilTx
	}
	return nil
}

// isNil reports whether tx is nil: a nil interface (pgx.Tx) or a nil
// pointer (*sql.Tx).
func isNil[TX any](tx TX) bool {
	v := any(tx)
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// SchemaSQL returns the DDL for this store's names (see the package-level
// SchemaSQL): several statements, idempotent, so it may be executed on
// every start. Invalid options (an AppRole that is not an identifier)
// return a *ConfigError, as does a zero Store.
func (s *Store[TX]) SchemaSQL(opts SchemaOptions) (string, error) {
	if s == nil || s.exec == nil {
		return "", errNotInitialised("Store", "NewStore")
	}
	return SchemaSQL(s.names, opts)
}

// Append implements core.EventStore: one statement, one round trip, for
// any batch size (sql/append.sql).
func (s *Store[TX]) Append(ctx context.Context, tx TX, expected core.ExpectedVersion, events []core.Event) (core.AppendResult, error) {
	if err := s.usable(tx); err != nil {
		return core.AppendResult{}, err
	}
	if err := expected.Validate(); err != nil {
		return core.AppendResult{}, err
	}
	prepared, err := core.PrepareEvents(events, time.Now())
	if err != nil {
		return core.AppendResult{}, err
	}
	return s.write(ctx, tx, expected, prepared, s.sql.Append, s.sql.AppendNotify)
}

// Tombstone implements core.StreamCloser: the Append statement's closing
// variant, which appends the tombstone and sets the head's closed flag in
// one write (sql/append.sql).
func (s *Store[TX]) Tombstone(ctx context.Context, tx TX, aggregateType, aggregateID string, expected core.ExpectedVersion, t core.Tombstone) (core.AppendResult, error) {
	if err := s.usable(tx); err != nil {
		return core.AppendResult{}, err
	}
	if err := expected.Validate(); err != nil {
		return core.AppendResult{}, err
	}
	event, err := core.PrepareTombstone(aggregateType, aggregateID, t, time.Now())
	if err != nil {
		return core.AppendResult{}, err
	}
	return s.write(ctx, tx, expected, []core.Event{event}, s.sql.Tombstone, s.sql.TombstoneNotify)
}

// write runs statement (or its notifying variant) for prepared events: the
// work of Append and Tombstone after validation.
func (s *Store[TX]) write(ctx context.Context, tx TX, expected core.ExpectedVersion, prepared []core.Event, statement, notifyStatement string) (core.AppendResult, error) {
	if err := s.checkSchema(ctx, tx); err != nil {
		return core.AppendResult{}, err
	}
	args := make([]any, 4, 16)
	args[0], args[1], args[2], args[3] = prepared[0].AggregateType, prepared[0].AggregateID, expectedParam(expected), int64(len(prepared))
	args = s.exec.AppendEventParams(args, prepared)
	notifying := s.channel != "" && s.notifyDue()
	if notifying {
		statement, args = notifyStatement, append(args, s.channel, s.quiet.payload())
	}
	rows, err := s.exec.Query(ctx, tx, statement, args...)
	if err != nil {
		return core.AppendResult{}, appendError(ctx, err, s.exec.DatabaseError(err), s.constraints, prepared, expected)
	}
	out, err := scanAppendRows(rows, len(prepared))
	if err != nil {
		return core.AppendResult{}, appendError(ctx, err, s.exec.DatabaseError(err), s.constraints, prepared, expected)
	}
	result, conflict, actual, err := appendOutcome(prepared, out)
	if errors.Is(err, errMoved) {
		return core.AppendResult{}, s.movedError(ctx, tx, prepared)
	}
	if err != nil {
		return core.AppendResult{}, err
	}
	if conflict {
		return core.AppendResult{}, s.conflict(ctx, tx, prepared, expected, actual)
	}
	if s.channel != "" && !notifying {
		s.quiet.add(result.Events[0].TransactionID)
	}
	// Checked first: building the attributes would cost allocations on
	// every append even when debug logs go nowhere.
	if s.logger.Enabled(ctx, slog.LevelDebug) {
		s.logger.DebugContext(ctx, "chronicle: appended events", "aggregate_type", prepared[0].AggregateType,
			"aggregate_id", prepared[0].AggregateID, "from_version", result.FromVersion(), "to_version", result.ToVersion())
	}
	return result, nil
}

// quietWriters are the writer ids of appends that did not notify. The next
// notifying append names them in its payload, and consumers then poll until
// those writers end: a writer that appended quietly and commits long after
// is still noticed without waiting for a poll interval, as long as the
// store appends again while it runs.
type quietWriters struct {
	mu  sync.Mutex
	ids []int64
}

// maxQuietWriters bounds a payload: with more, it names none (consumers
// then only poll quickly for a while), well under pg_notify's 8000 bytes.
const maxQuietWriters = 300

func (q *quietWriters) add(id int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if n := len(q.ids); n > 0 && q.ids[n-1] == id {
		return // the same transaction appending again
	}
	if len(q.ids) <= maxQuietWriters {
		q.ids = append(q.ids, id)
	}
}

// payload takes the collected ids as a notification payload.
func (q *quietWriters) payload() string {
	q.mu.Lock()
	ids := q.ids
	q.ids = nil
	q.mu.Unlock()
	if len(ids) == 0 || len(ids) > maxQuietWriters {
		return ""
	}
	return strings.Trim(idArray(ids), "{}")
}

// notifyDue reports whether this append should notify: whether
// NotifyInterval has passed since the last one that did, claiming the slot
// when it has.
func (s *Store[TX]) notifyDue() bool {
	now := time.Now().UnixNano()
	last := s.lastNotify.Load()
	return now-last >= int64(NotifyInterval) && s.lastNotify.CompareAndSwap(last, now)
}

// movedError is the error of an append that found the log moved into
// another cluster: a *core.TransactionOrderMovedError with the order status
// read in tx, which the statement left usable (it wrote nothing).
func (s *Store[TX]) movedError(ctx context.Context, tx TX, events []core.Event) error {
	st, err := s.orderStatus(ctx, tx)
	if err != nil {
		return fmt.Errorf("error appending to aggregate %s/%s: the transaction order looks moved, and reading it failed: %w",
			events[0].AggregateType, events[0].AggregateID, err)
	}
	return fmt.Errorf("error appending to aggregate %s/%s: %w", events[0].AggregateType, events[0].AggregateID,
		&core.TransactionOrderMovedError{Status: st})
}

// scanAppendRows reads the Append statement's rows, n expected.
func scanAppendRows(rows Rows, n int) ([]appendRow, error) {
	defer rows.Close()
	out := make([]appendRow, 0, n)
	var r appendRow
	targets := []any{&r.GlobalPosition, &r.AggregateVersion, &r.TransactionID}
	for rows.Next() {
		if err := rows.Scan(targets...); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// conflict builds the ConcurrencyError. actual is the head's version in the
// statement's snapshot; when that still matches the expectation, the head
// changed after the snapshot (a concurrent writer committed while the
// statement waited), and under READ COMMITTED a new statement sees the
// version that caused the conflict.
func (s *Store[TX]) conflict(ctx context.Context, tx TX, events []core.Event, expected core.ExpectedVersion, actual int64) error {
	if expected.Matches(actual) {
		var closed, deleted bool
		err := s.queryRow(ctx, tx, s.sql.CurrentVersion, []any{events[0].AggregateType, events[0].AggregateID}, &actual, &closed, &deleted)
		if err != nil {
			return fmt.Errorf("error reading the version of aggregate %s/%s after a conflict: %w", events[0].AggregateType, events[0].AggregateID,
				statementError(ctx, err, s.exec.DatabaseError(err)))
		}
		if closed {
			// A tombstone or a deletion committed while the append waited.
			return &core.StreamClosedError{AggregateType: events[0].AggregateType, AggregateID: events[0].AggregateID, Version: actual, Deleted: deleted}
		}
	}
	s.logger.DebugContext(ctx, "chronicle: append conflict", "aggregate_type", events[0].AggregateType,
		"aggregate_id", events[0].AggregateID, "expected", expected.String(), "actual", actual)
	return conflictError(events, expected, actual, nil)
}

// queryRow runs a statement that returns one row and scans it into dest.
// No row is errNoRow.
func (s *Store[TX]) queryRow(ctx context.Context, tx TX, sql string, args []any, dest ...any) error {
	rows, err := s.exec.Query(ctx, tx, sql, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return errNoRow
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	rows.Close()
	return rows.Err()
}

// errNoRow: a statement that always returns a row returned none.
var errNoRow = fmt.Errorf("the statement returned no row")

// ExecutorOf returns the executor s was made with, for a driver package
// to reach its own settings (nil for a zero Store). It is a function, not
// a method, so that it stays off the driver packages' Store type.
func ExecutorOf[TX any](s *Store[TX]) Executor[TX] {
	if s == nil {
		return nil
	}
	return s.exec
}
