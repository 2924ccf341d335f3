package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chronicle-go/chronicle/core"
)

// ConsumerStore is the consumer runtime's storage port,
// core.ConsumerStore[TX], for the tables of a Store: pass it to
// consumer.NewProcessor and consumer.NewOperations. It begins its
// transactions and listens through the driver's Transactor. Safe for
// concurrent use. The zero ConsumerStore is not usable: its methods return
// an error wrapping ErrInvalidConfig.
//
// Every method but Begin, Commit, Rollback and Listen runs in the given
// transaction, which must come from Begin (or at least be a READ COMMITTED
// transaction on the store's database). An error from a statement aborts
// the transaction, as any PostgreSQL error does: roll it back.
type ConsumerStore[TX any] struct {
	store *Store[TX]
	tr    Transactor[TX]
}

// NewConsumerStore returns the consumer storage port for store's tables
// over tr. A nil or zero store returns an error wrapping ErrInvalidConfig:
// the *ConfigError names "store", or the first invalid name of a zero one.
func NewConsumerStore[TX any](store *Store[TX], tr Transactor[TX]) (*ConsumerStore[TX], error) {
	if store == nil {
		return nil, &ConfigError{Field: "store", Reason: "must not be nil: pass the *Store from NewStore whose tables the consumers read"}
	}
	if store.exec == nil {
		if err := store.names.Validate(); err != nil {
			return nil, err
		}
		return nil, errNotInitialised("store", "NewStore")
	}
	return &ConsumerStore[TX]{store: store, tr: tr}, nil
}

// ready returns the error of a zero ConsumerStore or a nil transaction,
// and at first use of a schema at another version (see Store.usable).
func (s *ConsumerStore[TX]) ready(ctx context.Context, tx TX) error {
	if s == nil || s.tr == nil {
		return errNotInitialised("ConsumerStore", "NewConsumerStore")
	}
	if err := s.live(tx); err != nil {
		return err
	}
	return s.store.checkSchema(ctx, tx)
}

// live returns the error of a zero ConsumerStore or a nil transaction, for
// the calls that end a transaction, which need no schema.
func (s *ConsumerStore[TX]) live(tx TX) error {
	if s == nil || s.tr == nil {
		return errNotInitialised("ConsumerStore", "NewConsumerStore")
	}
	if isNil(tx) {
		return errNilTx
	}
	return nil
}

// Begin starts a READ COMMITTED transaction, whatever the server's default
// isolation level.
func (s *ConsumerStore[TX]) Begin(ctx context.Context) (TX, error) {
	if s == nil || s.tr == nil {
		var zero TX
		return zero, errNotInitialised("ConsumerStore", "NewConsumerStore")
	}
	tx, err := s.tr.Begin(ctx)
	if err != nil {
		return tx, s.store.consumerError(ctx, "beginning a transaction", err)
	}
	return tx, nil
}

// Commit commits tx. A transaction that failed is rolled back instead and
// Commit returns an error; so is one whose ctx has ended.
func (s *ConsumerStore[TX]) Commit(ctx context.Context, tx TX) error {
	if err := s.live(tx); err != nil {
		return err
	}
	if err := s.tr.Commit(ctx, tx); err != nil {
		return s.store.consumerError(ctx, "committing", err)
	}
	return nil
}

// Rollback rolls tx back; it returns nil when tx has already ended,
// including when its connection was closed (which ends it on the server).
func (s *ConsumerStore[TX]) Rollback(ctx context.Context, tx TX) error {
	if err := s.live(tx); err != nil {
		return err
	}
	if err := s.tr.Rollback(ctx, tx); err != nil {
		return s.store.consumerError(ctx, "rolling back", err)
	}
	return nil
}

