package memory

import (
	"context"
	"errors"
	"fmt"

	"github.com/chronicle-go/chronicle/core"
)

// Append stores events as the next versions of their aggregate; see
// core.EventStore for the contract. As on PostgreSQL:
//
//   - Validation errors (core.ErrInvalidEvent, core.ErrInvalidArgument)
//     come before any work and leave tx as it was.
//   - A version conflict (a *core.ConcurrencyError whose Err is nil) is a
//     result: tx stays usable and commits its other work. A NoStream
//     conflict on an existing aggregate keeps the aggregate locked until tx
//     ends, as INSERT … ON CONFLICT locks the row; any other conflict locks
//     nothing. Exact(n) and StreamExists are checked against the committed
//     head (or tx's own appends) before any wait: a head another transaction
//     is still creating, or a version it has not committed, is a conflict
//     at once, as PostgreSQL's UPDATE neither sees nor waits for it.
//   - A deadlock with other waiting transactions is ErrOptimisticConcurrency
//     too, as PostgreSQL reports 40P01: a *core.ConcurrencyError with Actual
//     -1 wrapping ErrDeadlock. It aborts tx.
//   - A duplicate event id (core.ErrDuplicateEvent), and ctx ending before
//     or while the append waits (the error wraps ctx's error), abort tx.
//   - An append to a closed stream (Tombstone, DeleteStream) fails with
//     core.ErrStreamClosed, a *core.StreamClosedError, checked under the
//     aggregate's lock as the PostgreSQL statement checks the head's flag:
//     a result that leaves tx usable.
//   - On a log whose stored transaction ids are ahead of the store's (see
//     core.OrderStatus.Moved; tests reproduce it with SetNextTransactionID)
//     the append fails with core.ErrTransactionOrderMoved, a
//     *core.TransactionOrderMovedError, before any work: its events would
//     sort behind consumers' cursors. Nothing is written and tx stays
//     usable, as the PostgreSQL append reports it as a result.
//
// Every event gets tx's transaction id plus the order offset as its
// TransactionID; tx takes its id at this first write if it has none.
//
// An abort is PostgreSQL's: tx's writes are discarded and its locks and
// transaction id released at once, before any Rollback, and every later
// operation but Rollback fails with ErrTxAborted.
func (s *Store) Append(ctx context.Context, tx *Tx, expected core.ExpectedVersion, events []core.Event) (core.AppendResult, error) {
	if err := expected.Validate(); err != nil {
		return core.AppendResult{}, err
	}
	prepared, err := core.PrepareEvents(events, s.now())
	if err != nil {
		return core.AppendResult{}, err
	}
	return s.write(ctx, tx, expected, prepared, false)
}

// Tombstone closes the aggregate's stream with a final event of type
// core.TombstoneEventType; see core.StreamCloser. It is Append of that one
// event that also marks the head closed, with Append's errors and
// transaction states; appends after it (and a second Tombstone) fail with
// core.ErrStreamClosed, a result that leaves tx usable.
func (s *Store) Tombstone(ctx context.Context, tx *Tx, aggregateType, aggregateID string, expected core.ExpectedVersion, t core.Tombstone) (core.AppendResult, error) {
	if err := expected.Validate(); err != nil {
		return core.AppendResult{}, err
	}
	event, err := core.PrepareTombstone(aggregateType, aggregateID, t, s.now())
	if err != nil {
		return core.AppendResult{}, err
	}
	return s.write(ctx, tx, expected, []core.Event{event}, true)
}

// write is Append and Tombstone after validation; closing marks the head
// closed with the events.
func (s *Store) write(ctx context.Context, tx *Tx, expected core.ExpectedVersion, prepared []core.Event, closing bool) (core.AppendResult, error) {
	key := aggKey{typ: prepared[0].AggregateType, id: prepared[0].AggregateID}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(tx); err != nil {
		return core.AppendResult{}, fmt.Errorf("appending to aggregate %s: %w", key, err)
	}
	res, err := s.append(ctx, tx, key, expected, prepared, closing)
	if err == nil {
		return res, nil
	}
	if errors.Is(err, ErrDeadlock) {
		err = &core.ConcurrencyError{AggregateType: key.typ, AggregateID: key.id, Expected: expected, Actual: -1, Err: err}
	}
	var conflict *core.ConcurrencyError
	if errors.As(err, &conflict) && conflict.Err == nil || errors.Is(err, core.ErrTransactionOrderMoved) || errors.Is(err, core.ErrStreamClosed) {
		return core.AppendResult{}, err // a result: tx stays usable
	}
	s.abort(tx)
	return core.AppendResult{}, err
}

