package coretest

import (
	"cmp"
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chronicle-go/chronicle/core"
)

// ConsumerStoreInstance is one consumer storage port under test over its own
// empty event log, with the event store that writes that log.
type ConsumerStoreInstance[TX any] struct {
	// Consumers is the adapter's consumer storage port. Every transaction
	// of a case comes from its Begin.
	Consumers core.ConsumerStore[TX]
	// Store appends to the log Consumers reads, in Consumers' transactions.
	Store core.Store[TX]
	// Notifies reports whether Listen delivers wakeups for commits.
	Notifies bool
	// AwaitLockWait is the adapter's signal that a transaction waits for a
	// lock (see LockWaitFunc). Required: a case that must see SetCheckpoint
	// wait for a batch fails when it is nil.
	AwaitLockWait LockWaitFunc[TX]
	// SimulateMove reproduces a log restored into another cluster: it makes
	// the database's current transaction order fall below every stored
	// one, as a new cluster's lower transaction ids would (PostgreSQL:
	// lower the order offset row a long way; memory:
	// SetNextTransactionID(1)). No transaction of the case is open when it
	// runs. nil skips the cases that need it.
	SimulateMove func(t *testing.T)
	// DeleteStream is the operator's hard deletion of a stream of the log
	// (see DeleteFunc and Deleter). Required: the case of a consumer
	// running across a deleted stream fails when it is nil.
	DeleteStream DeleteFunc
	// EndPresence ends every session holding owner's presence
	// (HoldPresence) as a lost connection would (PostgreSQL:
	// pg_terminate_backend of the backends holding the owner's lock, waiting
	// until they have exited; memory: (*memory.Store).EndPresence). nil
	// skips the case that needs it.
	EndPresence func(t *testing.T, owner string)
}

// ConsumerStoreHarness adapts RunConsumerStore to one adapter configuration.
type ConsumerStoreHarness[TX any] struct {
	// NewInstance returns a consumer store over a new, empty log, isolated
	// from every other instance (cases run in parallel). notify asks for a
	// store with notifications configured; an adapter that always notifies
	// may ignore it and set Notifies. It registers its own cleanup with
	// t.Cleanup and fails t on error.
	NewInstance func(t *testing.T, notify bool) ConsumerStoreInstance[TX]
}

