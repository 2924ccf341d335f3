package core

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Checkpoint is a consumer's stored state: its cursor, and what the last
// failure was. One row per consumer name.
type Checkpoint struct {
	// ConsumerName is the consumer's Name().
	ConsumerName string
	// Cursor is what the consumer has delivered.
	Cursor Cursor
	// UpdatedAt is when the checkpoint was last written (the database's
	// clock); zero for a consumer never saved.
	UpdatedAt time.Time
	// Owner identifies the process that last wrote the checkpoint (the
	// processor's Owner, by default "hostname/pid"), "" if none did yet.
	// ConsumerStore.OwnersPresent tells whether that process still runs.
	Owner string
	// FailedAttempts counts consecutive failed batches, whatever failed
	// (the handler, the claim, the save, the commit); 0 after a success.
	FailedAttempts int
	// StoppedAt is when the consumer was stopped after too many failed
	// attempts; zero while it runs.
	StoppedAt time.Time
	// LastError, LastErrorPosition and LastErrorAt describe the most recent
	// failure: its error text, the global position of the event it failed
	// on (0: the failure was not tied to an event), and when (the
	// database's clock).
	LastError         string
	LastErrorPosition int64
	LastErrorAt       time.Time
	// Delivered counts the events handled since the cursor was last set —
	// since the consumer's first batch, or the reset, set-cursor or
	// start-from-now that moved it — and DeliveredSince is when that was
	// (the database's clock; zero for a consumer never saved). A rebuild's
	// progress and average rate come from them. The runtime adds each
	// batch's events to Delivered; SetCheckpoint sets it to 0 and
	// DeliveredSince to now.
	Delivered      int64
	DeliveredSince time.Time
	// ClaimedAt is the database's clock when ClaimCheckpoint read the
	// checkpoint (zero from Checkpoints): the runtime dates failures and
	// stops with it, so that hosts' clocks do not matter.
	ClaimedAt time.Time
}

// BatchRead is the batch ConsumerStore.BeginBatch reads along with the
// claim: the events after From in Scope, up to Limit, read only when the
// claimed checkpoint's Cursor equals Expect and, unless ExpectSaved is
// zero, its UpdatedAt equals ExpectSaved. The runtime sets Expect to the
// cursor it last saved, with a zero ExpectSaved and From = Expect, or, for
// a consumer that moved on in memory without saving, to the stored cursor
// and UpdatedAt it last claimed, with From the cursor it moved on to.
type BatchRead struct {
	Expect      Cursor
	ExpectSaved time.Time
	From        Cursor
	Scope       ConsumerScope
	Limit       int
}

// ClaimedBatch is the result of ConsumerStore.BeginBatch: the claim's
// Checkpoint and Claimed as ClaimCheckpoint returns them, and, when Read
// is set, the BatchRead's batch.
type ClaimedBatch struct {
	Checkpoint Checkpoint
	Claimed    bool
	Read       bool
	Batch      ConsumerBatch
}

// Expects reports whether cp is the checkpoint r expects (see BatchRead).
func (r *BatchRead) Expects(cp Checkpoint) bool {
	return r != nil && cp.Cursor.Equal(r.Expect) && (r.ExpectSaved.IsZero() || cp.UpdatedAt.Equal(r.ExpectSaved))
}

// Validate returns an *InvalidArgumentError naming what is wrong with r.
func (r *BatchRead) Validate() error {
	if err := r.Expect.Validate(); err != nil {
		return err
	}
	if err := r.From.Validate(); err != nil {
		return err
	}
	if err := r.Scope.Validate(); err != nil {
		return err
	}
	if r.Limit < 1 {
		return &InvalidArgumentError{Argument: "limit", Reason: fmt.Sprintf("must be >= 1, got %d", r.Limit)}
	}
	return nil
}

// ConsumerBatch is the result of ConsumerStore.ReadConsumerBatch.
type ConsumerBatch struct {
	// Events are events the cursor had not delivered, in GlobalPosition
	// order: every event of a writer visible in the batch's snapshot and
	// not in the cursor's, up to the limit. Events of one aggregate come in
	// version order.
	Events []PersistedEvent
	// Next is the cursor after Events: the batch's snapshot when the diff
	// was exhausted, else the same diff paged up to the last event.
	Next Cursor
	// Writing reports that, when the batch's snapshot was taken, another
	// transaction had appended events it had not committed yet: a batch soon
	// may find more, and the runtime polls quickly until no writer is in
	// flight, so that a writer's commit is noticed without a notification.
	// Set by batches that take a snapshot, not by pages.
	Writing bool
}

