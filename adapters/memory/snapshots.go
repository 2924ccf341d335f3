package memory

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/chronicle-go/chronicle/core"
)

var (
	_ core.SnapshotStore[*Tx] = (*Store)(nil)
	_ core.StreamDeleter[*Tx] = (*Store)(nil)
)

// snapshotKey names a snapshot row: one per aggregate and state schema
// version, as the PostgreSQL table's primary key.
type snapshotKey struct {
	agg    aggKey
	schema int
}

// snapshotRow is one stored snapshot. Like a PostgreSQL row under ON
// CONFLICT, a writer locks it until its transaction ends.
type snapshotRow struct {
	lock rowLock
	// committed is what every other transaction sees; exists reports
	// whether it was committed at all.
	committed core.AggregateSnapshot
	exists    bool
	// pending is the lock holder's value and pendingExists whether it has
	// one (false after its DeleteStream).
	pending       core.AggregateSnapshot
	pendingExists bool
}

// visibleTo returns the snapshot as tx sees it. Called with s.mu held.
func (r *snapshotRow) visibleTo(tx *Tx) (core.AggregateSnapshot, bool) {
	if r.lock.owner == tx {
		return r.pending, r.pendingExists
	}
	return r.committed, r.exists
}

// SaveSnapshot stores an aggregate snapshot in tx; see core.SnapshotStore.
// As on PostgreSQL it checks version against the head tx sees, waits for
// another transaction saving the same aggregate and schema version (or
// deleting the stream) to end, never for an append, and keeps a stored
// snapshot of a higher version. Its errors leave tx usable, except ctx
// ending and a deadlock while it waits, which abort it.
func (s *Store) SaveSnapshot(ctx context.Context, tx *Tx, aggregateType, aggregateID string, version int64, stateSchemaVersion int, state []byte) error {
	schema, err := core.ValidateSnapshotArgs(aggregateType, aggregateID, version, stateSchemaVersion)
	if err != nil {
		return err
	}
	key := snapshotKey{agg: aggKey{typ: aggregateType, id: aggregateID}, schema: schema}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(tx); err != nil {
		return fmt.Errorf("saving the snapshot of aggregate %s: %w", key.agg, err)
	}
	if err := s.saveSnapshot(ctx, tx, key, version, state); err != nil {
		if !isResult(err) {
			s.abort(tx)
		}
		return err
	}
	return nil
}

// isResult reports whether err is a result that leaves the transaction
// usable (not a failed statement).
func isResult(err error) bool {
	return errors.Is(err, core.ErrSnapshotVersion) || errors.Is(err, core.ErrStreamClosed)
}

func (s *Store) saveSnapshot(ctx context.Context, tx *Tx, key snapshotKey, version int64, state []byte) error {
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("saving the snapshot of aggregate %s: %w", key.agg, err)
		}
		h := s.heads[key.agg]
		// The head read FOR KEY SHARE waits only for a deletion (FOR
		// UPDATE), unless tx holds that share already.
		if h != nil && h.owner != nil && h.owner != tx && h.ownerDeleted && !s.sharesHead(tx, key.agg) {
			if err := s.wait(ctx, tx, h.owner, h.released); err != nil {
				return fmt.Errorf("saving the snapshot of aggregate %s, waiting for its deletion: %w", key.agg, err)
			}
			continue
		}
		seen, _, deleted := h.stateFor(tx)
		switch {
		case deleted:
			return closedError(key.agg, seen, true)
		case seen < version:
			return &core.SnapshotVersionError{AggregateType: key.agg.typ, AggregateID: key.agg.id, Version: version, StreamVersion: seen}
		}
		r := s.snapshots[key]
		if r != nil && r.lock.owner != nil && r.lock.owner != tx {
			if err := s.wait(ctx, tx, r.lock.owner, r.lock.released); err != nil {
				return fmt.Errorf("saving the snapshot of aggregate %s, waiting for another save: %w", key.agg, err)
			}
			continue
		}
		s.assignXID(tx)
		if r == nil {
			r = &snapshotRow{}
			s.snapshots[key] = r
		}
		s.lockSnapshot(tx, key, r)
		if cur, ok := r.visibleTo(tx); ok && cur.Version > version {
			return nil // a newer snapshot stays; the row is locked all the same, as ON CONFLICT locks it
		}
		r.pending = core.AggregateSnapshot{AggregateType: key.agg.typ, AggregateID: key.agg.id, Version: version,
			SchemaVersion: key.schema, State: cloneBytes(nonNil(state)), SavedAt: s.now().UTC().Truncate(time.Microsecond)}
		r.pendingExists = true
		return nil
	}
}

