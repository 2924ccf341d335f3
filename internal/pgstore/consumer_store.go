package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
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
	// relaxCommit makes ClaimCheckpoint set synchronous_commit off for
	// the claiming transaction (see WithSynchronousBatchCommit).
	relaxCommit bool
}

// ConsumerStoreOption changes how a ConsumerStore runs its batches.
type ConsumerStoreOption func(*consumerStoreConfig)

type consumerStoreConfig struct {
	synchronousBatchCommit bool
}

// WithSynchronousBatchCommit makes the consumer runtime's batch
// transactions commit as the server's synchronous_commit setting says,
// waiting for the commit's WAL to be flushed (and replicated, if so
// configured), like any other transaction.
//
// By default a transaction that claims a checkpoint (a batch, or the
// recording of a failure) sets synchronous_commit off for itself: its
// commit returns before its WAL reaches the disk, which saves a flush per
// batch (on a disk where a flush takes a millisecond, more than a catch-up
// spends on the batch's statements). What a crash of the server can then
// lose is the last batches committed before it (at most about three
// wal_writer_delay, 0.6 s by default), and it loses each of them whole:
// the handler's writes in the batch transaction together with the
// checkpoint, never one without the other. After the restart the consumer
// delivers those events again and the handlers redo their writes, so
// anything kept in the batch transaction still sees every event once. What
// is not kept there — a mail sent, a call to another system — already
// happens again when a batch fails before its commit; only the window is
// wider. Events a handler appends in its batch transaction are lost and
// appended again the same way, possibly with new ids and times: choose
// this option when a handler's appends or writes must be durable the
// moment the batch commits (a saga whose new events others read at once,
// a read model that is the system of record).
func WithSynchronousBatchCommit() ConsumerStoreOption {
	return func(c *consumerStoreConfig) { c.synchronousBatchCommit = true }
}

