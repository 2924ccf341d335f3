package memory

import (
	"context"
	"fmt"

	"github.com/chronicle-go/chronicle/core"
)

// TransactionOrder compares the stored transaction ids with the current
// one, as tx sees them; see core.ConsumerStore and core.OrderStatus.
// StoredMax is one past the highest TransactionID of an event tx sees, or
// the highest Xmax of a checkpoint cursor's snapshots (Snapshot and, while
// paging, Upper) tx sees, whichever is higher; Current is the next
// transaction id plus the order offset tx sees; CheckedAt is the store's
// clock.
func (s *Store) TransactionOrder(ctx context.Context, tx *Tx) (core.OrderStatus, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.readable(ctx, tx); err != nil {
		return core.OrderStatus{}, fmt.Errorf("reading the transaction order: %w", err)
	}
	return s.orderStatus(tx), nil
}

// orderStatus is TransactionOrder's work. Called with s.mu held.
func (s *Store) orderStatus(tx *Tx) core.OrderStatus {
	st := core.OrderStatus{Offset: s.offsetFor(tx), CheckedAt: dbTime(s.now())}
	st.Current = s.nextXID + st.Offset
	if m := max(s.eventMax, tx.ownMax); m > 0 {
		st.StoredMax = m + 1
	}
	for _, r := range s.checkpoints {
		cp, ok := r.visibleTo(tx)
		if ok {
			st.StoredMax = max(st.StoredMax, cp.Cursor.Snapshot.Xmax, cp.Cursor.Upper.Xmax)
		}
	}
	return st
}

// RaiseOrderOffset raises the order offset in tx when the order has moved,
// so that tx's own transaction id and every later one sort at or above
// StoredMax, above every stored id, and returns the new status (Current is
// then StoredMax + 1, the id after tx's); it changes nothing when the order
// has not moved. See
// core.ConsumerStore. Like an UPDATE of PostgreSQL's offset row it locks
// the offset (waiting for another transaction changing it), gives tx a
// transaction id, and takes effect for other transactions when tx commits.
// Errors other than an unusable tx abort tx.
func (s *Store) RaiseOrderOffset(ctx context.Context, tx *Tx) (core.OrderStatus, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(tx); err != nil {
		return core.OrderStatus{}, fmt.Errorf("raising the transaction order offset: %w", err)
	}
	for s.offsetLock.owner != tx {
		err := ctx.Err()
		if err == nil && s.offsetLock.owner != nil {
			err = s.wait(ctx, tx, s.offsetLock.owner, s.offsetLock.released)
		}
		if err != nil {
			s.abort(tx)
			return core.OrderStatus{}, fmt.Errorf("raising the transaction order offset: %w", err)
		}
		if s.offsetLock.owner == nil {
			s.offsetLock.take(tx)
			s.offsetPending, tx.offsetLocked = s.offset, true
		}
	}
	s.assignXID(tx)
	st := s.orderStatus(tx)
	if st.Moved() {
		// tx took its id above, as the UPDATE of the offset row does on
		// PostgreSQL, so Current is already past it. Raise from tx's own
		// id instead, so that it too sorts at or above StoredMax should tx
		// append: Current ends one past StoredMax.
		s.offsetPending += st.StoredMax - (tx.xid + st.Offset)
		st = s.orderStatus(tx)
	}
	return st, nil
}

// SetNextTransactionID makes next the next transaction id the store hands
// out. It is a testing aid that reproduces a database restored or
// replicated into another PostgreSQL cluster (DESIGN §6): the log and its
// checkpoints, order offset included, stay as they were, while the new
// cluster's transaction ids start elsewhere, typically far below the stored
// ones. Tests use it to check that the consumer runtime detects the move
// (core.ErrTransactionOrderMoved) and recovers with RaiseOrderOffset. It
// takes the new cluster's next id rather than a shift so that a test states
// the situation it reproduces. next must be >= 1, and no transaction may
// hold an id, as none survives a restore.
func (s *Store) SetNextTransactionID(next int64) error {
	if next < 1 {
		return &core.InvalidArgumentError{Argument: "next", Reason: fmt.Sprintf("transaction ids start at 1, got %d", next)}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := len(s.inProgress); n > 0 {
		return fmt.Errorf("memory: setting the next transaction id: %d transactions in progress hold an id; end them first", n)
	}
	s.nextXID = next
	return nil
}
