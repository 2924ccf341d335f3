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
	// pending is the lock holder's value, committed with it.
	pending core.Checkpoint
}

// rowLock is a row lock (FOR UPDATE) held by one transaction until it ends.
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

// ClaimCheckpoint locks the consumer's checkpoint row for tx without
// waiting, like SELECT … FOR UPDATE SKIP LOCKED, creating it at the zero
// cursor if missing; see core.ConsumerStore. claimed is false, and tx
// unchanged, when another transaction holds the row or is creating it.
// Claiming gives tx a transaction id, as a row lock does in PostgreSQL, so
// tx holds the frontier back until it ends. Claiming a row tx already holds
// returns tx's own view of it. Errors other than an invalid name or an
// unusable tx abort tx (see ErrTxAborted).
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
	r := s.checkpoints[consumer]
	switch {
	case r == nil || r.lock.owner == nil:
		r = s.lockCheckpoint(tx, consumer, r)
	case r.lock.owner != tx:
		return core.Checkpoint{}, false, nil
	}
	return r.pending, true, nil
}

// SaveCheckpoint writes cp as its consumer's checkpoint in tx, setting
// UpdatedAt to now; see core.ConsumerStore. Times are stored in UTC with
// microsecond precision, as PostgreSQL's timestamptz keeps them. The write
// is visible to other transactions once tx commits and discarded if it
// rolls back. If tx does not hold the row yet, SaveCheckpoint waits for the
// row lock like an UPDATE, and creates the row if missing. Errors other
// than an invalid name or an unusable tx (ctx ending while waiting,
// ErrDeadlock) abort tx.
func (s *Store) SaveCheckpoint(ctx context.Context, tx *Tx, cp core.Checkpoint) error {
	if err := core.ValidateConsumerName(cp.ConsumerName); err != nil {
		return err
	}
	if err := validCursor(cp.Cursor); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.lockCheckpointWaiting(ctx, tx, cp.ConsumerName, "saving")
	if err != nil {
		return err
	}
	cp.UpdatedAt = s.now()
	cp.UpdatedAt, cp.StoppedAt, cp.LastErrorAt = dbTime(cp.UpdatedAt), dbTime(cp.StoppedAt), dbTime(cp.LastErrorAt)
	r.pending = cp
	return nil
}

// SetCheckpoint moves the consumer's cursor to at in tx, creating the
// checkpoint if missing, and clears FailedAttempts and StoppedAt (the last
// error fields stay); see core.ConsumerStore. Like an UPDATE it waits while
// another transaction (a running batch) holds the row, until that ends or
// ctx does. Errors other than invalid arguments or an unusable tx abort tx.
func (s *Store) SetCheckpoint(ctx context.Context, tx *Tx, consumer string, at core.Cursor) error {
	if err := core.ValidateConsumerName(consumer); err != nil {
		return err
	}
	if err := validCursor(at); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.lockCheckpointWaiting(ctx, tx, consumer, "setting")
	if err != nil {
		return err
	}
	r.pending.Cursor, r.pending.FailedAttempts, r.pending.StoppedAt = at, 0, time.Time{}
	r.pending.UpdatedAt = dbTime(s.now())
	return nil
}

// Checkpoints returns every checkpoint tx sees — the committed ones and its
// own uncommitted writes — ordered by consumer name, and for each whether
// another transaction holds its lock now; see core.ConsumerStore. Rows
// another transaction is still creating are not seen. It never waits.
func (s *Store) Checkpoints(ctx context.Context, tx *Tx) ([]core.Checkpoint, []bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.readable(ctx, tx); err != nil {
		return nil, nil, fmt.Errorf("reading checkpoints: %w", err)
	}
	names := make([]string, 0, len(s.checkpoints))
	for name, r := range s.checkpoints {
		if r.exists || r.lock.owner == tx {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	cps, held := make([]core.Checkpoint, len(names)), make([]bool, len(names))
	for i, name := range names {
		r := s.checkpoints[name]
		cps[i], held[i] = r.committed, r.lock.owner != nil && r.lock.owner != tx
		if r.lock.owner == tx {
			cps[i] = r.pending
		}
	}
	return cps, held, nil
}

// lockCheckpoint locks the row of consumer for tx, creating it if r is nil,
// and gives tx a transaction id. The row must not be locked. Called with
// s.mu held.
func (s *Store) lockCheckpoint(tx *Tx, consumer string, r *checkpointRow) *checkpointRow {
	if r == nil {
		r = &checkpointRow{}
		r.pending = core.Checkpoint{ConsumerName: consumer, UpdatedAt: dbTime(s.now())}
		s.checkpoints[consumer] = r
	} else {
		r.pending = r.committed
	}
	r.lock.take(tx)
	tx.checkpoints = append(tx.checkpoints, consumer)
	s.assignXID(tx)
	return r
}

// lockCheckpointWaiting locks the row of consumer for tx as an UPDATE or
// INSERT … ON CONFLICT does: waiting while another transaction holds it,
// then creating it if it is (still) missing. Called with s.mu held; s.mu is
// released while waiting. Failures after the checks of tx abort it.
func (s *Store) lockCheckpointWaiting(ctx context.Context, tx *Tx, consumer, doing string) (*checkpointRow, error) {
	if err := s.usable(tx); err != nil {
		return nil, fmt.Errorf("%s the checkpoint of consumer %q: %w", doing, consumer, err)
	}
	if err := ctx.Err(); err != nil {
		s.abort(tx)
		return nil, fmt.Errorf("%s the checkpoint of consumer %q: %w", doing, consumer, err)
	}
	for {
		r := s.checkpoints[consumer]
		switch {
		case r == nil || r.lock.owner == nil:
			return s.lockCheckpoint(tx, consumer, r), nil
		case r.lock.owner == tx:
			return r, nil
		}
		if err := s.wait(ctx, tx, r.lock.owner, r.lock.released); err != nil {
			s.abort(tx)
			return nil, fmt.Errorf("%s the checkpoint of consumer %q: waiting for its lock: %w", doing, consumer, err)
		}
	}
}

func validCursor(c core.Cursor) error {
	if c.TransactionOrder < 0 || c.GlobalPosition < 0 {
		return &core.InvalidArgumentError{Argument: "cursor", Reason: fmt.Sprintf("both parts must be >= 0, got %s", c)}
	}
	return nil
}

// dbTime returns t as PostgreSQL's timestamptz returns it: in UTC, to the
// microsecond. The zero time stays zero (NULL).
func dbTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}
