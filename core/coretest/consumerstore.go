package coretest

import (
	"context"
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
// consumer runtime's storage port, against the adapter h drives: checkpoint
// leases (claims that skip locked rows and never wait, saves visible on
// commit only, SetCheckpoint waiting for a running batch), batches read
// below the frontier from one snapshot, scoped reads and counts, frontier
// holders, the transaction order and its recovery, and Listen. Every case is
// a named parallel subtest on its own instance; RunConsumerStore returns
// when all have finished.
//
// On PostgreSQL the frontier is the whole cluster's: any transaction holding
// an id, in any database, holds it back. The suite never asserts that the
// frontier has passed an event at a given moment; it waits (with a
// deadline) until it has, so that other tests running on the same server
// only slow it down.
func RunConsumerStore[TX any](t *testing.T, h ConsumerStoreHarness[TX]) {
	t.Helper()
	if h.NewInstance == nil {
		t.Fatal("coretest: ConsumerStoreHarness needs NewInstance")
	}
	t.Skip("the v2 suite is being written")
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

// frontierWait bounds how long a case waits for the frontier to pass the
// events it committed, which other transactions on a shared PostgreSQL
// server may hold back for a while.
const frontierWait = 60 * time.Second

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
	b, err := x.e.cs.ReadConsumerBatch(x.e.ctx, x.tx, after, types, limit)
	if err != nil {
		x.e.t.Fatalf("%s: reading the batch after %s (types %v, limit %d): %v", x.name, after, types, limit, err)
	}
	return b
}

func (x *ctxn[TX]) mustOrder() core.OrderStatus {
	x.e.t.Helper()
	st, err := x.e.cs.TransactionOrder(x.e.ctx, x.tx)
	if err != nil {
		x.e.t.Fatalf("%s: reading the transaction order: %v", x.name, err)
	}
	return st
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

// hasAll reports whether events hold, in order and contiguously from the
// first, the events with the ids of want.
func hasAll(events []core.PersistedEvent, want ...core.PersistedEvent) bool {
	if len(events) < len(want) {
		return false
	}
	for i := range want {
		if events[i].EventID != want[i].EventID {
			return false
		}
	}
	return true
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
