package memory

import (
	"fmt"
	"slices"
	"sort"
	"time"
)

// Tx is a transaction of a Store, from Store.Begin. Pass it to the store's
// methods and end it with Commit or Rollback. Like a database connection, a
// Tx is meant for one goroutine at a time; calls from several goroutines do
// not race but are serialised in no particular order.
type Tx struct {
	store *Store
	// done is closed when the transaction ends; transactions waiting for
	// one of its event ids wait on it.
	done chan struct{}
	// started is when Begin returned it.
	started time.Time

	// Guarded by store.mu.
	state txState
	// xid is the transaction id, without the order offset; 0 until the
	// first write.
	xid int64
	// rows are the rows it inserted, in insert order.
	rows []*row
	// ownMax is the highest TransactionID of its rows, 0 when it has none.
	ownMax int64
	// locks are the aggregates whose lock it holds.
	locks []aggKey
	// waitingFor is the transaction it waits for, for deadlock detection.
	waitingFor *Tx
	// checkpoints are the names of the checkpoint rows it holds locked.
	checkpoints []string
	// keys are the subjects whose key row it holds locked.
	keys []string
	// leases are the names of the consumers whose lease it holds.
	leases []string
	// snapshots are the snapshot rows whose lock it holds (SaveSnapshot,
	// DeleteStream).
	snapshots []snapshotKey
	// deletes are the rows it deleted (DeleteStream).
	deletes []*row
	// offsetLocked reports whether it holds the order offset's row lock.
	offsetLocked bool
	// onCommit are the functions registered with OnCommit.
	onCommit []func()
}

type txState uint8

const (
	txActive txState = iota
	txAborted
	txCommitted
	txRolledBack
)

// Commit makes the transaction's events and checkpoint writes visible to
// every later read, releases its aggregates, checkpoints and leases, runs the
// functions registered with OnCommit and wakes the store's listeners when
// it appended events. On an aborted transaction (see ErrTxAborted) it rolls
// back instead and returns ErrTxAborted; on an ended one it returns
// ErrTxDone.
func (tx *Tx) Commit() error {
	s := tx.store
	s.mu.Lock()
	defer s.mu.Unlock()
	switch tx.state {
	case txCommitted, txRolledBack:
		return fmt.Errorf("committing: %w", ErrTxDone)
	case txAborted:
		s.finish(tx, txRolledBack) // the abort discarded everything already
		return fmt.Errorf("committing: rolled back instead: %w", ErrTxAborted)
	}
	for _, r := range tx.rows {
		r.writer = nil
		s.eventMax = max(s.eventMax, r.ev.TransactionID)
	}
	for _, k := range tx.locks {
		h := s.heads[k]
		h.version, h.closed, h.deleted = h.ownerVersion, h.ownerClosed, h.ownerDeleted
		s.release(k, h)
	}
	s.commitSnapshots(tx)
	s.removeDeleted(tx)
	for _, name := range tx.checkpoints {
		r := s.checkpoints[name]
		if r.deleted {
			delete(s.checkpoints, name)
		} else {
			r.committed, r.exists = r.pending, true
		}
		r.lock.release()
	}
	s.commitKeys(tx)
	if tx.offsetLocked {
		s.offset = s.offsetPending
		s.offsetLock.release()
	}
	var writer int64
	if len(tx.rows) > 0 {
		// Every row of tx has the same TransactionID unless the order
		// offset changed in between; the last is the one it has now.
		writer = tx.rows[len(tx.rows)-1].ev.TransactionID
	}
	callbacks := tx.onCommit
	s.finish(tx, txCommitted)
	if writer != 0 {
		s.notifyListeners(writer)
	}
	// Still under s.mu: no other transaction sees the commit before the
	// callbacks have run.
	for _, fn := range callbacks {
		fn()
	}
	return nil
}

// OnCommit registers fn to run when tx commits, after its changes are
// applied and before any other transaction can see them: to every other
// transaction, the commit and fn's effect happen at once. Functions run in
// registration order; they never run if tx rolls back, is aborted, or has
// already ended when OnCommit is called.
//
// It is the memory store's way to give a unit test's read model the
// atomicity a read-model table written in the same PostgreSQL transaction
// has: a consumer's Handle records its effect with OnCommit, and the effect
// appears exactly when the batch and its checkpoint commit. fn runs while
// the store is locked, so it must not call the store or any of its
// transactions (that would deadlock); keep it to updating the caller's own
// state.
func (tx *Tx) OnCommit(fn func()) {
	if fn == nil {
		return
	}
	s := tx.store
	s.mu.Lock()
	defer s.mu.Unlock()
	if tx.state == txActive {
		tx.onCommit = append(tx.onCommit, fn)
	}
}