// NewConsumerStore returns the consumer storage port for store's tables
// over tr, with opts applied. A nil or zero store returns an error
// wrapping ErrInvalidConfig: the *ConfigError names "store", or the first
// invalid name of a zero one.
func NewConsumerStore[TX any](store *Store[TX], tr Transactor[TX], opts ...ConsumerStoreOption) (*ConsumerStore[TX], error) {
	if store == nil {
		return nil, &ConfigError{Field: "store", Reason: "must not be nil: pass the *Store from NewStore whose tables the consumers read"}
	}
	if store.exec == nil {
		if err := store.names.Validate(); err != nil {
			return nil, err
		}
		return nil, errNotInitialised("store", "NewStore")
	}
	var cfg consumerStoreConfig
	for _, opt := range opts {
		if opt != nil {
			opt(&cfg)
		}
	}
	return &ConsumerStore[TX]{store: store, tr: tr, relaxCommit: !cfg.synchronousBatchCommit}, nil
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
// until ctx ends; it returns ctx's error then. Notifications come from at
// most one append per NotifyInterval and per Store, at its commit; wake
// gets the writer ids its payload names (the appends of that Store since
// the previous notification, which may still be running), nil for none or
// a payload from elsewhere. When the connection fails it returns the
// error: the consumer processor calls it again with backoff, and polls
// meanwhile. Without a notify channel it returns
// core.ErrNotificationsUnsupported at once. wake runs on Listen's
// goroutine.
func (s *ConsumerStore[TX]) Listen(ctx context.Context, wake func(writers []int64)) error {
	if s == nil || s.tr == nil {
		return errNotInitialised("ConsumerStore", "NewConsumerStore")
	}
	if s.store.channel == "" {
		return core.ErrNotificationsUnsupported
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.tr.Listen(ctx, Listening{Statement: s.store.sql.Listen, Channel: s.store.channel, Logger: s.store.logger},
		func(payload string) { wake(parseWriters(payload)) })
}

// HoldPresence implements core.ConsumerStore: on a connection of the
// driver's own (see the driver package) it takes owner's presence, a
// session-level shared advisory lock (sql/hold_presence.sql), calls held,
// and keeps the session until ctx ends (it returns ctx's error then) or
// the connection fails (it returns that error; the processor calls it
// again with backoff). It releases the lock before it returns
// (sql/release_presence.sql), and the lock ends with the session anyway, so
// a process that stops or loses its connection is shown as gone by
// OwnersPresent.
func (s *ConsumerStore[TX]) HoldPresence(ctx context.Context, owner string, held func()) error {
	if err := core.ValidateOwner(owner); err != nil {
		return err
	}
	if s == nil || s.tr == nil {
		return errNotInitialised("ConsumerStore", "NewConsumerStore")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if held == nil {
		held = func() {}
	}
	return s.tr.Hold(ctx, Holding{Lock: s.store.sql.HoldPresence, Unlock: s.store.sql.ReleasePresence, Args: []any{owner}}, held)
}

// OwnersPresent implements core.ConsumerStore: for each owner, whether a
// session holds its presence now, from pg_locks (sql/owners_present.sql).
// It neither locks nor waits.
func (s *ConsumerStore[TX]) OwnersPresent(ctx context.Context, tx TX, owners []string) ([]bool, error) {
	for _, o := range owners {
		if o == "" {
			continue
		}
		if err := core.ValidateOwner(o); err != nil {
			return nil, err
		}
	}
	if err := s.ready(ctx, tx); err != nil {
		return nil, err
	}
	const doing = "reading the owners' presence"
	rows, err := s.store.exec.Query(ctx, tx, s.store.sql.OwnersPresent, s.store.exec.TextArray(owners))
	if err != nil {
		return nil, s.store.consumerError(ctx, doing, err)
	}
	defer rows.Close()
	present := make([]bool, 0, len(owners))
	for rows.Next() {
		var p bool
		if err := rows.Scan(&p); err != nil {
			return nil, s.store.consumerError(ctx, doing, err)
		}
		present = append(present, p)
	}
	if err := rows.Err(); err != nil {
		return nil, s.store.consumerError(ctx, doing, err)
	}
	if len(present) != len(owners) {
		return nil, fmt.Errorf("error %s: %d rows for %d owners", doing, len(present), len(owners))
	}
	return present, nil
}

// ClaimCheckpoint implements core.ConsumerStore: it tries the consumer's
// lease, a transaction-scoped advisory lock (sql/claim_lease.sql), setting
// synchronous_commit off for tx unless the store was made with
// WithSynchronousBatchCommit, and when
// it got it reads the checkpoint in a second statement, whose snapshot sees
// whatever the previous holder committed (sql/read_checkpoint.sql). Neither
// waits nor gives tx a transaction id. claimed is false when another
// transaction holds the lease. A consumer without a row gets the start of
// the log and a zero UpdatedAt; the row is created by its first save.
func (s *ConsumerStore[TX]) ClaimCheckpoint(ctx context.Context, tx TX, consumer string) (core.Checkpoint, bool, error) {
	if err := core.ValidateConsumerName(consumer); err != nil {
		return core.Checkpoint{}, false, err
	}
	if err := s.ready(ctx, tx); err != nil {
		return core.Checkpoint{}, false, err
	}
	doing := fmt.Sprintf("claiming the checkpoint of consumer %q", consumer)
	var claimed bool
	if err := s.store.queryRow(ctx, tx, s.store.sql.ClaimLease, []any{consumer, s.relaxCommit}, &claimed); err != nil {
		return core.Checkpoint{}, false, s.store.consumerError(ctx, doing, err)
	}
	if !claimed {
		return core.Checkpoint{}, false, nil
	}
	var (
		r   checkpointRow
		now time.Time
	)
	if err := s.store.queryRow(ctx, tx, s.store.sql.ReadCheckpoint, []any{consumer}, append([]any{&now}, r.targets()...)...); err != nil {
		return core.Checkpoint{}, false, s.store.consumerError(ctx, doing, err)
	}
	cp, err := r.checkpoint()
	if err != nil {
		return core.Checkpoint{}, false, s.store.consumerError(ctx, doing, err)
	}
	cp.ConsumerName, cp.ClaimedAt = consumer, now.UTC()
	return cp, true, nil
}

// BeginBatch implements core.ConsumerStore: BEGIN, ClaimCheckpoint's two
// statements and, when read is set, the batch's statement for read.From,
// in one round trip when the driver pipelines (pgx); each statement still
// takes its own snapshot, so the checkpoint is read after the lease is
// held, as ClaimCheckpoint reads it. The batch's rows are used only when
// the lease was claimed and the checkpoint is the one read expects;
// otherwise they are discarded (a driver without pipelining does not send
// the statement). Invalid arguments are refused before anything is sent.
func (s *ConsumerStore[TX]) BeginBatch(ctx context.Context, consumer string, read *core.BatchRead) (TX, core.ClaimedBatch, error) {
	var none TX
	if s == nil || s.tr == nil {
		return none, core.ClaimedBatch{}, errNotInitialised("ConsumerStore", "NewConsumerStore")
	}
	if err := core.ValidateConsumerName(consumer); err != nil {
		return none, core.ClaimedBatch{}, err
	}
	if read != nil {
		if err := read.Validate(); err != nil {
			return none, core.ClaimedBatch{}, err
		}
	}
	c := s.newClaim(consumer, read)
	tx, failed, err := s.beginWith(ctx, c.queries...)
	if err != nil {
		if failed == -2 {
			return none, core.ClaimedBatch{}, err // the schema check's own error
		}
		return none, core.ClaimedBatch{}, s.store.consumerError(ctx, c.doing(failed), err)
	}
	cb, err := c.result(ctx, tx)
	if err != nil {
		_ = s.Rollback(context.WithoutCancel(ctx), tx)
		return none, core.ClaimedBatch{}, err
	}
	return tx, cb, nil
}

// claim is a batch's claim and read as a pipeline (see BeginBatch) and
// what their Reads found.
type claim[TX any] struct {
	s        *ConsumerStore[TX]
	consumer string
	read     *core.BatchRead
	queries  []Pipelined
	cb       core.ClaimedBatch
	batch    batchRows
}

func (s *ConsumerStore[TX]) newClaim(consumer string, read *core.BatchRead) *claim[TX] {
	c := &claim[TX]{s: s, consumer: consumer, read: read}
	var (
		r       checkpointRow
		now     time.Time
		claimed bool
	)
	c.queries = []Pipelined{
		{SQL: s.store.sql.ClaimLease, Args: []any{consumer, s.relaxCommit}, Read: func(rows Rows) error { return scanRow(rows, &claimed) }},
		{SQL: s.store.sql.ReadCheckpoint, Args: []any{consumer}, Skip: func() bool { return !claimed }, Read: func(rows Rows) error {
			if err := scanRow(rows, append([]any{&now}, r.targets()...)...); err != nil {
				return err
			}
			cp, err := r.checkpoint()
			if err != nil {
				return err
			}
			cp.ConsumerName, cp.ClaimedAt = consumer, now.UTC()
			c.cb.Checkpoint, c.cb.Claimed, c.cb.Read = cp, true, read.Expects(cp)
			return nil
		}},
	}
	if read != nil {
		query, args := s.batchStatement(read.From, read.Scope, read.Limit)
		c.queries = append(c.queries, Pipelined{SQL: query, Args: args, Skip: func() bool { return !c.cb.Read }, Read: func(rows Rows) error {
			return c.batch.scan(rows, s.store.exec.NewEventRow, read.From, read.Limit)
		}})
	}
	return c
}

// doing names the failed query of the pipeline, for errors.
func (c *claim[TX]) doing(failed int) string {
	switch failed {
	case -1:
		return "beginning a transaction"
	case 2:
		return fmt.Sprintf("reading the batch of consumer %q after %s", c.consumer, c.read.From)
	}
	return fmt.Sprintf("claiming the checkpoint of consumer %q", c.consumer)
}

// result returns what the pipeline found, in tx.
func (c *claim[TX]) result(ctx context.Context, tx TX) (core.ClaimedBatch, error) {
	if !c.cb.Read {
		return c.cb, nil
	}
	batch, err := c.s.finishBatch(ctx, tx, c.read.From, c.batch, c.read.Limit)
	if err != nil {
		return core.ClaimedBatch{}, err
	}
	cb := c.cb
	cb.Batch = batch
	return cb, nil
}

// CommitAndBegin implements core.ConsumerStore: SaveCheckpoint's statement,
// COMMIT AND CHAIN and BeginBatch's claim and read, in one round trip when
// the driver pipelines (pgx), tx going on in the chained transaction (next
// is tx); else CommitCheckpoint and then BeginBatch.
func (s *ConsumerStore[TX]) CommitAndBegin(ctx context.Context, tx TX, cp core.Checkpoint, consumer string, read *core.BatchRead) (TX, core.ClaimedBatch, bool, error) {
	var none TX
	if s == nil || s.tr == nil {
		return none, core.ClaimedBatch{}, false, errNotInitialised("ConsumerStore", "NewConsumerStore")
	}
	if err := core.ValidateConsumerName(consumer); err != nil {
		return none, core.ClaimedBatch{}, false, err
	}
	if read != nil {
		if err := read.Validate(); err != nil {
			return none, core.ClaimedBatch{}, false, err
		}
	}
	p, ok := s.tr.(Pipeliner[TX])
	if !ok {
		if err := s.CommitCheckpoint(ctx, tx, cp); err != nil {
			return none, core.ClaimedBatch{}, false, err
		}
		next, cb, err := s.BeginBatch(ctx, consumer, read)
		return next, cb, true, err
	}
	if err := s.savable(ctx, tx, cp); err != nil {
		return none, core.ClaimedBatch{}, false, err
	}
	c := s.newClaim(consumer, read)
	committed, failed, err := p.ExecCommitChain(ctx, tx, s.store.sql.SaveCheckpoint, saveParams(cp), c.queries...)
	if !committed {
		return none, core.ClaimedBatch{}, false, s.store.consumerError(ctx, fmt.Sprintf("saving the checkpoint of consumer %q and committing", cp.ConsumerName), err)
	}
	if err != nil {
		return none, core.ClaimedBatch{}, true, s.store.consumerError(ctx, c.doing(failed), err)
	}
	cb, err := c.result(ctx, tx)
	if err != nil {
		_ = s.Rollback(context.WithoutCancel(ctx), tx)
		return none, core.ClaimedBatch{}, true, err
	}
	return tx, cb, true, nil
}

// SaveCheckpoint implements core.ConsumerStore: it writes cp's cursor,
// owner, failure fields and Delivered, with UpdatedAt set to the transaction's now()
// (times are stored in UTC to the microsecond), creating the row if
// missing (sql/save_checkpoint.sql). The write becomes visible to others
// when tx commits, and gives tx a transaction id.
func (s *ConsumerStore[TX]) SaveCheckpoint(ctx context.Context, tx TX, cp core.Checkpoint) error {
	if err := s.savable(ctx, tx, cp); err != nil {
		return err
	}
	if err := s.store.exec.Exec(ctx, tx, s.store.sql.SaveCheckpoint, saveParams(cp)...); err != nil {
		return s.store.consumerError(ctx, fmt.Sprintf("saving the checkpoint of consumer %q", cp.ConsumerName), err)
	}
	return nil
}

// savable returns the error of a checkpoint that cannot be saved: a bad
// name or cursor, a zero store, a nil tx or a schema at another version.
func (s *ConsumerStore[TX]) savable(ctx context.Context, tx TX, cp core.Checkpoint) error {
	if err := core.ValidateConsumerName(cp.ConsumerName); err != nil {
		return err
	}
	if err := cp.Cursor.Validate(); err != nil {
		return err
	}
	return s.ready(ctx, tx)
}

// saveParams returns save_checkpoint.sql's parameters for cp.
func saveParams(cp core.Checkpoint) []any {
	var lastError, lastErrorPosition any
	if cp.LastError != "" {
		lastError = cp.LastError
	}
	if cp.LastErrorPosition != 0 {
		lastErrorPosition = cp.LastErrorPosition
	}
	args := append([]any{cp.ConsumerName}, cursorParams(cp.Cursor)...)
	return append(args, cp.Owner, int64(cp.FailedAttempts), dbTime(cp.StoppedAt), lastError, lastErrorPosition, dbTime(cp.LastErrorAt), cp.Delivered, dbTime(cp.DeliveredSince))
}

// CommitCheckpoint implements core.ConsumerStore: SaveCheckpoint's
// statement and the commit, in one round trip when the driver pipelines
// (pgx), else one after the other. When it fails tx is left for Rollback.
func (s *ConsumerStore[TX]) CommitCheckpoint(ctx context.Context, tx TX, cp core.Checkpoint) error {
	if err := s.savable(ctx, tx, cp); err != nil {
		return err
	}
	if p, ok := s.tr.(Pipeliner[TX]); ok {
		if err := p.ExecCommit(ctx, tx, s.store.sql.SaveCheckpoint, saveParams(cp)...); err != nil {
			return s.store.consumerError(ctx, fmt.Sprintf("saving the checkpoint of consumer %q and committing", cp.ConsumerName), err)
		}
		return nil
	}
	if err := s.SaveCheckpoint(ctx, tx, cp); err != nil {
		return err
	}
	return s.Commit(ctx, tx)
}

// SetCheckpoint implements core.ConsumerStore: it waits for the consumer's
// lease (a running batch), then moves its cursor to at, creating the
// checkpoint if missing, and clears FailedAttempts and StoppedAt (the last
// error stays) (sql/set_checkpoint.sql). It waits until the holder ends or
// ctx does.
func (s *ConsumerStore[TX]) SetCheckpoint(ctx context.Context, tx TX, consumer string, at core.Cursor) error {
	if err := core.ValidateConsumerName(consumer); err != nil {
		return err
	}
	if err := at.Validate(); err != nil {
		return err
	}
	if err := s.ready(ctx, tx); err != nil {
		return err
	}
	if err := s.store.exec.Exec(ctx, tx, s.store.sql.SetCheckpoint, append([]any{consumer}, cursorParams(at)...)...); err != nil {
		return s.store.consumerError(ctx, fmt.Sprintf("setting the checkpoint of consumer %q to %s", consumer, at), err)
	}
	return nil
}

// DeleteCheckpoint implements core.ConsumerStore: it waits for the
// consumer's lease (sql/wait_lease.sql), then deletes its checkpoint in a
// statement of its own (sql/delete_checkpoint.sql), so that it sees a row
// the previous holder created.
func (s *ConsumerStore[TX]) DeleteCheckpoint(ctx context.Context, tx TX, consumer string) (bool, error) {
	if err := core.ValidateConsumerName(consumer); err != nil {
		return false, err
	}
	if err := s.ready(ctx, tx); err != nil {
		return false, err
	}
	doing := fmt.Sprintf("deleting the checkpoint of consumer %q", consumer)
	if err := s.store.exec.Exec(ctx, tx, s.store.sql.WaitLease, consumer); err != nil {
		return false, s.store.consumerError(ctx, doing, err)
	}
	var one int64
	err := s.store.queryRow(ctx, tx, s.store.sql.DeleteCheckpoint, []any{consumer}, &one)
	if errors.Is(err, errNoRow) {
		return false, nil
	}
	if err != nil {
		return false, s.store.consumerError(ctx, doing, err)
	}
	return true, nil
}

// Checkpoints implements core.ConsumerStore: every checkpoint tx sees,
// ordered by consumer name (byte order), and for each whether another
// session holds its lease now. It neither locks nor waits
// (sql/checkpoints.sql).
func (s *ConsumerStore[TX]) Checkpoints(ctx context.Context, tx TX) ([]core.Checkpoint, []bool, error) {
	if err := s.ready(ctx, tx); err != nil {
		return nil, nil, err
	}
	const doing = "reading checkpoints"
	rows, err := s.store.exec.Query(ctx, tx, s.store.sql.Checkpoints)
	if err != nil {
		return nil, nil, s.store.consumerError(ctx, doing, err)
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
			return nil, nil, s.store.consumerError(ctx, doing, err)
		}
		cp, err := r.checkpoint()
		if err != nil {
			return nil, nil, s.store.consumerError(ctx, doing, err)
		}
		cps, held = append(cps, cp), append(held, h)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, s.store.consumerError(ctx, doing, err)
	}
	return cps, held, nil
}

// checkpointRow receives the checkpoint columns of one row (see
// sql/checkpoints.sql), every one nullable: read_checkpoint.sql returns
// NULLs for a consumer without a row. Both drivers scan NULL into a nil
// pointer.
type checkpointRow struct {
	name                       *string
	snapshotXmin, snapshotXmax *int64
	snapshotXip                *string
	upperXmin, upperXmax       *int64
	upperXip                   *string
	pagePosition               *int64
	updatedAt                  *time.Time
	owner                      *string
	failedAttempts             *int64
	stoppedAt                  *time.Time
	lastError                  *string
	lastErrorPosition          *int64
	lastErrorAt                *time.Time
	delivered                  *int64
	deliveredSince             *time.Time
}

// targets returns the scan targets, in column order.
func (r *checkpointRow) targets() []any {
	return []any{&r.name, &r.snapshotXmin, &r.snapshotXmax, &r.snapshotXip, &r.upperXmin, &r.upperXmax, &r.upperXip,
		&r.pagePosition, &r.updatedAt, &r.owner, &r.failedAttempts, &r.stoppedAt, &r.lastError, &r.lastErrorPosition, &r.lastErrorAt,
		&r.delivered, &r.deliveredSince}
}

// checkpoint returns the scanned checkpoint, times in UTC, NULLs as zero
// values. A stored cursor that does not parse is an error naming it.
func (r *checkpointRow) checkpoint() (core.Checkpoint, error) {
	var cp core.Checkpoint
	var err error
	if r.name != nil {
		cp.ConsumerName = *r.name
	}
	if cp.Cursor.Snapshot, err = snapshotOf(deref(r.snapshotXmin), deref(r.snapshotXmax), deref(r.snapshotXip)); err != nil {
		return core.Checkpoint{}, fmt.Errorf("the stored cursor of consumer %q: %w", cp.ConsumerName, err)
	}
	if cp.Cursor.Upper, err = snapshotOf(deref(r.upperXmin), deref(r.upperXmax), deref(r.upperXip)); err != nil {
		return core.Checkpoint{}, fmt.Errorf("the stored cursor of consumer %q: %w", cp.ConsumerName, err)
	}
	cp.Cursor.Position = deref(r.pagePosition)
	if r.updatedAt != nil {
		cp.UpdatedAt = r.updatedAt.UTC()
	}
	cp.Owner = deref(r.owner)
	cp.FailedAttempts = int(deref(r.failedAttempts))
	if r.stoppedAt != nil {
		cp.StoppedAt = r.stoppedAt.UTC()
	}
	cp.LastError = deref(r.lastError)
	cp.LastErrorPosition = deref(r.lastErrorPosition)
	if r.lastErrorAt != nil {
		cp.LastErrorAt = r.lastErrorAt.UTC()
	}
	cp.Delivered = deref(r.delivered)
	if r.deliveredSince != nil {
		cp.DeliveredSince = r.deliveredSince.UTC()
	}
	return cp, nil
}

func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// snapshotOf builds a snapshot from its columns: xip as the
// comma-separated ids array_to_string writes.
func snapshotOf(xmin, xmax int64, xip string) (core.Snapshot, error) {
	s := core.Snapshot{Xmin: xmin, Xmax: xmax}
	if xip != "" {
		for f := range strings.SplitSeq(xip, ",") {
			id, err := strconv.ParseInt(f, 10, 64)
			if err != nil {
				return core.Snapshot{}, fmt.Errorf("running transaction %q is not an id", f)
			}
			s.Xip = append(s.Xip, id)
		}
	}
	return s, s.Validate()
}

// parseWriters reads a notification payload: writer ids, comma-separated.
// Anything else (a payload some other code sent) is no ids.
func parseWriters(payload string) []int64 {
	if payload == "" {
		return nil
	}
	var ids []int64
	for f := range strings.SplitSeq(payload, ",") {
		id, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return nil
		}
		ids = append(ids, id)
	}
	return ids
}

// idArray returns ids as a bigint[] literal, which the statements cast from
// text: both drivers send a string as it is.
func idArray(ids []int64) string {
	b := make([]byte, 0, 2+len(ids)*8)
	b = append(b, '{')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, '}'))
}

// cursorParams returns a cursor as the checkpoint statements' seven
// parameters (snapshot, upper snapshot, page position).
func cursorParams(c core.Cursor) []any {
	return []any{c.Snapshot.Xmin, c.Snapshot.Xmax, idArray(c.Snapshot.Xip), c.Upper.Xmin, c.Upper.Xmax, idArray(c.Upper.Xip), c.Position}
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