// Writer is a running transaction that a consumer's snapshot lists as not
// yet visible: if it appends events and commits, the consumer delivers
// them then. It holds back nothing else.
type Writer struct {
	// TransactionID is the transaction's id plus the order offset, as in
	// Snapshot.
	TransactionID int64
	// PID is the server process id (0 for a prepared transaction).
	PID int
	// Started is when the transaction began (prepared: when it was prepared).
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

// Lag is how far a cursor is behind the log.
type Lag struct {
	// Events counts the committed events the cursor has not delivered (of
	// the given aggregate types). It is exact up to LagExactLimit; beyond
	// that Estimated is true and Events extrapolates the density of the
	// first LagExactLimit undelivered events over the rest of the log, so
	// that a status call costs the same at any lag.
	Events    int64
	Estimated bool
	// Oldest is the creation time (Event.CreatedAt) of the oldest of the
	// counted undelivered events; zero when there are none.
	Oldest time.Time
}

// LagExactLimit is how many undelivered events ConsumerStore.Lag counts
// exactly before it estimates.
const LagExactLimit = 1000

// OrderStatus compares the transaction ids stored in the log with the
// database's, to detect a log moved to another cluster.
type OrderStatus struct {
	// StoredMax is the lowest id a new writer must get so that no stored
	// snapshot counts it as visible: one past the highest stored event
	// TransactionID, or the highest Xmax of a stored cursor, whichever is
	// higher. 0 when there is neither.
	StoredMax int64
	// Current is the id (offset applied) the next transaction would get.
	Current int64
	// Offset is the order offset currently added to transaction ids.
	Offset int64
	// CheckedAt is the database's clock when the status was read.
	CheckedAt time.Time
}

// Moved reports whether the stored ids are ahead of the database's: the log
// was restored or replicated into another cluster, whose transaction ids
// start lower. New events would sort behind consumers' cursors and never
// be delivered; run the recovery (ConsumerStore.RaiseOrderOffset) first.
func (s OrderStatus) Moved() bool { return s.StoredMax > s.Current }

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
//
// A consumer's lease is a transaction-scoped lock keyed by its name, not a
// row lock: a batch transaction must not hold a transaction id when its
// batch statement takes its snapshot (the id would be absent from the
// snapshot's running list, so the snapshot would count the transaction's
// own later appends as delivered).
type ConsumerStore[TX any] interface {
	// Begin starts a READ COMMITTED transaction; Commit and Rollback end it.
	// Rollback of an ended transaction returns nil.
	Begin(ctx context.Context) (TX, error)
	Commit(ctx context.Context, tx TX) error
	Rollback(ctx context.Context, tx TX) error

	// ClaimCheckpoint takes the consumer's lease without waiting and without
	// giving tx a transaction id, and reads its checkpoint. A consumer never
	// saved gets a Checkpoint at the start of the log with a zero UpdatedAt.
	// claimed is false when another transaction holds the lease. The lease
	// lasts until tx ends.
	ClaimCheckpoint(ctx context.Context, tx TX, consumer string) (cp Checkpoint, claimed bool, err error)
	// SaveCheckpoint writes cp (cursor, failure fields, owner, Delivered;
	// a stored DeliveredSince is kept, a row without one takes cp's, or now
	// when that is zero) for a
	// consumer leased in tx, creating the row if missing, and sets
	// UpdatedAt to the database's clock.
	SaveCheckpoint(ctx context.Context, tx TX, cp Checkpoint) error
	// ReadConsumerBatch returns up to limit events the cursor has not
	// delivered and the cursor after them, in ONE statement that takes the
	// current snapshot (see ConsumerBatch). scope keeps only its aggregate
	// types and partition (the zero ConsumerScope: every event); a bad
	// partition is an *InvalidArgumentError. If tx holds a transaction id, it is not
	// visible in the batch's snapshot, so its own appends are delivered once
	// it commits.
	ReadConsumerBatch(ctx context.Context, tx TX, after Cursor, scope ConsumerScope, limit int) (ConsumerBatch, error)
	// BeginBatch is Begin, ClaimCheckpoint in the new transaction and,
	// when read is not nil and the claimed checkpoint is the one read
	// expects, ReadConsumerBatch(read.From, read.Scope, read.Limit): a store
	// may send all of it in one round trip, since the read's statement only
	// depends on read. It returns the transaction, to end with Commit,
	// CommitCheckpoint or Rollback, also when the lease was not claimed;
	// after an error there is none. ClaimedBatch.Read reports whether Batch
	// holds that read; when it does not (read nil, not claimed, or another
	// checkpoint than expected) the caller reads from the checkpoint it got.
	// Invalid arguments are an *InvalidArgumentError, and nothing is begun.
	BeginBatch(ctx context.Context, consumer string, read *BatchRead) (TX, ClaimedBatch, error)
	// CommitCheckpoint is SaveCheckpoint(tx, cp) and then Commit(tx), which a
	// store may send in one round trip. When it fails, tx is rolled back or
	// aborted: end it with Rollback.
	CommitCheckpoint(ctx context.Context, tx TX, cp Checkpoint) error
	// CommitAndBegin is CommitCheckpoint(tx, cp) and then BeginBatch(consumer,
	// read), which a store may send in one round trip, going on in a
	// transaction chained to the committed one on the same connection: next
	// may then be tx itself. committed reports whether cp was committed.
	// When it was not, tx is left for Rollback; when it was and the rest
	// failed, there is no next transaction.
	CommitAndBegin(ctx context.Context, tx TX, cp Checkpoint, consumer string, read *BatchRead) (next TX, cb ClaimedBatch, committed bool, err error)

	// Checkpoints returns every stored checkpoint, ordered by name, and for
	// each whether a transaction other than tx holds its lease now.
	Checkpoints(ctx context.Context, tx TX) (checkpoints []Checkpoint, held []bool, err error)
	// SetCheckpoint moves a consumer's cursor to at, creating the checkpoint
	// if missing, clears its failure state (FailedAttempts, StoppedAt;
	// the last error stays for the record) and restarts its progress
	// (Delivered 0, DeliveredSince now). Unlike ClaimCheckpoint it waits
	// for the lease: for a running batch of that consumer to end. It does
	// not check at against the current snapshot (Operations does).
	SetCheckpoint(ctx context.Context, tx TX, consumer string, at Cursor) error
	// DeleteCheckpoint removes a consumer's checkpoint, waiting for its
	// lease like SetCheckpoint; deleted is false when there was none.
	DeleteCheckpoint(ctx context.Context, tx TX, consumer string) (deleted bool, err error)
	// Lag measures the committed events after the cursor (in scope) at
	// bounded cost; see Lag.
	Lag(ctx context.Context, tx TX, after Cursor, scope ConsumerScope) (Lag, error)
	// CurrentSnapshot returns the database's current snapshot (offset
	// applied), in which tx's own transaction id, if it has one, is not
	// visible (listed as running, or at or above Xmax).
	CurrentSnapshot(ctx context.Context, tx TX) (Snapshot, error)
	// Writers returns the transactions among ids (offset applied) that are
	// still running in this database, by id (oldest first), prepared ones
	// included, as of the call (not cached for the transaction).
	Writers(ctx context.Context, tx TX, ids []int64) ([]Writer, error)
	// TransactionOrder compares stored and current transaction ids.
	TransactionOrder(ctx context.Context, tx TX) (OrderStatus, error)
	// RaiseOrderOffset sets the order offset so that new transaction ids
	// continue above StoredMax. It is the supported recovery after a restore
	// into another cluster; it needs the tables' owner, not a superuser.
	RaiseOrderOffset(ctx context.Context, tx TX) (OrderStatus, error)

	// HoldPresence marks owner (a processor's Owner, as stored in
	// Checkpoint.Owner) as present until ctx ends, so that OwnersPresent
	// tells a running owner from one that is gone. On PostgreSQL it is a
	// session-level shared advisory lock keyed by the owner, held on a
	// connection of its own: it ends with that session, whether the process
	// stops, crashes or loses the connection. Several sessions may hold one
	// owner's presence at once. It calls held once the presence is held and
	// then blocks; it returns ctx's error when ctx ends (the presence is
	// released), or an error when the session is lost (the presence ended
	// with it; the runtime calls it again with backoff). An owner that
	// ValidateOwner refuses is an *InvalidArgumentError before any I/O.
	HoldPresence(ctx context.Context, owner string, held func()) error
	// OwnersPresent reports for each of owners, in order, whether a session
	// holds its presence (HoldPresence) now, as of the call rather than of
	// tx's snapshot. An empty owner is never present; one ValidateOwner
	// refuses otherwise is an *InvalidArgumentError.
	OwnersPresent(ctx context.Context, tx TX, owners []string) ([]bool, error)

	// Listen calls wake whenever events may have been committed, until ctx
	// ends, and returns ctx's error then (or an error when listening fails;
	// the runtime retries and polls meanwhile). writers lists the ids
	// (offset applied) of the transactions that appended, when known: the
	// runtime polls until they have ended. Wakeups are hints only and may
	// come before the writers commit; a store without notifications may
	// return ErrNotificationsUnsupported.
	Listen(ctx context.Context, wake func(writers []int64)) error
}

// ErrNotificationsUnsupported is returned by ConsumerStore.Listen when the
// store has no notify channel configured; the runtime then only polls.
var ErrNotificationsUnsupported = errors.New("store has no notify channel configured")