// Rollback discards the transaction's events and checkpoint writes and
// releases its aggregates, checkpoints and leases.
// The global positions the events took stay unused, as with a PostgreSQL
// sequence. Rollback of a transaction that has already ended does nothing
// and returns nil, so `defer tx.Rollback()` is always safe, even after
// Commit.
func (tx *Tx) Rollback() error {
	s := tx.store
	s.mu.Lock()
	defer s.mu.Unlock()
	switch tx.state {
	case txCommitted, txRolledBack:
		return nil
	case txActive:
		s.discard(tx)
	}
	s.finish(tx, txRolledBack)
	return nil
}

// discard removes tx's rows and releases its locks without applying its
// appends. Called with s.mu held.
func (s *Store) discard(tx *Tx) {
	if len(tx.rows) > 0 {
		for _, r := range tx.rows {
			delete(s.ids, r.ev.EventID)
		}
		// tx.rows[0] has the transaction's lowest position: rows before it
		// cannot be its own.
		first := sort.Search(len(s.log), func(i int) bool { return s.log[i].ev.GlobalPosition >= tx.rows[0].ev.GlobalPosition })
		s.log = append(s.log[:first], slices.DeleteFunc(s.log[first:], func(r *row) bool { return r.writer == tx })...)
	}
	for _, k := range tx.locks {
		h := s.heads[k]
		// The lock holder's rows are the tail of the stream, after the
		// committed version (a deleted stream has no rows left, and takes
		// none).
		stream := s.streams[k]
		keep := min(h.version, int64(len(stream)))
		clear(stream[keep:])
		s.streams[k] = stream[:keep]
		s.release(k, h)
	}
	s.discardSnapshots(tx)
	for _, r := range tx.deletes {
		r.deleter = nil
	}
	for _, name := range tx.checkpoints {
		r := s.checkpoints[name]
		if !r.exists {
			delete(s.checkpoints, name) // its creation is undone
		}
		r.deleted = false
		r.lock.release()
	}
	s.discardKeys(tx)
	if tx.offsetLocked {
		s.offsetLock.release()
	}
}

// release lets go of an aggregate's lock and forgets an aggregate that has
// no committed events. Called with s.mu held.
func (s *Store) release(k aggKey, h *head) {
	h.owner = nil
	close(h.released)
	h.released = nil
	if h.version == 0 {
		delete(s.heads, k)
		delete(s.streams, k)
	}
}

// finish ends tx, whose changes have been applied or discarded. Called
// with s.mu held.
func (s *Store) finish(tx *Tx, state txState) {
	if tx.state == txActive {
		s.endTx(tx)
	}
	tx.state = state
}

// endTx ends tx's life as a transaction in progress: its transaction id
// becomes visible in later snapshots (or, rolled back, has nothing to show),
// its leases are released and those waiting for its event ids wake. Called
// with s.mu held, once per transaction, after its row and lock changes have
// been applied or discarded.
func (s *Store) endTx(tx *Tx) {
	if tx.xid != 0 {
		delete(s.inProgress, tx.xid)
	}
	for _, name := range tx.leases {
		s.leases[name].release()
		delete(s.leases, name)
	}
	tx.rows, tx.ownMax, tx.locks, tx.waitingFor, tx.leases = nil, 0, nil, nil, nil
	tx.checkpoints, tx.keys, tx.offsetLocked, tx.onCommit = nil, nil, false, nil
	tx.snapshots, tx.deletes = nil, nil
	close(tx.done)
}

// usable returns nil if tx can run an operation of s. Called with s.mu held.
func (s *Store) usable(tx *Tx) error {
	switch {
	case tx == nil || tx.store != s:
		return ErrForeignTx
	case tx.state == txCommitted || tx.state == txRolledBack:
		return ErrTxDone
	case tx.state == txAborted:
		return ErrTxAborted
	}
	return nil
}

// abort aborts tx after a failed operation as PostgreSQL aborts a
// transaction after an error: at once, not at rollback. Its rows are
// discarded, its aggregate, checkpoint, lease and offset locks released and
// its transaction id ended, so other transactions stop waiting for it and
// snapshots no longer list it as running; tx itself stays open in the aborted state, where
// every operation but Rollback fails with ErrTxAborted and Commit rolls
// back. Called with s.mu held.
func (s *Store) abort(tx *Tx) {
	if tx.state != txActive {
		return
	}
	s.discard(tx)
	s.endTx(tx)
	tx.state = txAborted
}
