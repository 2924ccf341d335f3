package core

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// AggregateSnapshot is an aggregate's state at one version, as the
// application serialised it, so that loading the aggregate replays only
// the events after it. (Not to be confused with Snapshot, a PostgreSQL
// MVCC snapshot that a consumer's cursor holds.)
type AggregateSnapshot struct {
	AggregateType string
	AggregateID   string
	// Version is the aggregate version the state includes: the state after
	// applying events 1 to Version.
	Version int64
	// SchemaVersion is the version of the state's serialised form, chosen
	// by the application. Raise it when the form changes: snapshots of
	// another schema version are never loaded, so old ones are ignored (and
	// replaced by the next save) instead of being misread.
	SchemaVersion int
	// State is the serialised state, stored byte for byte (never nil when
	// loaded; empty stays empty).
	State []byte
	// SavedAt is when the snapshot was saved (the database's clock).
	SavedAt time.Time
}

// LoadedAggregate is the result of SnapshotStore.LoadAggregate: the newest
// usable snapshot, if any, and the events after it.
type LoadedAggregate struct {
	// Snapshot is the stored snapshot of the requested schema version, or
	// nil when there is none: then Stream holds every event.
	Snapshot *AggregateSnapshot
	// Stream holds the events after Snapshot.Version (after 0 without a
	// snapshot), by version, and the stream's Closed and Deleted state.
	Stream Stream
}

// Version returns the aggregate's version as loaded: the last event's, or
// the snapshot's when no event follows it, or 0 for an aggregate with
// neither. It is the value to pass to Exact on the next append.
func (l LoadedAggregate) Version() int64 {
	if v := l.Stream.Version(); v > 0 {
		return v
	}
	if l.Snapshot != nil {
		return l.Snapshot.Version
	}
	return 0
}

// ErrSnapshotVersion: SaveSnapshot was given a version the stream does not
// have (above its current version as the transaction sees it); nothing was
// written. Detail: *SnapshotVersionError.
var ErrSnapshotVersion = errors.New("snapshot version is beyond the stream")

// SnapshotVersionError is the detail of ErrSnapshotVersion.
type SnapshotVersionError struct {
	AggregateType string
	AggregateID   string
	// Version is the version the snapshot claimed.
	Version int64
	// StreamVersion is the stream's current version as the saving
	// transaction saw it (0: no committed events, or none it can see).
	StreamVersion int64
}

func (e *SnapshotVersionError) Error() string {
	return fmt.Sprintf("snapshot of %s/%s at version %d: the stream is at version %d; save a snapshot only of a version the stream has (commit its events first, or save in the transaction that appended them)",
		e.AggregateType, e.AggregateID, e.Version, e.StreamVersion)
}

// Is reports whether target is ErrSnapshotVersion.
func (e *SnapshotVersionError) Is(target error) bool { return target == ErrSnapshotVersion }

// ValidateSnapshotArgs checks SaveSnapshot's arguments before any I/O:
// the aggregate as ValidateAggregate does, version >= 1 (a snapshot of
// version 0 would be the empty aggregate) and stateSchemaVersion as
// ValidateStateSchemaVersion does. It returns the schema version with its
// default applied.
func ValidateSnapshotArgs(aggregateType, aggregateID string, version int64, stateSchemaVersion int) (int, error) {
	if err := ValidateAggregate(aggregateType, aggregateID); err != nil {
		return 0, err
	}
	if version < 1 {
		return 0, &InvalidArgumentError{Argument: "version", Reason: "a snapshot's version must be >= 1 (the version of the last event its state includes), got " +
			strconv.FormatInt(version, 10)}
	}
	return ValidateStateSchemaVersion(stateSchemaVersion)
}

// ValidateStateSchemaVersion checks a snapshot's state schema version: 0
// means 1 (as Event.EventVersion); negative or beyond 32 bits is an
// *InvalidArgumentError. It returns the version with the default applied.
func ValidateStateSchemaVersion(v int) (int, error) {
	if v < 0 || v > 1<<31-1 {
		return 0, &InvalidArgumentError{Argument: "stateSchemaVersion", Reason: "must be between 1 and 2147483647 (0 means 1), got " + strconv.Itoa(v)}
	}
	return max(v, 1), nil
}

// SnapshotPolicy tells a command handler when to save a snapshot: every
// Every events. The zero value never snapshots.
//
//	policy := core.SnapshotEvery(100)
//	res, err := store.Append(ctx, tx, core.Exact(loaded.Version()), events)
//	…
//	if policy.Due(res) {
//		err = store.SaveSnapshot(ctx, tx, "Account", id, res.ToVersion(), 1, state)
//	}
type SnapshotPolicy struct {
	// Every is the number of events between snapshots; 0 or less: never.
	Every int64
}

// SnapshotEvery returns the policy that snapshots every n events.
func SnapshotEvery(n int64) SnapshotPolicy { return SnapshotPolicy{Every: n} }

// Due reports whether the append res crossed a multiple of Every: whether
// a version k·Every lies in FromVersion()+1 .. ToVersion(). It needs no
// state, so concurrent handlers agree, and a batch that jumps over a
// multiple still snapshots once. The snapshot to save is of
// res.ToVersion().
func (p SnapshotPolicy) Due(res AppendResult) bool {
	if p.Every <= 0 || len(res.Events) == 0 {
		return false
	}
	return res.ToVersion()/p.Every > res.FromVersion()/p.Every
}
