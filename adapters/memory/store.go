package memory

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/chronicle-go/chronicle/core"
	"github.com/google/uuid"
)

// Store is an in-memory event store. Create it with NewStore; the zero value
// is not usable. It is safe for concurrent use by any number of
// transactions.
type Store struct {
	now func() time.Time

	// mu guards everything below and the mutable state of every Tx of the
	// store. Writes and transaction ends take it exclusively; reads share
	// it, so readers never wait for a writer's transaction, only for the
	// short critical section of another call.
	mu sync.RWMutex
	// log holds every row not rolled back, committed or not, ordered by
	// GlobalPosition: positions are handed out under mu in append order.
	log []*row
	// streams holds each aggregate's rows by version: the committed ones,
	// then those of the transaction holding the aggregate's lock.
	streams map[aggKey][]*row
	// heads holds the version and lock of every aggregate that has
	// committed events or is locked.
	heads map[aggKey]*head
	// ids indexes rows by EventID, committed or in flight: the unique index.
	ids map[uuid.UUID]*row
	// lastPosition is the last global position handed out (the sequence).
	lastPosition int64
	// nextXID is the next transaction id to hand out, like PostgreSQL's
	// next full transaction id. Ids start at 1.
	nextXID int64
	// inProgress holds the transactions that hold an id and have not ended.
	inProgress map[int64]*Tx

	// offset is the committed transaction order offset, added to
	// transaction ids in events' TransactionID and in snapshots; offsetLock
	// is its row lock and offsetPending the value its owner sees.
	offset        int64
	offsetLock    rowLock
	offsetPending int64
	// eventMax is the highest TransactionID of a committed event, 0 when
	// there is none: it grows with every commit, so the order check of
	// every append need not scan the log, and is computed again when a
	// deletion removes events (DeleteStream).
	eventMax int64
	// snapshots holds the aggregate snapshot rows: the committed ones, and
	// those a transaction writes under their lock.
	snapshots map[snapshotKey]*snapshotRow
	// checkpoints holds the consumer checkpoint rows by consumer name: the
	// committed ones, and those being created by the transaction locking them.
	checkpoints map[string]*checkpointRow
	// leases holds the consumers' leases by consumer name, while a
	// transaction holds one: a lock apart from the checkpoint row, like the
	// transaction-scoped advisory lock of the PostgreSQL adapters.
	leases map[string]*rowLock
	// keys holds the subjects' key rows by subject: the committed ones, and
	// those being created by the transaction locking them.
	keys map[string]*keyRow
	// listeners are the running Listen calls, signalled on every commit
	// that appended events.
	listeners map[*listener]struct{}
	// presence holds the running HoldPresence calls by owner: the memory
	// store's sessions holding a presence.
	presence map[string]map[*presenceHold]struct{}
	// waitStarted is closed, and replaced, whenever a transaction starts
	// waiting for another: the signal AwaitLockWait waits on.
	waitStarted chan struct{}
}

// Option configures a Store.
type Option func(*Store)

// WithClock makes the store take "now" from now instead of time.Now: the
// CreatedAt of events appended with a zero CreatedAt, checkpoints'
// UpdatedAt and ClaimedAt, OrderStatus.CheckedAt and transactions' start
// times (core.Writer.Started).
// Tests use it for reproducible timestamps. A nil now keeps time.Now.
func WithClock(now func() time.Time) Option {
	return func(s *Store) {
		if now != nil {
			s.now = now
		}
	}
}

// NewStore returns an empty store.
func NewStore(opts ...Option) *Store {
	s := &Store{
		now:         time.Now,
		streams:     map[aggKey][]*row{},
		heads:       map[aggKey]*head{},
		ids:         map[uuid.UUID]*row{},
		nextXID:     1,
		inProgress:  map[int64]*Tx{},
		checkpoints: map[string]*checkpointRow{},
		snapshots:   map[snapshotKey]*snapshotRow{},
		leases:      map[string]*rowLock{},
		keys:        map[string]*keyRow{},
		listeners:   map[*listener]struct{}{},
		presence:    map[string]map[*presenceHold]struct{}{},
		waitStarted: make(chan struct{}),
	}
	for _, opt := range opts {
		opt(s)
	}
	return s
}

var _ core.Store[*Tx] = (*Store)(nil)