// append does Append's work in the order PostgreSQL does it: lock the
// aggregate's head, check the expectation, then insert, waiting on the
// unique index when an id is in flight. Called with s.mu held.
func (s *Store) append(ctx context.Context, tx *Tx, key aggKey, expected core.ExpectedVersion, events []core.Event, closing bool) (core.AppendResult, error) {
	if err := ctx.Err(); err != nil {
		return core.AppendResult{}, fmt.Errorf("appending to aggregate %s: %w", key, err)
	}
	if st := s.orderStatus(tx); st.Moved() {
		return core.AppendResult{}, fmt.Errorf("appending to aggregate %s: %w", key, &core.TransactionOrderMovedError{Status: st})
	}
	s.assignXID(tx)
	h, err := s.lock(ctx, tx, key, expected)
	if err != nil {
		return core.AppendResult{}, err
	}
	if h.ownerClosed {
		// As the statement's head writes, which skip a closed head: Any and
		// NoStream have locked it (ON CONFLICT), and keep the lock.
		return core.AppendResult{}, closedError(key, h.ownerVersion, h.ownerDeleted)
	}
	if !expected.Matches(h.ownerVersion) {
		// NoStream on an existing aggregate: ON CONFLICT has locked the
		// head, and the lock stays until tx ends.
		return core.AppendResult{}, conflict(key, expected, h.ownerVersion)
	}
	if err := s.claimIDs(ctx, tx, key, events); err != nil {
		return core.AppendResult{}, err
	}

	writer := tx.xid + s.offsetFor(tx)
	res := core.AppendResult{
		Events:          make([]core.PersistedEvent, len(events)),
		GlobalPositions: make([]int64, len(events)),
	}
	stream := s.streams[key]
	for i, e := range events {
		s.lastPosition++
		r := &row{writer: tx, ev: core.PersistedEvent{
			GlobalPosition:   s.lastPosition,
			AggregateType:    e.AggregateType,
			AggregateID:      e.AggregateID,
			EventID:          e.EventID,
			EventType:        e.EventType,
			EventVersion:     e.EventVersion,
			Payload:          cloneBytes(e.Payload),
			Metadata:         cloneBytes(e.Metadata),
			CreatedAt:        e.CreatedAt,
			TraceID:          nullable(e.TraceID),
			CorrelationID:    nullable(e.CorrelationID),
			CausationID:      nullable(e.CausationID),
			AggregateVersion: h.ownerVersion + int64(i) + 1,
			TransactionID:    writer,
		}}
		s.log = append(s.log, r)
		stream = append(stream, r)
		s.ids[e.EventID] = r
		tx.rows = append(tx.rows, r)
		res.Events[i] = copyEvent(r.ev)
		res.GlobalPositions[i] = r.ev.GlobalPosition
	}
	s.streams[key] = stream
	h.ownerVersion += int64(len(events))
	h.ownerClosed = h.ownerClosed || closing
	tx.ownMax = max(tx.ownMax, writer)
	return res, nil
}

// lock takes the aggregate's lock for tx, waiting while another
// transaction holds it, and returns its head. Exact(n) and StreamExists,
// which PostgreSQL serves with an UPDATE of an existing head, first check
// the head tx sees — the committed one, or tx's own — and conflict without
// waiting or locking when it does not match: an UPDATE skips a row its
// condition rejects and never sees a head another transaction is still
// inserting. After a wait the check is repeated on the head the other
// transaction left, as the UPDATE re-checks the row it waited for. Called
// with s.mu held; s.mu is released while waiting.
func (s *Store) lock(ctx context.Context, tx *Tx, key aggKey, expected core.ExpectedVersion) (*head, error) {
	_, exact := expected.ExactVersion()
	updateOnly := exact || expected.IsStreamExists()
	for {
		h := s.heads[key]
		if updateOnly {
			seen, closed, deleted := h.stateFor(tx)
			if closed {
				return nil, closedError(key, seen, deleted)
			}
			if !expected.Matches(seen) {
				return nil, conflict(key, expected, seen)
			}
		}
		if h == nil {
			h = &head{}
			s.heads[key] = h
		}
		switch h.owner {
		case tx:
			return h, nil
		case nil:
			h.owner, h.ownerVersion, h.ownerClosed, h.ownerDeleted = tx, h.version, h.closed, h.deleted
			h.released = make(chan struct{})
			tx.locks = append(tx.locks, key)
			return h, nil
		}
		if err := s.wait(ctx, tx, h.owner, h.released); err != nil {
			return nil, fmt.Errorf("waiting for the lock on aggregate %s: %w", key, err)
		}
	}
}