// Listen implements core.ConsumerStore: it LISTENs on the store's notify
// channel on a connection of the driver's own (see the driver package),
// calls wake once right after LISTEN succeeds — events committed before
// then sent notifications nobody heard — and then once per notification,
// until ctx ends; it returns ctx's error then. When the connection fails
// it returns the error: the consumer processor calls it again with
// backoff, and polls meanwhile. Without a notify channel it returns
// core.ErrNotificationsUnsupported at once. wake runs on Listen's
// goroutine.
func (s *ConsumerStore[TX]) Listen(ctx context.Context, wake func()) error {
	if s == nil || s.tr == nil {
		return errNotInitialised("ConsumerStore", "NewConsumerStore")
	}
	if s.store.channel == "" {
		return core.ErrNotificationsUnsupported
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.tr.Listen(ctx, Listening{Statement: s.store.sql.Listen, Channel: s.store.channel, Logger: s.store.logger}, wake)
}

// ClaimCheckpoint implements core.ConsumerStore: it locks the consumer's
// checkpoint row FOR UPDATE SKIP LOCKED, or creates it at the start of the
// log, in one statement and one round trip, and never waits
// (sql/claim_checkpoint.sql). claimed is false when another transaction
// holds the row or is creating it. The lock gives tx a transaction id, so
// tx holds the frontier back until it ends: keep batch transactions short.
func (s *ConsumerStore[TX]) ClaimCheckpoint(ctx context.Context, tx TX, consumer string) (core.Checkpoint, bool, error) {
	if err := core.ValidateConsumerName(consumer); err != nil {
		return core.Checkpoint{}, false, err
	}
	if err := s.ready(ctx, tx); err != nil {
		return core.Checkpoint{}, false, err
	}
	doing := fmt.Sprintf("claiming the checkpoint of consumer %q", consumer)
	var r checkpointRow
	err := s.store.queryRow(ctx, tx, s.store.sql.ClaimCheckpoint, []any{consumer}, r.targets()...)
	if errors.Is(err, errNoRow) {
		return core.Checkpoint{}, false, nil
	}
	if err != nil {
		return core.Checkpoint{}, false, s.store.consumerError(ctx, doing, err)
	}
	return r.checkpoint(), true, nil
}

// SaveCheckpoint implements core.ConsumerStore: it writes cp's cursor,
// owner and failure fields, with UpdatedAt set to the transaction's now()
// (times are stored in UTC to the microsecond) (sql/save_checkpoint.sql).
// The write becomes visible to others when tx commits. Meant for a
// checkpoint claimed in tx; on another it waits for the row lock, and it
// creates a missing row.
func (s *ConsumerStore[TX]) SaveCheckpoint(ctx context.Context, tx TX, cp core.Checkpoint) error {
	if err := core.ValidateConsumerName(cp.ConsumerName); err != nil {
		return err
	}
	if err := validateCursor(cp.Cursor); err != nil {
		return err
	}
	if err := s.ready(ctx, tx); err != nil {
		return err
	}
	var lastError, lastErrorPosition any
	if cp.LastError != "" {
		lastError = cp.LastError
	}
	if cp.LastErrorPosition != 0 {
		lastErrorPosition = cp.LastErrorPosition
	}
	err := s.store.exec.Exec(ctx, tx, s.store.sql.SaveCheckpoint, cp.ConsumerName, cp.Cursor.TransactionOrder, cp.Cursor.GlobalPosition,
		cp.Owner, int64(cp.FailedAttempts), dbTime(cp.StoppedAt), lastError, lastErrorPosition, dbTime(cp.LastErrorAt))
	if err != nil {
		return s.store.consumerError(ctx, fmt.Sprintf("saving the checkpoint of consumer %q", cp.ConsumerName), err)
	}
	return nil
}

// SetCheckpoint implements core.ConsumerStore: it moves the consumer's
// cursor to at, creating the checkpoint if missing, and clears
// FailedAttempts and StoppedAt (the last error stays)
// (sql/set_checkpoint.sql). It waits while another transaction holds the
// row (a running batch) or creates it, until that ends or ctx does.
func (s *ConsumerStore[TX]) SetCheckpoint(ctx context.Context, tx TX, consumer string, at core.Cursor) error {
	if err := core.ValidateConsumerName(consumer); err != nil {
		return err
	}
	if err := validateCursor(at); err != nil {
		return err
	}
	if err := s.ready(ctx, tx); err != nil {
		return err
	}
	if err := s.store.exec.Exec(ctx, tx, s.store.sql.SetCheckpoint, consumer, at.TransactionOrder, at.GlobalPosition); err != nil {
		return s.store.consumerError(ctx, fmt.Sprintf("setting the checkpoint of consumer %q to %s", consumer, at), err)
	}
	return nil
}

// Checkpoints implements core.ConsumerStore: every checkpoint tx sees,
// ordered by consumer name (byte order), and for each whether another
// transaction holds it now. It neither locks nor waits
// (sql/checkpoints.sql). Rows another transaction is still creating are
// not seen.
func (s *ConsumerStore[TX]) Checkpoints(ctx context.Context, tx TX) ([]core.Checkpoint, []bool, error) {
	if err := s.ready(ctx, tx); err != nil {
		return nil, nil, err
	}
	rows, err := s.store.exec.Query(ctx, tx, s.store.sql.Checkpoints)
	if err != nil {
		return nil, nil, s.store.consumerError(ctx, "reading checkpoints", err)
	}
	defer rows.Close()
	cps, held := []core.Checkpoint{}, []bool{}
	var (
		r checkpointRow
		h bool
	)
	targets := append(r.targets(), &h)
	for rows.Next() {
		r = checkpointRow{}
		if err := rows.Scan(targets...); err != nil {
			return nil, nil, s.store.consumerError(ctx, "reading checkpoints", err)
		}
		cps, held = append(cps, r.checkpoint()), append(held, h)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, s.store.consumerError(ctx, "reading checkpoints", err)
	}
	return cps, held, nil
}

// checkpointRow receives the checkpoint columns of one row (see
// sql/checkpoints.sql). Both drivers scan NULL into a nil pointer.
type checkpointRow struct {
	cp                core.Checkpoint
	failedAttempts    int64
	stoppedAt         *time.Time
	lastError         *string
	lastErrorPosition *int64
	lastErrorAt       *time.Time
}

// targets returns the scan targets, in column order.
func (r *checkpointRow) targets() []any {
	return []any{&r.cp.ConsumerName, &r.cp.Cursor.TransactionOrder, &r.cp.Cursor.GlobalPosition, &r.cp.UpdatedAt,
		&r.cp.Owner, &r.failedAttempts, &r.stoppedAt, &r.lastError, &r.lastErrorPosition, &r.lastErrorAt}
}

// checkpoint returns the scanned checkpoint, times in UTC, NULLs as zero
// values.
func (r *checkpointRow) checkpoint() core.Checkpoint {
	cp := r.cp
	cp.UpdatedAt = cp.UpdatedAt.UTC()
	cp.FailedAttempts = int(r.failedAttempts)
	if r.stoppedAt != nil {
		cp.StoppedAt = r.stoppedAt.UTC()
	}
	if r.lastError != nil {
		cp.LastError = *r.lastError
	}
	if r.lastErrorPosition != nil {
		cp.LastErrorPosition = *r.lastErrorPosition
	}
	if r.lastErrorAt != nil {
		cp.LastErrorAt = r.lastErrorAt.UTC()
	}
	return cp
}

// validateCursor rejects a cursor with a negative part with a
// *core.InvalidArgumentError: no event sorts after it usefully, and it is
// not something the runtime ever stores.
func validateCursor(c core.Cursor) error {
	if c.TransactionOrder < 0 || c.GlobalPosition < 0 {
		return &core.InvalidArgumentError{Argument: "cursor", Reason: fmt.Sprintf("both parts must be >= 0, got %s", c)}
	}
	return nil
}

// dbTime returns t as a timestamptz parameter: in UTC and truncated to the
// microsecond, as PostgreSQL stores it (the server would round a text
// timestamp with nanoseconds instead, so drivers that send text would
// differ from those that send binary). The zero time is nil (NULL).
func dbTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Truncate(time.Microsecond)
}