// Begin starts a transaction. It fails only when ctx is already done. Like
// a PostgreSQL transaction it takes no transaction id until its first
// write (an append, a checkpoint write, RaiseOrderOffset), so a transaction
// that only reads or holds a consumer's lease is in no snapshot's list of
// running transactions.
func (s *Store) Begin(ctx context.Context) (*Tx, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("error beginning a transaction: %w", err)
	}
	return &Tx{store: s, done: make(chan struct{}), started: s.now()}, nil
}

// snapshotLocked returns the current snapshot as tx sees it, like
// pg_current_snapshot() with the order offset tx sees added: every
// transaction that has ended is visible, those in progress are not, and
// neither is any id not handed out yet. Unlike PostgreSQL's own snapshot it
// lists tx's own id as running (see core.ConsumerStore.CurrentSnapshot),
// so that tx's own appends are delivered once it commits. Called with s.mu
// held.
func (s *Store) snapshotLocked(tx *Tx) core.Snapshot {
	off := s.offsetFor(tx)
	snap := core.Snapshot{Xmax: s.nextXID + off}
	if len(s.inProgress) > 0 {
		snap.Xip = make([]int64, 0, len(s.inProgress))
		for xid := range s.inProgress {
			snap.Xip = append(snap.Xip, xid+off)
		}
		slices.Sort(snap.Xip)
	}
	snap.Xmin = snap.Xmax
	if len(snap.Xip) > 0 {
		snap.Xmin = snap.Xip[0]
	}
	return snap
}

// offsetFor returns the order offset tx sees: its own uncommitted change,
// else the committed one (nil tx: the committed one). Called with s.mu held.
func (s *Store) offsetFor(tx *Tx) int64 {
	if tx != nil && s.offsetLock.owner == tx {
		return s.offsetPending
	}
	return s.offset
}

// assignXID gives tx a transaction id if it has none, as PostgreSQL does at
// a transaction's first write. Called with s.mu held.
func (s *Store) assignXID(tx *Tx) {
	if tx.xid == 0 {
		tx.xid = s.nextXID
		s.nextXID++
		s.inProgress[tx.xid] = tx
	}
}

// aggKey names an aggregate.
type aggKey struct{ typ, id string }

func (k aggKey) String() string { return k.typ + "/" + k.id }

// row is one stored event.
type row struct {
	// ev is never changed after insert, and never handed out: callers get
	// copies.
	ev core.PersistedEvent
	// writer is the transaction that inserted the row until it commits,
	// nil after.
	writer *Tx
	// deleter is the transaction that deleted the row (DeleteStream) until
	// it ends: the row is gone for it, and still there for every other
	// transaction; its commit removes the row from the store.
	deleter *Tx
}

// visibleTo reports whether tx sees r: committed rows, and its own, unless
// tx deleted it.
func (r *row) visibleTo(tx *Tx) bool { return (r.writer == nil || r.writer == tx) && r.deleter != tx }

// head is an aggregate's head row: its committed version, and the lock
// that serialises its writers.
type head struct {
	version int64
	// owner holds the lock until it ends (or, after a conflict on an
	// aggregate that does not exist, at once); ownerVersion is the head's
	// version as owner sees it, with its own appends.
	owner        *Tx
	ownerVersion int64
	// released is closed when owner lets go of the lock.
	released chan struct{}
	// closed and deleted are the committed stream state (Tombstone,
	// DeleteStream); ownerClosed and ownerDeleted the lock holder's, which
	// it commits with the version.
	closed, deleted           bool
	ownerClosed, ownerDeleted bool
}

// stateFor returns the head's version, closed and deleted flags as tx
// sees them: the lock holder its own, everyone else the committed ones. A
// nil head is an aggregate without events. Called with s.mu held.
func (h *head) stateFor(tx *Tx) (version int64, closed, deleted bool) {
	switch {
	case h == nil:
		return 0, false, false
	case h.owner == tx:
		return h.ownerVersion, h.ownerClosed, h.ownerDeleted
	}
	return h.version, h.closed, h.deleted
}

// copyEvent returns a copy of e that shares no memory with it.
func copyEvent(e core.PersistedEvent) core.PersistedEvent {
	e.Payload = cloneBytes(e.Payload)
	e.Metadata = cloneBytes(e.Metadata)
	return e
}

// cloneBytes keeps nil as nil, so absent metadata stays absent.
func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}
