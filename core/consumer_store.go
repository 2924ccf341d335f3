package core

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Checkpoint is a consumer's stored state: its cursor, and what the last
// failure was. One row per consumer name; its row lock is the consumer's
// lease (see ConsumerStore.ClaimCheckpoint).
type Checkpoint struct {
	// ConsumerName is the consumer's Name().
	ConsumerName string
	// Cursor is the position after the last processed event.
	Cursor Cursor
	// UpdatedAt is when the checkpoint was last written.
	UpdatedAt time.Time
	// Owner identifies the process that last wrote the checkpoint
	// (host, process id and database backend), "" if none did yet.
	Owner string
	// FailedAttempts counts consecutive failed batches; 0 after a success.
	FailedAttempts int
	// StoppedAt is when the consumer was stopped after too many failed
	// attempts; zero while it runs.
	StoppedAt time.Time
	// LastError, LastErrorPosition and LastErrorAt describe the most recent
	// failure: the handler's error text, the global position of the event it
	// failed on (0: the failure was not tied to an event), and when.
	LastError         string
	LastErrorPosition int64
	LastErrorAt       time.Time
}

// ConsumerBatch is the result of ConsumerStore.ReadConsumerBatch: events
// and the frontier, both taken from one snapshot.
type ConsumerBatch struct {
	// Events follow the cursor in (TransactionOrder, GlobalPosition) order,
	// all with TransactionOrder < Frontier.
	Events []PersistedEvent
	// Frontier is the transaction order below which every transaction has
	// ended: no event with a smaller TransactionOrder can ever appear.
	Frontier int64
}

// FrontierHolder is a transaction holding the consumer frontier back: while
// it runs, no consumer can pass its transaction id.
type FrontierHolder struct {
	// PID is the server process id (0 for a prepared transaction).
	PID int
	// TransactionID is the transaction's id.
	TransactionID int64
	// Started is when the transaction began.
	Started time.Time
	// State is pg_stat_activity's state ("active", "idle in transaction",
	// …) or "prepared" for a prepared transaction.
	State string
	// Query is the backend's current or last statement, or the prepared
	// transaction's global id.
	Query string
	// Application is the client's application_name, or the owner of a
	// prepared transaction.
	Application string
}

// OrderStatus compares the transaction order stored in the log with the
// database's current one, to detect a log moved to another cluster.
type OrderStatus struct {
	// StoredMax is the highest transaction order stored: of the log's events
	// and of the consumers' cursors, which may sit above every event (at a
	// frontier). 0 when there is neither.
	StoredMax int64
	// Current is the order the next transaction would get: the next
	// transaction id plus Offset.
	Current int64
	// Offset is the order offset currently added to transaction ids.
	Offset int64
}

// Moved reports whether the stored orders are ahead of the database's:
// the log was restored or replicated into another cluster, whose
// transaction ids start lower. Consumers would stall and then skip events;
// run the recovery (ConsumerStore.RaiseOrderOffset) first.
func (s OrderStatus) Moved() bool { return s.StoredMax >= s.Current }

// ErrTransactionOrderMoved: the log's stored transaction orders are ahead of
// the database's transaction ids — it was restored or moved into another
// cluster. Detail: *TransactionOrderMovedError.
var ErrTransactionOrderMoved = errors.New("transaction order moved backwards")

// TransactionOrderMovedError is the detail of ErrTransactionOrderMoved.
type TransactionOrderMovedError struct {
	Status OrderStatus
}

func (e *TransactionOrderMovedError) Error() string {
	return fmt.Sprintf("the event log's transaction order (stored max %d) is ahead of this database cluster's (%d, offset %d): "+
		"the database was restored or moved to another cluster; stop all writers and run the order-offset recovery "+
		"(consumer.Operations.RecoverTransactionOrder or `chronicle recover-order`) before appending or consuming",
		e.Status.StoredMax, e.Status.Current, e.Status.Offset)
}

// Is reports whether target is ErrTransactionOrderMoved.
func (e *TransactionOrderMovedError) Is(target error) bool { return target == ErrTransactionOrderMoved }

// ConsumerStore is the storage port of the consumer runtime, implemented by
// every adapter. The runtime begins its own transactions with it; all other
// methods run in such a transaction. Implementations are safe for
// concurrent use.
type ConsumerStore[TX any] interface {
	// Begin starts a READ COMMITTED transaction; Commit and Rollback end it.
	// Rollback of an ended transaction returns nil.
	Begin(ctx context.Context) (TX, error)
	Commit(ctx context.Context, tx TX) error
	Rollback(ctx context.Context, tx TX) error

	// ClaimCheckpoint locks the consumer's checkpoint row without waiting
	// (FOR UPDATE SKIP LOCKED), creating it at the start of the log if
	// missing. claimed is false when another transaction holds it. The lock
	// lasts until tx ends: it is the consumer's lease.
	ClaimCheckpoint(ctx context.Context, tx TX, consumer string) (cp Checkpoint, claimed bool, err error)
	// SaveCheckpoint writes cp (cursor, failure fields, owner) for a
	// consumer claimed in tx, and sets UpdatedAt.
	SaveCheckpoint(ctx context.Context, tx TX, cp Checkpoint) error
	// ReadConsumerBatch returns up to limit events after the cursor with
	// TransactionOrder below the frontier, and that frontier, from ONE
	// snapshot. aggregateTypes, when non-empty, keeps only those types.
	ReadConsumerBatch(ctx context.Context, tx TX, after Cursor, aggregateTypes []string, limit int) (ConsumerBatch, error)

	// Checkpoints returns every stored checkpoint, ordered by name, and for
	// each whether a transaction other than tx holds its lease now.
	Checkpoints(ctx context.Context, tx TX) (checkpoints []Checkpoint, held []bool, err error)
	// SetCheckpoint moves a consumer's cursor to at, creating the checkpoint
	// if missing, and clears its failure state (FailedAttempts, StoppedAt;
	// the last error stays for the record). Unlike ClaimCheckpoint it waits
	// for a running batch of that consumer to finish.
	SetCheckpoint(ctx context.Context, tx TX, consumer string, at Cursor) error
	// CountEventsAfter counts visible events after the cursor (of the given
	// aggregate types, when non-empty).
	CountEventsAfter(ctx context.Context, tx TX, after Cursor, aggregateTypes []string) (int64, error)
	// Frontier returns the current frontier (see ConsumerBatch.Frontier).
	Frontier(ctx context.Context, tx TX) (int64, error)
	// FrontierHolders lists the transactions that hold an id, oldest first.
	FrontierHolders(ctx context.Context, tx TX) ([]FrontierHolder, error)
	// TransactionOrder compares stored and current transaction orders.
	TransactionOrder(ctx context.Context, tx TX) (OrderStatus, error)
	// RaiseOrderOffset sets the order offset so that new transaction orders
	// (and the frontier) continue above StoredMax. It is the supported
	// recovery after a restore into another cluster; it needs no superuser.
	RaiseOrderOffset(ctx context.Context, tx TX) (OrderStatus, error)

	// Listen calls wake whenever events may have been committed, until ctx
	// ends, and returns ctx's error then (or an error when listening fails;
	// the runtime retries and polls meanwhile). Wakeups are hints only: a
	// store without notifications may return ErrNotificationsUnsupported.
	Listen(ctx context.Context, wake func()) error
}

// ErrNotificationsUnsupported is returned by ConsumerStore.Listen when the
// store has no notify channel configured; the runtime then only polls.
var ErrNotificationsUnsupported = errors.New("store has no notify channel configured")