// lockSnapshot gives tx the lock of r, unless it holds it. Called with
// s.mu held.
func (s *Store) lockSnapshot(tx *Tx, key snapshotKey, r *snapshotRow) {
	if r.lock.owner == tx {
		return
	}
	r.lock.take(tx)
	r.pending, r.pendingExists = r.committed, r.exists
	tx.snapshots = append(tx.snapshots, key)
}

// sharesHead reports whether tx holds a snapshot row of the aggregate,
// which on PostgreSQL means it holds its head FOR KEY SHARE already.
func (s *Store) sharesHead(tx *Tx, agg aggKey) bool {
	return slices.ContainsFunc(tx.snapshots, func(k snapshotKey) bool { return k.agg == agg })
}

// LoadAggregate returns the aggregate's snapshot of the schema version
// visible to tx and the events after it; see core.SnapshotStore. It never
// waits.
func (s *Store) LoadAggregate(ctx context.Context, tx *Tx, aggregateType, aggregateID string, stateSchemaVersion int) (core.LoadedAggregate, error) {
	if err := core.ValidateAggregate(aggregateType, aggregateID); err != nil {
		return core.LoadedAggregate{}, err
	}
	schema, err := core.ValidateStateSchemaVersion(stateSchemaVersion)
	if err != nil {
		return core.LoadedAggregate{}, err
	}
	key := snapshotKey{agg: aggKey{typ: aggregateType, id: aggregateID}, schema: schema}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.readable(ctx, tx); err != nil {
		return core.LoadedAggregate{}, fmt.Errorf("loading aggregate %s: %w", key.agg, err)
	}
	out := core.LoadedAggregate{}
	from := int64(1)
	if r := s.snapshots[key]; r != nil {
		snap, ok := r.visibleTo(tx)
		head, _, deleted := s.heads[key.agg].stateFor(tx)
		if ok && snap.Version <= head && !deleted {
			snap.State = cloneBytes(snap.State)
			out.Snapshot = &snap
			from = snap.Version + 1
		}
	}
	out.Stream = s.streamFor(tx, key.agg, &from, nil)
	return out, nil
}

// DeleteStream removes the aggregate's events and snapshots in tx and
// marks its head closed and deleted; see core.StreamDeleter. As on
// PostgreSQL it waits for a transaction holding the aggregate's lock (an
// append, a tombstone) or saving one of its snapshots to end, sees no head
// another transaction is still creating (Existed false), and leaves the
// rows visible to every other transaction until tx commits. The memory
// store has no roles: any transaction may delete. ctx ending and a
// deadlock while it waits abort tx.
func (s *Store) DeleteStream(ctx context.Context, tx *Tx, aggregateType, aggregateID string) (core.DeletedStream, error) {
	if err := core.ValidateAggregate(aggregateType, aggregateID); err != nil {
		return core.DeletedStream{}, err
	}
	key := aggKey{typ: aggregateType, id: aggregateID}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(tx); err != nil {
		return core.DeletedStream{}, fmt.Errorf("deleting stream %s: %w", key, err)
	}
	out, err := s.deleteStream(ctx, tx, key)
	if err != nil {
		s.abort(tx)
		return core.DeletedStream{}, err
	}
	return out, nil
}