// closedError is the error of a write to a closed or deleted stream: a
// result, like a conflict.
func closedError(key aggKey, version int64, deleted bool) error {
	return &core.StreamClosedError{AggregateType: key.typ, AggregateID: key.id, Version: version, Deleted: deleted}
}

// conflict is the error of an expectation the aggregate's version did not
// meet: a result, with no database error to wrap.
func conflict(key aggKey, expected core.ExpectedVersion, actual int64) error {
	return &core.ConcurrencyError{AggregateType: key.typ, AggregateID: key.id, Expected: expected, Actual: actual}
}

// claimIDs checks that no event id is stored yet. An id that another
// transaction inserted but has not committed is waited for, as PostgreSQL's
// unique index does: it is a duplicate if that transaction commits and free
// if it rolls back. Called with s.mu held; s.mu is released while waiting.
func (s *Store) claimIDs(ctx context.Context, tx *Tx, key aggKey, events []core.Event) error {
	for {
		var inFlight *row
		for _, e := range events {
			r := s.ids[e.EventID]
			if r == nil {
				continue
			}
			if r.writer == nil || r.writer == tx {
				return &core.DuplicateEventError{EventID: e.EventID, AggregateType: key.typ, AggregateID: key.id}
			}
			inFlight = r
			break
		}
		if inFlight == nil {
			return nil
		}
		if err := s.wait(ctx, tx, inFlight.writer, inFlight.writer.done); err != nil {
			return fmt.Errorf("waiting for the writer of event %s appending to aggregate %s: %w", inFlight.ev.EventID, key, err)
		}
	}
}

// wait releases s.mu until ch is closed or ctx ends, recording that tx waits
// for other so that a cycle of waiting transactions is reported as
// ErrDeadlock instead of hanging. Called with s.mu held.
func (s *Store) wait(ctx context.Context, tx, other *Tx, ch <-chan struct{}) error {
	for x := other; x != nil; x = x.waitingFor {
		if x == tx {
			return ErrDeadlock
		}
	}
	tx.waitingFor = other
	close(s.waitStarted)
	s.waitStarted = make(chan struct{})
	s.mu.Unlock()
	select {
	case <-ch:
	case <-ctx.Done():
	}
	s.mu.Lock()
	tx.waitingFor = nil
	if err := ctx.Err(); err != nil {
		return err
	}
	// Another goroutine may have ended tx meanwhile.
	return s.usable(tx)
}

// AwaitLockWait returns once tx waits, in a call of the store running on
// another goroutine, for a lock another transaction holds: an aggregate's
// lock (Append), an event id another transaction appended and has not
// committed (Append), a consumer's lease (SetCheckpoint, DeleteCheckpoint),
// a checkpoint row (SaveCheckpoint, SetCheckpoint, DeleteCheckpoint), a
// subject's key row (CreateSubjectKey, DeleteSubjectKey, RewrapSubjectKey)
// or the order offset (RaiseOrderOffset). It returns at once if tx waits
// already, and an error wrapping ctx's error if ctx ends first. It waits on
// the store's signal, not by polling.
//
// It is the memory store's coretest.LockWaitFunc: tests use it to end a
// lock holder only once the waiter is known to wait, instead of sleeping
// and hoping.
func (s *Store) AwaitLockWait(ctx context.Context, tx *Tx) error {
	for {
		s.mu.RLock()
		waiting, started := tx != nil && tx.waitingFor != nil, s.waitStarted
		s.mu.RUnlock()
		if waiting {
			return nil
		}
		select {
		case <-started:
		case <-ctx.Done():
			return fmt.Errorf("awaiting a lock wait of the transaction: %w", ctx.Err())
		}
	}
}

// nullable drops the String of an unset NullString: it is stored as NULL.
func nullable(n core.NullString) core.NullString {
	if !n.Valid {
		return core.NullString{}
	}
	return n
}