// RunConsumerStore runs the conformance suite of core.ConsumerStore, the
// consumer runtime's storage port, against the adapter h drives, in the
// terms of DESIGN §6: a cursor is a snapshot, and a batch delivers the
// committed events whose writer the current snapshot shows and the
// cursor's does not.
//
//   - Claim: leases taken without waiting and without a transaction id
//     (a batch's own appends are delivered after it commits), refused while
//     another transaction holds them, free when it ends.
//   - Checkpoints: saves that create or update, visible on commit only,
//     round-tripping every field; the listing by name with the leases other
//     transactions hold; SetCheckpoint and DeleteCheckpoint waiting for a
//     running batch's lease.
//   - Batches: the snapshot diff in position order, writers that took
//     their id early delivered in a later diff, rolled-back writers never,
//     the caller's own id counted as running, paging with the upper
//     snapshot fixed, scopes, empty batches that still advance, concurrent
//     writers delivered exactly once in per-aggregate order, and invalid
//     arguments.
//   - Snapshots: CurrentSnapshot and Writers against running and ended
//     writers; Lag, exact and estimated.
//   - TransactionOrder: StoredMax over events and stored cursors, and a log
//     moved into another cluster (appends fail until RaiseOrderOffset).
//   - Listen: wakeups after committed appends, naming their writers.
//   - DeletedStreams: batches run across a stream an operator deleted
//     under a paging cursor, delivering every other event.
//   - Presence: an owner is present while a HoldPresence call holds it,
//     and gone once every such call's context ended or its session was
//     lost.
//   - Partitions: the partitions of a scope split the log by
//     core.PartitionOf, each event in exactly one, in batches, pages and
//     lag alike, with aggregate types too; bad partitions refused.
//   - Progress: Delivered saved as given from DeliveredSince, which the
//     row's creation sets and SetCheckpoint restarts.
//   - BeginBatch: a transaction with the claim and the batch
//     ReadConsumerBatch returns for the checkpoint its read expects (by
//     cursor, and by UpdatedAt when given), nothing read for another
//     checkpoint or when the lease is held, bad reads refused before
//     anything begins; CommitCheckpoint saving and committing in one call.
//
// Every case is a named parallel subtest on its own instance;
// RunConsumerStore returns when all have finished.
//
// On PostgreSQL snapshots are the whole cluster's: other sessions' ids
// appear in them. The suite never asserts that a snapshot equals a value
// it did not store itself; it asserts relations (visible, contains, what
// a batch delivers), which other tests on the same server cannot change.
func RunConsumerStore[TX any](t *testing.T, h ConsumerStoreHarness[TX]) {
	t.Helper()
	if h.NewInstance == nil {
		t.Fatal("coretest: ConsumerStoreHarness needs NewInstance")
	}
	t.Run("Claim", func(t *testing.T) { testClaim(t, h) })
	t.Run("Checkpoints", func(t *testing.T) { testCheckpoints(t, h) })
	t.Run("SetCheckpoint", func(t *testing.T) { testSetCheckpoint(t, h) })
	t.Run("Batches", func(t *testing.T) { testBatches(t, h) })
	t.Run("Snapshots", func(t *testing.T) { testSnapshots(t, h) })
	t.Run("Lag", func(t *testing.T) { testLag(t, h) })
	t.Run("TransactionOrder", func(t *testing.T) { testTransactionOrder(t, h) })
	t.Run("Listen", func(t *testing.T) { testListen(t, h) })
	t.Run("DeletedStreams", func(t *testing.T) { testConsumingDeletedStreams(t, h) })
	t.Run("Presence", func(t *testing.T) { testPresence(t, h) })
	t.Run("Partitions", func(t *testing.T) { testPartitions(t, h) })
	t.Run("Progress", func(t *testing.T) { testProgress(t, h) })
	t.Run("BeginBatch", func(t *testing.T) { testBeginBatch(t, h) })
}

// runConsumer registers one parallel case with its own instance.
func runConsumer[TX any](t *testing.T, h ConsumerStoreHarness[TX], name string, notify bool, body func(e *cenv[TX])) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		t.Parallel()
		inst := h.NewInstance(t, notify)
		if inst.Consumers == nil || inst.Store == nil {
			t.Fatal("coretest: ConsumerStoreInstance needs Consumers and Store")
		}
		ctx, cancel := context.WithTimeout(t.Context(), caseTimeout)
		t.Cleanup(cancel)
		body(&cenv[TX]{t: t, inst: inst, cs: inst.Consumers, ctx: ctx})
	})
}

// cenv is one consumer store case's instance and the means to drive it.
type cenv[TX any] struct {
	t    *testing.T
	inst ConsumerStoreInstance[TX]
	cs   core.ConsumerStore[TX]
	ctx  context.Context
}

// ctxn is a transaction of a consumer store case. Its must* methods fail
// the case and may only be called from the case's goroutine.
type ctxn[TX any] struct {
	e     *cenv[TX]
	tx    TX
	name  string
	ended atomic.Bool
}

