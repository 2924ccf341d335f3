package memory

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/chronicle-go/chronicle/core"
)

// checkpointRow is a consumer's checkpoint row: its committed value, and
// the value its lock holder sees while it holds the lock.
type checkpointRow struct {
	lock rowLock
	// committed is the value every other transaction sees; exists reports
	// whether the row was committed at all (false: its creator still runs).
	committed core.Checkpoint
	exists    bool
	// pending is the lock holder's value, committed with it; deleted
	// reports that the lock holder deleted the row instead.
	pending core.Checkpoint
	deleted bool
}

// visibleTo returns the row as tx sees it: its own write, else the
// committed value; ok is false when tx sees no row. Called with s.mu held.
func (r *checkpointRow) visibleTo(tx *Tx) (cp core.Checkpoint, ok bool) {
	if tx != nil && r.lock.owner == tx {
		return r.pending, !r.deleted
	}
	return r.committed, r.exists
}

// rowLock is a lock held by one transaction until it ends: a row lock (FOR
// UPDATE), or a consumer's lease.
type rowLock struct {
	owner *Tx
	// released is closed when owner lets go of the lock.
	released chan struct{}
}

func (l *rowLock) take(tx *Tx) {
	l.owner = tx
	l.released = make(chan struct{})
}

func (l *rowLock) release() {
	l.owner = nil
	close(l.released)
	l.released = nil
}

