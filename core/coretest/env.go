package coretest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chronicle-go/chronicle/core"
	"github.com/google/uuid"
)

// caseTimeout bounds every operation of a case, so that an adapter that
// deadlocks fails the case instead of hanging the test binary.
const caseTimeout = 2 * time.Minute

// env is one case's store and the means to drive it.
type env[TX any] struct {
	t     *testing.T
	h     Harness[TX]
	inst  Instance[TX]
	store core.Store[TX]
	ctx   context.Context
}

func newEnv[TX any](t *testing.T, h Harness[TX]) *env[TX] {
	t.Helper()
	inst := h.NewInstance(t)
	if inst.Store == nil || inst.Begin == nil {
		t.Fatal("coretest: Instance needs Store and Begin")
	}
	ctx, cancel := context.WithTimeout(t.Context(), caseTimeout)
	t.Cleanup(cancel)
	return &env[TX]{t: t, h: h, inst: inst, store: inst.Store, ctx: ctx}
}

// txn is a transaction of a case. Its must* methods fail the case and may
// only be called from the case's goroutine; the others return errors and
// are safe from any goroutine.
type txn[TX any] struct {
	e    *env[TX]
	tx   TX
	name string
	// ended is set once Commit or Rollback was called, so the cleanup does
	// not roll back a finished transaction.
	ended atomic.Bool
}

// begin starts a transaction that is rolled back when the case ends unless
// it was ended before: a failing case must not leave locks behind.
func (e *env[TX]) begin(name string) *txn[TX] {
	e.t.Helper()
	tx, err := e.inst.Begin(e.ctx)
	if err != nil {
		e.t.Fatalf("beginning transaction %s: %v", name, err)
	}
	x := &txn[TX]{e: e, tx: tx, name: name}
	e.t.Cleanup(func() {
		if x.ended.Load() {
			return
		}
		// The case's context is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = e.h.Rollback(ctx, x.tx)
	})
	return x
}

func (x *txn[TX]) append(expected core.ExpectedVersion, events ...core.Event) (core.AppendResult, error) {
	return x.e.store.Append(x.e.ctx, x.tx, expected, events)
}

func (x *txn[TX]) mustAppend(expected core.ExpectedVersion, events ...core.Event) core.AppendResult {
	x.e.t.Helper()
	res, err := x.append(expected, events...)
	if err != nil {
		x.e.t.Fatalf("%s: appending %d event(s) with %s: %v", x.name, len(events), expected, err)
	}
	if len(res.Events) != len(events) || len(res.GlobalPositions) != len(events) {
		x.e.t.Fatalf("%s: appending %d event(s): result has %d events and %d positions", x.name, len(events), len(res.Events), len(res.GlobalPositions))
	}
	return res
}

// commit and rollback return the adapter's error; they are safe from any
// goroutine.
func (x *txn[TX]) commit() error {
	x.ended.Store(true)
	return x.e.h.Commit(x.e.ctx, x.tx)
}

func (x *txn[TX]) rollback() error {
	x.ended.Store(true)
	return x.e.h.Rollback(x.e.ctx, x.tx)
}

func (x *txn[TX]) mustCommit() {
	x.e.t.Helper()
	if err := x.commit(); err != nil {
		x.e.t.Fatalf("committing %s: %v", x.name, err)
	}
}

func (x *txn[TX]) mustRollback() {
	x.e.t.Helper()
	if err := x.rollback(); err != nil {
		x.e.t.Fatalf("rolling back %s: %v", x.name, err)
	}
}

func (x *txn[TX]) readStream(a agg, from, to *int64) (core.Stream, error) {
	return x.e.store.ReadAggregateStream(x.e.ctx, x.tx, a.typ, a.id, from, to)
}

func (x *txn[TX]) mustStream(a agg, from, to *int64) core.Stream {
	x.e.t.Helper()
	s, err := x.readStream(a, from, to)
	if err != nil {
		x.e.t.Fatalf("%s: reading stream %s [%s, %s]: %v", x.name, a, bound(from), bound(to), err)
	}
	if s.AggregateType != a.typ || s.AggregateID != a.id {
		x.e.t.Errorf("%s: reading stream %s: Stream names %s/%s", x.name, a, s.AggregateType, s.AggregateID)
	}
	return s
}

// mustAll reads an aggregate's whole stream.
func (x *txn[TX]) mustAll(a agg) core.Stream {
	x.e.t.Helper()
	return x.mustStream(a, nil, nil)
}

func (x *txn[TX]) readEvents(from int64, limit int) ([]core.PersistedEvent, error) {
	return x.e.store.ReadEvents(x.e.ctx, x.tx, from, limit)
}

