package memory

import (
	"fmt"
	"slices"
	"sort"
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

	// Guarded by store.mu.
	state txState
	// xid is the transaction id, 0 until the first append.
	xid int64
	// rows are the rows it inserted, in insert order.
	rows []*row
	// locks are the aggregates whose lock it holds.
	locks []aggKey
	// waitingFor is the transaction it waits for, for deadlock detection.
	waitingFor *Tx
}

type txState uint8

const (
	txActive txState = iota
	txAborted
	txCommitted
	txRolledBack
)

// Commit makes the transaction's events visible to every later read and
// releases its aggregates. On an aborted transaction (see ErrTxAborted) it
// rolls back instead and returns ErrTxAborted; on an ended one it returns
// ErrTxDone.
func (tx *Tx) Commit() error {
	s := tx.store
	s.mu.Lock()
	defer s.mu.Unlock()
	switch tx.state {
	case txCommitted, txRolledBack:
		return fmt.Errorf("committing: %w", ErrTxDone)
	case txAborted:
		s.discard(tx)
		s.finish(tx, txRolledBack)
		return fmt.Errorf("committing: rolled back instead: %w", ErrTxAborted)
	}
	for _, r := range tx.rows {
		r.writer = nil
	}
	for _, k := range tx.locks {
		h := s.heads[k]
		h.version, h.order = h.ownerVersion, h.ownerOrder
		s.release(k, h)
	}
	s.finish(tx, txCommitted)
	return nil
}

// Rollback discards the transaction's events and releases its aggregates.
// The global positions the events took stay unused, as with a PostgreSQL
// sequence. Rollback of a transaction that has already ended does nothing
// and returns nil, so `defer tx.Rollback()` is always safe, even after
// Commit.
func (tx *Tx) Rollback() error {
	s := tx.store
	s.mu.Lock()
	defer s.mu.Unlock()
	if tx.state == txCommitted || tx.state == txRolledBack {
		return nil
	}
	s.discard(tx)
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
		// The lock holder's rows are the tail of the stream.
		stream := s.streams[k]
		clear(stream[h.version:])
		s.streams[k] = stream[:h.version]
		s.release(k, h)
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

// finish ends tx. Called with s.mu held.
func (s *Store) finish(tx *Tx, state txState) {
	tx.state = state
	if tx.xid != 0 {
		delete(s.inProgress, tx.xid)
	}
	tx.rows, tx.locks, tx.waitingFor = nil, nil, nil
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

// abort marks tx aborted after a failed append, as PostgreSQL aborts a
// transaction after an error. Called with s.mu held.
func (s *Store) abort(tx *Tx) {
	if tx.state == txActive {
		tx.state = txAborted
	}
}