// ClaimCheckpoint takes the consumer's lease for tx without waiting and
// returns its checkpoint as tx sees it; see core.ConsumerStore. A consumer
// without a checkpoint row gets one at the start of the log (the zero
// Cursor) with a zero UpdatedAt; no row is written. ClaimedAt is the
// store's clock. claimed is false, and tx unchanged, when another
// transaction holds the lease. The lease is a lock apart from the row, like
// PostgreSQL's transaction-scoped advisory lock: it gives tx no transaction
// id, so a batch read after the claim lists tx's own later appends as
// running. Claiming a lease tx holds already succeeds. Errors other than an
// invalid name or an unusable tx abort tx (see ErrTxAborted).
func (s *Store) ClaimCheckpoint(ctx context.Context, tx *Tx, consumer string) (core.Checkpoint, bool, error) {
	if err := core.ValidateConsumerName(consumer); err != nil {
		return core.Checkpoint{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(tx); err != nil {
		return core.Checkpoint{}, false, fmt.Errorf("claiming the checkpoint of consumer %q: %w", consumer, err)
	}
	if err := ctx.Err(); err != nil {
		s.abort(tx)
		return core.Checkpoint{}, false, fmt.Errorf("claiming the checkpoint of consumer %q: %w", consumer, err)
	}
	switch l := s.leases[consumer]; {
	case l == nil:
		s.takeLease(tx, consumer)
	case l.owner != tx:
		return core.Checkpoint{}, false, nil
	}
	cp := core.Checkpoint{ConsumerName: consumer}
	if r := s.checkpoints[consumer]; r != nil {
		if seen, ok := r.visibleTo(tx); ok {
			cp = seen
			cp.Cursor = cloneCursor(seen.Cursor)
		}
	}
	cp.ClaimedAt = dbTime(s.now())
	return cp, true, nil
}

// SaveCheckpoint writes cp as its consumer's checkpoint in tx, creating
// the row if missing, and sets UpdatedAt to the store's clock; see
// core.ConsumerStore. Times are stored in UTC with microsecond precision,
// as PostgreSQL's timestamptz keeps them; ClaimedAt is not stored. The
// write is visible to other transactions once tx commits and discarded if
// it rolls back. It needs no lease, but like INSERT … ON CONFLICT DO
// UPDATE it waits while another transaction writes the same row, and it
// gives tx a transaction id. Errors other than invalid arguments or an
// unusable tx (ctx ending while waiting, ErrDeadlock) abort tx.
func (s *Store) SaveCheckpoint(ctx context.Context, tx *Tx, cp core.Checkpoint) error {
	if err := core.ValidateConsumerName(cp.ConsumerName); err != nil {
		return err
	}
	if err := cp.Cursor.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	doing := fmt.Sprintf("saving the checkpoint of consumer %q", cp.ConsumerName)
	if err := s.startWrite(ctx, tx, doing); err != nil {
		return err
	}
	r, err := s.lockCheckpointWaiting(ctx, tx, cp.ConsumerName, doing)
	if err != nil {
		return err
	}
	cp.UpdatedAt, cp.StoppedAt, cp.LastErrorAt = dbTime(s.now()), dbTime(cp.StoppedAt), dbTime(cp.LastErrorAt)
	cp.ClaimedAt = time.Time{}
	// As save_checkpoint.sql: the progress's start, once stored, is kept;
	// a row without one takes cp's, or now.
	switch {
	case !r.pending.DeliveredSince.IsZero():
		cp.DeliveredSince = r.pending.DeliveredSince
	case cp.DeliveredSince.IsZero():
		cp.DeliveredSince = cp.UpdatedAt
	default:
		cp.DeliveredSince = dbTime(cp.DeliveredSince)
	}
	cp.Cursor = cloneCursor(cp.Cursor)
	r.pending = cp
	return nil
}

// SetCheckpoint moves the consumer's cursor to at in tx, creating the
// checkpoint if missing, and clears FailedAttempts and StoppedAt (the last
// error fields stay); see core.ConsumerStore. Unlike ClaimCheckpoint it
// waits while another transaction (a running batch) holds the consumer's
// lease, until that ends or ctx does, and then holds the lease itself until
// tx ends. It gives tx a transaction id. Errors other than invalid
// arguments or an unusable tx abort tx.
func (s *Store) SetCheckpoint(ctx context.Context, tx *Tx, consumer string, at core.Cursor) error {
	if err := core.ValidateConsumerName(consumer); err != nil {
		return err
	}
	if err := at.Validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	doing := fmt.Sprintf("setting the checkpoint of consumer %q", consumer)
	if err := s.startWrite(ctx, tx, doing); err != nil {
		return err
	}
	if err := s.leaseWaiting(ctx, tx, consumer, doing); err != nil {
		return err
	}
	r, err := s.lockCheckpointWaiting(ctx, tx, consumer, doing)
	if err != nil {
		return err
	}
	r.pending.Cursor, r.pending.FailedAttempts, r.pending.StoppedAt = cloneCursor(at), 0, time.Time{}
	r.pending.UpdatedAt = dbTime(s.now())
	r.pending.Delivered, r.pending.DeliveredSince = 0, r.pending.UpdatedAt
	return nil
}

// DeleteCheckpoint removes the consumer's checkpoint in tx; see
// core.ConsumerStore. It waits for the consumer's lease like SetCheckpoint
// and holds it until tx ends. deleted is false when tx sees no checkpoint
// (a row another transaction is still creating is not seen, as a DELETE
// does not see it); then nothing is written and tx takes no transaction
// id. Otherwise the removal is visible to others once tx commits, and tx
// has a transaction id. Errors other than an invalid name or an unusable tx
// abort tx.
func (s *Store) DeleteCheckpoint(ctx context.Context, tx *Tx, consumer string) (bool, error) {
	if err := core.ValidateConsumerName(consumer); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	doing := fmt.Sprintf("deleting the checkpoint of consumer %q", consumer)
	if err := s.startWrite(ctx, tx, doing); err != nil {
		return false, err
	}
	if err := s.leaseWaiting(ctx, tx, consumer, doing); err != nil {
		return false, err
	}
	for {
		r := s.checkpoints[consumer]
		switch {
		case r == nil || (!r.exists && r.lock.owner != tx):
			return false, nil
		case r.lock.owner == tx:
			if r.deleted {
				return false, nil
			}
			r.deleted = true
			return true, nil
		case r.lock.owner == nil:
			s.lockCheckpoint(tx, consumer, r)
			r.deleted = true
			return true, nil
		}
		// A committed row another transaction is writing: DELETE waits for
		// it and then deletes what that transaction left, if anything.
		if err := s.wait(ctx, tx, r.lock.owner, r.lock.released); err != nil {
			s.abort(tx)
			return false, fmt.Errorf("%s: waiting for its row lock: %w", doing, err)
		}
	}
}

// Checkpoints returns every checkpoint tx sees — the committed ones and its
// own uncommitted writes — ordered by consumer name (bytewise, like
// PostgreSQL's "C" collation), and for each whether another transaction
// holds its lease now; see core.ConsumerStore. Rows another transaction is
// still creating are not seen. It takes no lease and never waits.
func (s *Store) Checkpoints(ctx context.Context, tx *Tx) ([]core.Checkpoint, []bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.readable(ctx, tx); err != nil {
		return nil, nil, fmt.Errorf("reading checkpoints: %w", err)
	}
	names := make([]string, 0, len(s.checkpoints))
	for name, r := range s.checkpoints {
		if _, ok := r.visibleTo(tx); ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	cps, held := make([]core.Checkpoint, len(names)), make([]bool, len(names))
	for i, name := range names {
		cp, _ := s.checkpoints[name].visibleTo(tx)
		cps[i] = cp
		cps[i].Cursor = cloneCursor(cp.Cursor)
		l := s.leases[name]
		held[i] = l != nil && l.owner != tx
	}
	return cps, held, nil
}

// startWrite checks that tx can write and ctx has not ended. Called with
// s.mu held; a done ctx aborts tx, as a cancelled statement would.
func (s *Store) startWrite(ctx context.Context, tx *Tx, doing string) error {
	if err := s.usable(tx); err != nil {
		return fmt.Errorf("%s: %w", doing, err)
	}
	if err := ctx.Err(); err != nil {
		s.abort(tx)
		return fmt.Errorf("%s: %w", doing, err)
	}
	return nil
}

// takeLease gives tx the consumer's lease, which must be free. Called with
// s.mu held.
func (s *Store) takeLease(tx *Tx, consumer string) {
	l := &rowLock{}
	l.take(tx)
	s.leases[consumer] = l
	tx.leases = append(tx.leases, consumer)
}

// leaseWaiting gives tx the consumer's lease, waiting while another
// transaction holds it, like pg_advisory_xact_lock. Called with s.mu held;
// s.mu is released while waiting. A failed wait aborts tx.
func (s *Store) leaseWaiting(ctx context.Context, tx *Tx, consumer, doing string) error {
	for {
		l := s.leases[consumer]
		switch {
		case l == nil:
			s.takeLease(tx, consumer)
			return nil
		case l.owner == tx:
			return nil
		}
		if err := s.wait(ctx, tx, l.owner, l.released); err != nil {
			s.abort(tx)
			return fmt.Errorf("%s: waiting for its lease: %w", doing, err)
		}
	}
}

// lockCheckpoint locks the row of consumer for tx, creating it if r is nil,
// and gives tx a transaction id. The row must not be locked. Called with
// s.mu held.
func (s *Store) lockCheckpoint(tx *Tx, consumer string, r *checkpointRow) *checkpointRow {
	if r == nil {
		r = &checkpointRow{}
		r.pending = core.Checkpoint{ConsumerName: consumer}
		s.checkpoints[consumer] = r
	} else {
		r.pending, r.deleted = r.committed, false
	}
	r.lock.take(tx)
	tx.checkpoints = append(tx.checkpoints, consumer)
	s.assignXID(tx)
	return r
}

// lockCheckpointWaiting locks the row of consumer for tx as INSERT … ON
// CONFLICT DO UPDATE does: waiting while another transaction holds it, then
// creating it if it is (still) missing. A row tx deleted is written anew.
// Called with s.mu held after startWrite; s.mu is released while waiting.
// A failed wait aborts tx.
func (s *Store) lockCheckpointWaiting(ctx context.Context, tx *Tx, consumer, doing string) (*checkpointRow, error) {
	for {
		r := s.checkpoints[consumer]
		switch {
		case r == nil || r.lock.owner == nil:
			return s.lockCheckpoint(tx, consumer, r), nil
		case r.lock.owner == tx:
			if r.deleted {
				r.pending, r.deleted = core.Checkpoint{ConsumerName: consumer}, false
			}
			return r, nil
		}
		if err := s.wait(ctx, tx, r.lock.owner, r.lock.released); err != nil {
			s.abort(tx)
			return nil, fmt.Errorf("%s: waiting for its row lock: %w", doing, err)
		}
	}
}

// cloneCursor returns c with its own Xip slices, so that a stored cursor
// shares no memory with the caller's.
func cloneCursor(c core.Cursor) core.Cursor {
	c.Snapshot.Xip = slices.Clone(c.Snapshot.Xip)
	c.Upper.Xip = slices.Clone(c.Upper.Xip)
	return c
}

// dbTime returns t as PostgreSQL's timestamptz returns it: in UTC, to the
// microsecond. The zero time stays zero (NULL).
func dbTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// BeginBatch begins a transaction, claims the consumer's lease and reads
// its checkpoint in it as ClaimCheckpoint does, then, when read expects
// that checkpoint, reads the batch as ReadConsumerBatch does; see
// core.ConsumerStore. Invalid arguments are refused before anything
// begins; after another error the transaction is rolled back.
func (s *Store) BeginBatch(ctx context.Context, consumer string, read *core.BatchRead) (*Tx, core.ClaimedBatch, error) {
	if err := core.ValidateConsumerName(consumer); err != nil {
		return nil, core.ClaimedBatch{}, err
	}
	if read != nil {
		if err := read.Validate(); err != nil {
			return nil, core.ClaimedBatch{}, err
		}
	}
	tx, err := s.Begin(ctx)
	if err != nil {
		return nil, core.ClaimedBatch{}, err
	}
	cb, err := s.claimBatch(ctx, tx, consumer, read)
	if err != nil {
		_ = tx.Rollback()
		return nil, core.ClaimedBatch{}, err
	}
	return tx, cb, nil
}

func (s *Store) claimBatch(ctx context.Context, tx *Tx, consumer string, read *core.BatchRead) (core.ClaimedBatch, error) {
	cp, claimed, err := s.ClaimCheckpoint(ctx, tx, consumer)
	if err != nil || !claimed {
		return core.ClaimedBatch{}, err
	}
	cb := core.ClaimedBatch{Checkpoint: cp, Claimed: true}
	if !read.Expects(cp) {
		return cb, nil
	}
	if cb.Batch, err = s.ReadConsumerBatch(ctx, tx, read.From, read.Scope, read.Limit); err != nil {
		return core.ClaimedBatch{}, err
	}
	cb.Read = true
	return cb, nil
}

// CommitCheckpoint saves cp as SaveCheckpoint does and commits tx; see
// core.ConsumerStore. When the save fails tx is left to Rollback.
func (s *Store) CommitCheckpoint(ctx context.Context, tx *Tx, cp core.Checkpoint) error {
	if err := s.SaveCheckpoint(ctx, tx, cp); err != nil {
		return err
	}
	return s.Commit(ctx, tx)
}

// CommitAndBegin commits cp as CommitCheckpoint does, then begins the next
// batch as BeginBatch does; see core.ConsumerStore.
func (s *Store) CommitAndBegin(ctx context.Context, tx *Tx, cp core.Checkpoint, consumer string, read *core.BatchRead) (*Tx, core.ClaimedBatch, bool, error) {
	if err := s.CommitCheckpoint(ctx, tx, cp); err != nil {
		return nil, core.ClaimedBatch{}, false, err
	}
	next, cb, err := s.BeginBatch(ctx, consumer, read)
	return next, cb, true, err
}