func (x *txn[TX]) mustEvents(from int64, limit int) []core.PersistedEvent {
	x.e.t.Helper()
	evs, err := x.readEvents(from, limit)
	if err != nil {
		x.e.t.Fatalf("%s: reading events after %d (limit %d): %v", x.name, from, limit, err)
	}
	if len(evs) > limit {
		x.e.t.Fatalf("%s: reading events after %d (limit %d): got %d", x.name, from, limit, len(evs))
	}
	return evs
}

func (x *txn[TX]) mustLatest() int64 {
	x.e.t.Helper()
	p, err := x.e.store.GetLatestGlobalPosition(x.e.ctx, x.tx)
	if err != nil {
		x.e.t.Fatalf("%s: reading the latest global position: %v", x.name, err)
	}
	return p
}

// outcome is what an append run on another goroutine returned.
type outcome struct {
	res core.AppendResult
	err error
	// after is the value of the observed flag when the append returned.
	after bool
}

// appendAsync runs an append on a new goroutine; its outcome arrives on the
// returned channel. The outcome records whether flag was set when the append
// returned: a case sets flag just before it ends a transaction the append
// must wait for, so that "returned after the other transaction ended" is
// checked without depending on timing. flag may be nil.
func (x *txn[TX]) appendAsync(flag *atomic.Bool, expected core.ExpectedVersion, events ...core.Event) <-chan outcome {
	ch := make(chan outcome, 1)
	go func() {
		res, err := x.append(expected, events...)
		ch <- outcome{res: res, err: err, after: flag != nil && flag.Load()}
	}()
	return ch
}

// await receives an outcome, failing the case when the case's context ends
// first (an adapter that never releases a waiter).
func (e *env[TX]) await(ch <-chan outcome, what string) outcome {
	e.t.Helper()
	select {
	case o := <-ch:
		return o
	case <-e.ctx.Done():
		e.t.Fatalf("%s: no result before the case's deadline: %v", what, e.ctx.Err())
		return outcome{}
	}
}

// untilWaiting returns once x's append, running on another goroutine with
// its outcome on ch, waits for a lock another transaction holds (see
// LockWaitFunc). It fails the case when the append returns first: it did
// not wait.
func (e *env[TX]) untilWaiting(x *txn[TX], ch <-chan outcome, what string) {
	e.t.Helper()
	untilBlocked(e.t, e.ctx, e.inst.AwaitLockWait, "Instance", x.tx, ch, what)
}

// untilBlocked is untilWaiting for any operation whose result arrives on
// done. holder names the struct that provides hook, for the message when it
// is nil.
//
// While the operation runs the case must not stop: its cleanup would roll
// the transaction back under the running statement. So when the wait
// cannot be observed (no hook, or the hook fails) the case is marked failed
// and goes on, ending the holder and collecting the operation as it would;
// only an operation that has returned already stops it.
func untilBlocked[TX, R any](t *testing.T, ctx context.Context, hook LockWaitFunc[TX], holder string, tx TX, done <-chan R, what string) {
	t.Helper()
	if hook == nil {
		t.Errorf("coretest: %s.AwaitLockWait is nil: this case must see %s wait for a lock before it ends the holder; the adapter's harness must provide it (see coretest.LockWaitFunc)", holder, what)
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	waited := make(chan error, 1)
	go func() { waited <- hook(ctx, tx) }()
	select {
	case err := <-waited:
		if err != nil {
			t.Errorf("%s: no lock wait seen: %v", what, err)
		}
	case r := <-done:
		t.Fatalf("%s returned (%+v) while another transaction held what it needs: it must wait for that transaction", what, r)
	}
}

// agg names an aggregate. Ids are unique, so cases never collide even on a
// store shared by mistake.
type agg struct{ typ, id string }

func newAgg(typ string) agg { return agg{typ: typ, id: typ + "-" + uuid.NewString()} }

func (a agg) String() string { return a.typ + "/" + a.id }

// event returns a minimal valid event of a.
func (a agg) event(eventType string) core.Event {
	return core.Event{
		AggregateType: a.typ,
		AggregateID:   a.id,
		EventID:       uuid.New(),
		EventType:     eventType,
		Payload:       []byte(`{"type":"` + eventType + `"}`),
	}
}

// events returns n minimal valid events of a.
func (a agg) events(n int) []core.Event {
	evs := make([]core.Event, n)
	for i := range evs {
		evs[i] = a.event(fmt.Sprintf("Happened%d", i+1))
	}
	return evs
}

func bound(v *int64) string {
	if v == nil {
		return "nil"
	}
	return fmt.Sprint(*v)
}
