package pgstore

import (
	"context"
	"log/slog"

	"github.com/chronicle-go/chronicle/core"
)

// Executor is all a driver provides to a Store: it runs statements in the
// driver's transactions, encodes the append's parameters and scans event
// rows in the driver's best form, and reads the driver's errors. Store and
// ConsumerStore hold the logic, written once over it.
//
// Implementations are safe for concurrent use; they hold no state of a
// transaction.
type Executor[TX any] interface {
	// Query runs a statement that returns rows in tx. The caller closes the
	// rows.
	Query(ctx context.Context, tx TX, sql string, args ...any) (Rows, error)
	// Exec runs a statement that returns no rows in tx.
	Exec(ctx context.Context, tx TX, sql string, args ...any) error
	// PayloadEncoding is the encoding AppendEventParams uses, which selects
	// the Append statement's variant.
	PayloadEncoding() PayloadEncoding
	// AppendEventParams appends the Append statement's parameters from $5
	// on (see sql/append.sql), for events that passed core.PrepareEvents,
	// to args and returns it.
	AppendEventParams(args []any, events []core.Event) []any
	// TextArray returns values as a text[] parameter.
	TextArray(values []string) any
	// NewEventRow returns scan targets for rows of leading nullable bigint
	// columns, then a nullable text column when leadingText is set, then
	// the event columns (see sql/read_events.sql), reused from row to row.
	NewEventRow(leading int, leadingText bool) EventRow
	// DatabaseError reads what the store interprets of err: the SQLSTATE,
	// constraint and detail of a server error, and whether err says the
	// transaction had already ended.
	DatabaseError(err error) DatabaseError
}

// Rows are the rows of a query: pgx.Rows satisfies it as it is.
type Rows interface {
	// Next prepares the next row; false at the end or on an error.
	Next() bool
	// Scan reads the current row into dest.
	Scan(dest ...any) error
	// Err is the error that ended the rows, if any.
	Err() error
	// Close releases the rows; calling it again does nothing.
	Close()
}

// EventRow receives rows of Executor.NewEventRow's shape.
type EventRow interface {
	// Targets are the scan targets of every column, in order; the same
	// slice for every row.
	Targets() []any
	// Leading returns leading column i of the current row; false when it
	// is NULL.
	Leading(i int) (int64, bool)
	// LeadingText returns the leading text column of the current row;
	// false when it is NULL or the row has none.
	LeadingText() (string, bool)
	// Present reports whether the current row has an event: its event
	// columns are NULL in a consumer batch's row for an empty batch.
	Present() bool
	// Event returns the current row's event; payload and metadata are its
	// own copies.
	Event() (core.PersistedEvent, error)
}

// Transactor is what a driver provides to a ConsumerStore besides its
// Executor: transactions on the driver's pool and notifications.
type Transactor[TX any] interface {
	// Begin starts a READ COMMITTED transaction.
	Begin(ctx context.Context) (TX, error)
	// Commit commits tx; a failed transaction is rolled back and Commit
	// returns an error.
	Commit(ctx context.Context, tx TX) error
	// Rollback rolls tx back; nil when tx has already ended.
	Rollback(ctx context.Context, tx TX) error
	// Listen runs the LISTEN of l on a connection of its own and calls
	// wake as core.ConsumerStore.Listen specifies, with each
	// notification's payload ("" for the call after LISTEN and after a
	// reconnect), until ctx ends or the connection fails. It may return
	// core.ErrNotificationsUnsupported when the driver was given no way to
	// listen.
	Listen(ctx context.Context, l Listening, wake func(payload string)) error
	// Hold runs h.Lock on a connection of its own (never one a transaction
	// will use), calls held, and keeps that session open until ctx ends or
	// the connection fails, noticing a failure within seconds. Then it runs
	// h.Unlock (when the connection still works) and closes the connection,
	// never handing it back to a pool, so that the session's locks end with
	// it, and returns ListenError's error for what ended it.
	Hold(ctx context.Context, h Holding, held func()) error
}

// Holding is what a driver's Hold runs: statements taking and releasing a
// session-level lock, with their parameters.
type Holding struct {
	Lock, Unlock string
	Args         []any
}

// Listening is what a driver's Listen needs.
type Listening struct {
	// Statement is the LISTEN statement, for the quoted channel.
	Statement string
	// Channel is the notify channel's name, unquoted.
	Channel string
	// Logger receives the connection's losses and reconnects. Default
	// (nil): no logs; Store passes its own logger, never nil.
	Logger *slog.Logger
}