func (s *Store) deleteStream(ctx context.Context, tx *Tx, key aggKey) (core.DeletedStream, error) {
	out := core.DeletedStream{AggregateType: key.typ, AggregateID: key.id}
	var h *head
	for {
		if err := ctx.Err(); err != nil {
			return out, fmt.Errorf("deleting stream %s: %w", key, err)
		}
		h = s.heads[key]
		if h == nil || h.owner != tx && h.version == 0 {
			return out, nil // no head tx can see: FOR UPDATE finds no row
		}
		if h.owner == nil || h.owner == tx {
			break
		}
		if err := s.wait(ctx, tx, h.owner, h.released); err != nil {
			return out, fmt.Errorf("deleting stream %s, waiting for its writer: %w", key, err)
		}
	}
	s.assignXID(tx)
	if h.owner == nil {
		h.owner, h.ownerVersion, h.ownerClosed, h.ownerDeleted = tx, h.version, h.closed, h.deleted
		h.released = make(chan struct{})
		tx.locks = append(tx.locks, key)
	}
	// From here savers wait for tx (ownerDeleted); those that hold a
	// snapshot row of the stream are waited for.
	h.ownerDeleted = true
	for {
		var holder *snapshotRow
		for k, r := range s.snapshots {
			if k.agg == key && r.lock.owner != nil && r.lock.owner != tx {
				holder = r
				break
			}
		}
		if holder == nil {
			break
		}
		if err := s.wait(ctx, tx, holder.lock.owner, holder.lock.released); err != nil {
			return out, fmt.Errorf("deleting stream %s, waiting for a snapshot save: %w", key, err)
		}
	}
	out.Existed, out.Version = true, h.ownerVersion
	for _, r := range s.streams[key] {
		if r.visibleTo(tx) {
			r.deleter = tx
			tx.deletes = append(tx.deletes, r)
			out.Events++
		}
	}
	for k, r := range s.snapshots {
		if k.agg != key {
			continue
		}
		s.lockSnapshot(tx, k, r)
		if r.pendingExists {
			r.pendingExists = false
			out.Snapshots++
		}
	}
	h.ownerClosed = true
	return out, nil
}

// commitSnapshots applies tx's snapshot writes and releases their locks.
// Called with s.mu held, at commit.
func (s *Store) commitSnapshots(tx *Tx) {
	for _, k := range tx.snapshots {
		r := s.snapshots[k]
		r.committed, r.exists = r.pending, r.pendingExists
		r.lock.release()
		if !r.exists {
			delete(s.snapshots, k)
		}
	}
}

// discardSnapshots drops tx's snapshot writes and releases their locks.
// Called with s.mu held.
func (s *Store) discardSnapshots(tx *Tx) {
	for _, k := range tx.snapshots {
		r := s.snapshots[k]
		r.lock.release()
		if !r.exists {
			delete(s.snapshots, k)
		}
	}
}

// removeDeleted takes the rows tx deleted out of the store, which its
// commit makes gone for everyone, and recomputes eventMax. Called with
// s.mu held, at commit.
func (s *Store) removeDeleted(tx *Tx) {
	if len(tx.deletes) == 0 {
		return
	}
	gone := func(r *row) bool { return r.deleter == tx }
	s.log = slices.DeleteFunc(s.log, gone)
	for _, r := range tx.deletes {
		delete(s.ids, r.ev.EventID)
		k := aggKey{typ: r.ev.AggregateType, id: r.ev.AggregateID}
		if stream, ok := s.streams[k]; ok {
			s.streams[k] = slices.DeleteFunc(stream, gone)
		}
	}
	s.eventMax = 0
	for _, r := range s.log {
		if r.writer == nil {
			s.eventMax = max(s.eventMax, r.ev.TransactionID)
		}
	}
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