// begin starts a transaction that is rolled back when the case ends unless
// it was ended before.
func (e *cenv[TX]) begin(name string) *ctxn[TX] {
	e.t.Helper()
	tx, err := e.cs.Begin(e.ctx)
	if err != nil {
		e.t.Fatalf("beginning transaction %s: %v", name, err)
	}
	x := &ctxn[TX]{e: e, tx: tx, name: name}
	e.t.Cleanup(func() {
		if x.ended.Load() {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = e.cs.Rollback(ctx, x.tx)
	})
	return x
}

func (x *ctxn[TX]) mustCommit() {
	x.e.t.Helper()
	x.ended.Store(true)
	if err := x.e.cs.Commit(x.e.ctx, x.tx); err != nil {
		x.e.t.Fatalf("committing %s: %v", x.name, err)
	}
}

func (x *ctxn[TX]) mustRollback() {
	x.e.t.Helper()
	x.ended.Store(true)
	if err := x.e.cs.Rollback(x.e.ctx, x.tx); err != nil {
		x.e.t.Fatalf("rolling back %s: %v", x.name, err)
	}
}

func (x *ctxn[TX]) mustAppend(events ...core.Event) core.AppendResult {
	x.e.t.Helper()
	res, err := x.e.inst.Store.Append(x.e.ctx, x.tx, core.Any(), events)
	if err != nil {
		x.e.t.Fatalf("%s: appending %d event(s): %v", x.name, len(events), err)
	}
	return res
}

func (x *ctxn[TX]) mustSave(cp core.Checkpoint) {
	x.e.t.Helper()
	if err := x.e.cs.SaveCheckpoint(x.e.ctx, x.tx, cp); err != nil {
		x.e.t.Fatalf("%s: saving %+v: %v", x.name, cp, err)
	}
}

func (x *ctxn[TX]) mustSet(consumer string, at core.Cursor) {
	x.e.t.Helper()
	if err := x.e.cs.SetCheckpoint(x.e.ctx, x.tx, consumer, at); err != nil {
		x.e.t.Fatalf("%s: setting %q to %s: %v", x.name, consumer, at, err)
	}
}

func (x *ctxn[TX]) mustCheckpoints() ([]core.Checkpoint, []bool) {
	x.e.t.Helper()
	cps, held, err := x.e.cs.Checkpoints(x.e.ctx, x.tx)
	if err != nil {
		x.e.t.Fatalf("%s: reading checkpoints: %v", x.name, err)
	}
	if len(cps) != len(held) {
		x.e.t.Fatalf("%s: %d checkpoints but %d held flags", x.name, len(cps), len(held))
	}
	return cps, held
}

func (x *ctxn[TX]) mustBatch(after core.Cursor, types []string, limit int) core.ConsumerBatch {
	x.e.t.Helper()
	return x.mustBatchIn(after, core.ConsumerScope{AggregateTypes: types}, limit)
}

func (x *ctxn[TX]) mustBatchIn(after core.Cursor, scope core.ConsumerScope, limit int) core.ConsumerBatch {
	x.e.t.Helper()
	b, err := x.e.cs.ReadConsumerBatch(x.e.ctx, x.tx, after, scope, limit)
	if err != nil {
		x.e.t.Fatalf("%s: reading the batch after %s (scope %+v, limit %d): %v", x.name, after, scope, limit, err)
	}
	checkBatch(x.e.t, x.name, b, after, scope.AggregateTypes, limit)
	for _, ev := range b.Events {
		if !scope.Contains(ev.AggregateType, ev.AggregateID) {
			x.e.t.Errorf("%s: event of %s/%s is in partition %d, asked for %s", x.name, ev.AggregateType, ev.AggregateID,
				core.PartitionOf(ev.AggregateType, ev.AggregateID, scope.Partition.Count), scope.Partition)
		}
	}
	return b
}

func (x *ctxn[TX]) mustDelete(consumer string) bool {
	x.e.t.Helper()
	deleted, err := x.e.cs.DeleteCheckpoint(x.e.ctx, x.tx, consumer)
	if err != nil {
		x.e.t.Fatalf("%s: deleting %q: %v", x.name, consumer, err)
	}
	return deleted
}

func (x *ctxn[TX]) mustOrder() core.OrderStatus {
	x.e.t.Helper()
	st, err := x.e.cs.TransactionOrder(x.e.ctx, x.tx)
	if err != nil {
		x.e.t.Fatalf("%s: reading the transaction order: %v", x.name, err)
	}
	if st.CheckedAt.IsZero() {
		x.e.t.Errorf("%s: TransactionOrder: zero CheckedAt", x.name)
	}
	return st
}

func (x *ctxn[TX]) mustSnapshot() core.Snapshot {
	x.e.t.Helper()
	s, err := x.e.cs.CurrentSnapshot(x.e.ctx, x.tx)
	if err != nil {
		x.e.t.Fatalf("%s: reading the current snapshot: %v", x.name, err)
	}
	if err := s.Validate(); err != nil {
		x.e.t.Errorf("%s: CurrentSnapshot %s is invalid: %v", x.name, s, err)
	}
	return s
}

func (x *ctxn[TX]) mustLag(after core.Cursor, types []string) core.Lag {
	x.e.t.Helper()
	return x.mustLagIn(after, core.ConsumerScope{AggregateTypes: types})
}

func (x *ctxn[TX]) mustLagIn(after core.Cursor, scope core.ConsumerScope) core.Lag {
	x.e.t.Helper()
	l, err := x.e.cs.Lag(x.e.ctx, x.tx, after, scope)
	if err != nil {
		x.e.t.Fatalf("%s: measuring the lag after %s of %+v: %v", x.name, after, scope, err)
	}
	return l
}

func (x *ctxn[TX]) mustWriters(ids ...int64) []core.Writer {
	x.e.t.Helper()
	w, err := x.e.cs.Writers(x.e.ctx, x.tx, ids)
	if err != nil {
		x.e.t.Fatalf("%s: listing the writers among %v: %v", x.name, ids, err)
	}
	return w
}

// checkBatch asserts what every batch must satisfy: at most limit events
// of the requested types, in rising GlobalPosition, none of them delivered
// at the cursor and all of them at Next; Next valid, its snapshot at or
// after the cursor's.
func checkBatch(t *testing.T, where string, b core.ConsumerBatch, after core.Cursor, types []string, limit int) {
	t.Helper()
	if len(b.Events) > limit {
		t.Errorf("%s: %d events, limit %d", where, len(b.Events), limit)
	}
	if err := b.Next.Validate(); err != nil {
		t.Errorf("%s: Next %s is invalid: %v", where, b.Next, err)
	}
	if !b.Next.Snapshot.Contains(after.Snapshot) {
		t.Errorf("%s: Next %s goes back from %s", where, b.Next, after)
	}
	for i, ev := range b.Events {
		if i > 0 && ev.GlobalPosition <= b.Events[i-1].GlobalPosition {
			t.Errorf("%s: event %d at position %d does not come after %d", where, i, ev.GlobalPosition, b.Events[i-1].GlobalPosition)
		}
		if after.Delivered(ev) {
			t.Errorf("%s: event %d (position %d, writer %d) was delivered at %s already", where, i, ev.GlobalPosition, ev.TransactionID, after)
		}
		if !b.Next.Delivered(ev) {
			t.Errorf("%s: event %d (position %d, writer %d) is not delivered at Next %s", where, i, ev.GlobalPosition, ev.TransactionID, b.Next)
		}
		if len(types) > 0 && !slices.Contains(types, ev.AggregateType) {
			t.Errorf("%s: event %d of type %q, asked for %v", where, i, ev.AggregateType, types)
		}
	}
}

// committedCheckpoints returns the checkpoints and held flags a new
// transaction sees.
func (e *cenv[TX]) committedCheckpoints() ([]core.Checkpoint, []bool) {
	e.t.Helper()
	x := e.begin("observer")
	defer x.mustRollback()
	return x.mustCheckpoints()
}

// appendCommitted appends events in a transaction of their own.
func (e *cenv[TX]) appendCommitted(events ...core.Event) core.AppendResult {
	e.t.Helper()
	x := e.begin("writer")
	res := x.mustAppend(events...)
	x.mustCommit()
	return res
}

// batch reads one batch in a transaction of its own.
func (e *cenv[TX]) batch(after core.Cursor, types []string, limit int) core.ConsumerBatch {
	e.t.Helper()
	return e.batchIn(after, core.ConsumerScope{AggregateTypes: types}, limit)
}

// batchIn reads one batch of scope in a transaction of its own.
func (e *cenv[TX]) batchIn(after core.Cursor, scope core.ConsumerScope, limit int) core.ConsumerBatch {
	e.t.Helper()
	x := e.begin("reader")
	defer x.mustRollback()
	return x.mustBatchIn(after, scope, limit)
}

// drain reads batches from after, each in a transaction of its own, until
// a batch read outside a page comes back short of limit (everything
// committed before it is delivered), and returns their events and the last
// Next. A short page only ends its diff; the next batch reads a new one.
// It fails the case when the batches do not end.
func (e *cenv[TX]) drain(after core.Cursor, types []string, limit int) ([]core.PersistedEvent, core.Cursor) {
	e.t.Helper()
	return e.drainIn(after, core.ConsumerScope{AggregateTypes: types}, limit)
}

// drainIn is drain of scope.
func (e *cenv[TX]) drainIn(after core.Cursor, scope core.ConsumerScope, limit int) ([]core.PersistedEvent, core.Cursor) {
	e.t.Helper()
	var out []core.PersistedEvent
	for range 10_000 {
		paging := after.Paging()
		b := e.batchIn(after, scope, limit)
		out = append(out, b.Events...)
		after = b.Next
		if len(b.Events) < limit {
			if after.Paging() {
				e.t.Fatalf("a short batch (%d of %d) left the cursor paging: %s", len(b.Events), limit, after)
			}
			if !paging {
				return out, after
			}
		}
	}
	e.t.Fatalf("batches after %s did not end", after)
	return nil, core.Cursor{}
}

// ids returns the event ids of events, for messages and comparisons.
func ids(events []core.PersistedEvent) []string {
	out := make([]string, len(events))
	for i, ev := range events {
		out[i] = ev.EventID.String()
	}
	return out
}

// sameEvents reports whether got holds exactly the events of want, in
// want's order.
func sameEvents(got []core.PersistedEvent, want ...core.PersistedEvent) bool {
	return slices.Equal(ids(got), ids(want))
}

// byPosition returns the events sorted by GlobalPosition.
func byPosition(events ...[]core.PersistedEvent) []core.PersistedEvent {
	var out []core.PersistedEvent
	for _, evs := range events {
		out = append(out, evs...)
	}
	slices.SortFunc(out, func(a, b core.PersistedEvent) int { return cmp.Compare(a.GlobalPosition, b.GlobalPosition) })
	return out
}

// waitResult is what a call run on another goroutine returned, and whether
// the flag the case sets just before releasing a lock was set by then.
type waitResult struct {
	err   error
	after bool
}

// untilWaiting returns once x's call, running on another goroutine with its
// result on done, waits for a lock another transaction holds (see
// LockWaitFunc). It fails the case when the call returns first.
func (e *cenv[TX]) untilWaiting(x *ctxn[TX], done <-chan waitResult, what string) {
	e.t.Helper()
	untilBlocked(e.t, e.ctx, e.inst.AwaitLockWait, "ConsumerStoreInstance", x.tx, done, what)
}

// async runs fn on a new goroutine; see waitResult.
func async(flag *atomic.Bool, fn func() error) <-chan waitResult {
	ch := make(chan waitResult, 1)
	go func() {
		err := fn()
		ch <- waitResult{err: err, after: flag.Load()}
	}()
	return ch
}

// awaitResult receives a result, failing the case when its context ends
// first.
func (e *cenv[TX]) awaitResult(ch <-chan waitResult, what string) waitResult {
	e.t.Helper()
	select {
	case r := <-ch:
		return r
	case <-e.ctx.Done():
		e.t.Fatalf("%s: no result before the case's deadline: %v", what, e.ctx.Err())
		return waitResult{}
	}
}
