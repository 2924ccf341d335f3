package memory

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/chronicle-go/chronicle/core"
)

func mustClaim(t *testing.T, s *Store, tx *Tx, consumer string) (core.Checkpoint, bool) {
	t.Helper()
	cp, claimed, err := s.ClaimCheckpoint(t.Context(), tx, consumer)
	if err != nil {
		t.Fatalf("claiming %q: %v", consumer, err)
	}
	return cp, claimed
}

func mustCommit(t *testing.T, tx *Tx) {
	t.Helper()
	if err := tx.Commit(); err != nil {
		t.Fatalf("committing: %v", err)
	}
}

// snapshot returns the current snapshot a new transaction sees.
func snapshot(t *testing.T, s *Store) string {
	t.Helper()
	tx := mustBegin(t, s)
	defer tx.Rollback()
	snap, err := s.CurrentSnapshot(t.Context(), tx)
	if err != nil {
		t.Fatal(err)
	}
	return snap.String()
}

// setAsync runs SetCheckpoint on a new goroutine.
func setAsync(s *Store, ctx context.Context, tx *Tx, consumer string, at core.Cursor) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- s.SetCheckpoint(ctx, tx, consumer, at) }()
	return ch
}

func TestTransactionIDsAreTakenAtTheFirstWrite(t *testing.T) {
	t.Parallel()
	s := NewStore()
	ctx := t.Context()
	if got := snapshot(t, s); got != "1:1:" {
		t.Fatalf("new store: snapshot %s, want 1:1:", got)
	}
	batch, writer, op := mustBegin(t, s), mustBegin(t, s), mustBegin(t, s)
	mustClaim(t, s, batch, "c")
	if _, err := s.ReadConsumerBatch(ctx, batch, core.Cursor{}, core.ConsumerScope{}, 10); err != nil {
		t.Fatal(err)
	}
	if got := snapshot(t, s); got != "1:1:" {
		t.Errorf("after a claim and a batch: snapshot %s, want 1:1: (no id taken)", got)
	}
	res := mustAppend(t, s, writer, core.NoStream(), newEvent("Order", "1"))
	if id := res.Events[0].TransactionID; id != 1 {
		t.Errorf("the first writer's TransactionID %d, want 1", id)
	}
	if err := s.SaveCheckpoint(ctx, batch, core.Checkpoint{ConsumerName: "c"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetCheckpoint(ctx, op, "d", core.Cursor{}); err != nil {
		t.Fatal(err)
	}
	if got := snapshot(t, s); got != "1:4:1,2,3" {
		t.Errorf("with an appender, a saver and a setter running: snapshot %s, want 1:4:1,2,3", got)
	}
	// The caller's own id is listed as running.
	if own, err := s.CurrentSnapshot(ctx, batch); err != nil || own.String() != "1:4:1,2,3" {
		t.Errorf("the saver's own snapshot %s (%v), want 1:4:1,2,3", own, err)
	}
	mustCommit(t, writer)
	if got := snapshot(t, s); got != "2:4:2,3" {
		t.Errorf("after the appender committed: snapshot %s, want 2:4:2,3", got)
	}
	mustCommit(t, batch)
	mustCommit(t, op)
	if got := snapshot(t, s); got != "4:4:" {
		t.Errorf("nothing running: snapshot %s, want 4:4:", got)
	}
}

func TestDeleteOfAMissingCheckpointTakesNoID(t *testing.T) {
	t.Parallel()
	s := NewStore()
	tx := mustBegin(t, s)
	if deleted, err := s.DeleteCheckpoint(t.Context(), tx, "never"); err != nil || deleted {
		t.Fatalf("DeleteCheckpoint of a missing checkpoint: %v, %v", deleted, err)
	}
	if got := snapshot(t, s); got != "1:1:" {
		t.Errorf("after a delete that deleted nothing: snapshot %s, want 1:1:", got)
	}
}

func TestConflictedTransactionKeepsItsIDUntilItEnds(t *testing.T) {
	t.Parallel()
	s := NewStore()
	tx := mustBegin(t, s)
	mustAppend(t, s, tx, core.NoStream(), newEvent("Order", "1"))
	if _, err := s.Append(t.Context(), tx, core.NoStream(), []core.Event{newEvent("Order", "1")}); !errors.Is(err, core.ErrOptimisticConcurrency) {
		t.Fatalf("NoStream twice: %v, want a conflict", err)
	}
	if got := snapshot(t, s); got != "1:2:1" {
		t.Errorf("transaction 1 after its conflict: snapshot %s, want 1:2:1 (it goes on)", got)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if got := snapshot(t, s); got != "2:2:" {
		t.Errorf("after rollback: snapshot %s, want 2:2:", got)
	}
}

func TestAbortedTransactionEndsItsIDAtOnce(t *testing.T) {
	t.Parallel()
	s := NewStore()
	tx := mustBegin(t, s)
	placed := newEvent("Order", "1")
	mustAppend(t, s, tx, core.NoStream(), placed)
	mustClaim(t, s, tx, "c")
	if _, err := s.Append(t.Context(), tx, core.Any(), []core.Event{placed}); !errors.Is(err, core.ErrDuplicateEvent) {
		t.Fatalf("the same event id twice: %v, want ErrDuplicateEvent", err)
	}
	// PostgreSQL ends an aborted transaction's id, and its locks, at the
	// error, not at ROLLBACK.
	if got := snapshot(t, s); got != "2:2:" {
		t.Errorf("aborted transaction 1 before its rollback: snapshot %s, want 2:2:", got)
	}
	other := mustBegin(t, s)
	if _, claimed := mustClaim(t, s, other, "c"); !claimed {
		t.Error("the aborted transaction still holds its lease")
	}
}

func TestRolledBackPositionsLeaveGaps(t *testing.T) {
	t.Parallel()
	s := NewStore()
	tx := mustBegin(t, s)
	mustAppend(t, s, tx, core.NoStream(), newEvent("Order", "1"), newEvent("Order", "1"))
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	tx = mustBegin(t, s)
	res := mustAppend(t, s, tx, core.NoStream(), newEvent("Order", "1"))
	if v := res.Events[0].AggregateVersion; res.GlobalPositions[0] != 3 || v != 1 {
		t.Errorf("after a rolled-back append of two: position %d version %d, want 3 and 1", res.GlobalPositions[0], v)
	}
	if p, err := s.GetLatestGlobalPosition(t.Context(), tx); err != nil || p != 3 {
		t.Errorf("latest position %d (%v), want 3", p, err)
	}
	if len(s.log) != 1 || len(s.ids) != 1 {
		t.Errorf("rolled-back rows kept: log %d, ids %d", len(s.log), len(s.ids))
	}
}

func TestSetCheckpointDeadlineWhileWaitingAbortsTheTransaction(t *testing.T) {
	t.Parallel()
	s := NewStore()
	holder, op := mustBegin(t, s), mustBegin(t, s)
	mustClaim(t, s, holder, "c")
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := s.SetCheckpoint(ctx, op, "c", core.Cursor{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("SetCheckpoint: %v, want DeadlineExceeded", err)
	}
	if err := op.Commit(); !errors.Is(err, ErrTxAborted) {
		t.Errorf("Commit after the failed wait: %v, want ErrTxAborted", err)
	}
}

func TestLeaseWaitsDeadlock(t *testing.T) {
	t.Parallel()
	s := NewStore()
	a, b := mustBegin(t, s), mustBegin(t, s)
	mustClaim(t, s, a, "a")
	mustClaim(t, s, b, "b")
	done := setAsync(s, t.Context(), a, "b", core.Cursor{})
	untilWaiting(t, s, a)
	if _, err := s.DeleteCheckpoint(t.Context(), b, "a"); !errors.Is(err, ErrDeadlock) {
		t.Fatalf("second waiter: %v, want ErrDeadlock", err)
	}
	if err := b.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := receive(t, done); err != nil {
		t.Errorf("first waiter after the deadlock victim rolled back: %v", err)
	}
}

func TestSaveCheckpointWaitsForAnotherWriterOfTheRow(t *testing.T) {
	t.Parallel()
	s := NewStore()
	ctx := t.Context()
	first, second := mustBegin(t, s), mustBegin(t, s)
	if err := s.SaveCheckpoint(ctx, first, core.Checkpoint{ConsumerName: "c", Owner: "first"}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.SaveCheckpoint(ctx, second, core.Checkpoint{ConsumerName: "c", Owner: "second"}) }()
	untilWaiting(t, s, second)
	mustCommit(t, first)
	if err := receive(t, done); err != nil {
		t.Fatal(err)
	}
	mustCommit(t, second)
	cps, _, err := s.Checkpoints(ctx, mustBegin(t, s))
	if err != nil || len(cps) != 1 || cps[0].Owner != "second" {
		t.Errorf("checkpoints %+v (%v), want the second save", cps, err)
	}
}

func TestWriterStates(t *testing.T) {
	t.Parallel()
	s := NewStore()
	ctx := t.Context()
	holder, waiter, failed := mustBegin(t, s), mustBegin(t, s), mustBegin(t, s)
	mustClaim(t, s, holder, "c")
	if err := s.SaveCheckpoint(ctx, holder, core.Checkpoint{ConsumerName: "c"}); err != nil { // id 1
		t.Fatal(err)
	}
	if err := s.SaveCheckpoint(ctx, waiter, core.Checkpoint{ConsumerName: "d"}); err != nil { // id 2
		t.Fatal(err)
	}
	done := setAsync(s, ctx, waiter, "c", core.Cursor{})
	untilWaiting(t, s, waiter)
	// An aborted transaction has ended its transaction id, as on
	// PostgreSQL (no backend_xid): it is no writer.
	placed := newEvent("Order", "1")
	mustAppend(t, s, failed, core.NoStream(), placed) // id 3
	if _, err := s.Append(ctx, failed, core.Any(), []core.Event{placed}); !errors.Is(err, core.ErrDuplicateEvent) {
		t.Fatalf("the same event id twice: %v, want ErrDuplicateEvent", err)
	}
	writers, err := s.Writers(ctx, mustBegin(t, s), []int64{3, 2, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	want := []core.Writer{
		{TransactionID: 1, Started: dbTime(holder.started), State: "idle in transaction", Application: "memory"},
		{TransactionID: 2, Started: dbTime(waiter.started), State: "active", Application: "memory"},
	}
	if !slices.Equal(writers, want) {
		t.Errorf("writers %+v, want %+v", writers, want)
	}
	mustCommit(t, holder)
	if err := receive(t, done); err != nil {
		t.Fatal(err)
	}
}

func TestOrderOffsetAfterARestore(t *testing.T) {
	t.Parallel()
	s := NewStore()
	ctx := t.Context()
	tx := mustBegin(t, s)
	mustAppend(t, s, tx, core.NoStream(), newEvent("Order", "1")) // id 1
	mustCommit(t, tx)
	tx = mustBegin(t, s)
	if err := s.SetCheckpoint(ctx, tx, "c", core.Cursor{Snapshot: core.Snapshot{Xmin: 5, Xmax: 5}}); err != nil { // id 2
		t.Fatal(err)
	}
	mustCommit(t, tx)
	if err := s.SetNextTransactionID(1); err != nil {
		t.Fatal(err)
	}
	tx = mustBegin(t, s)
	_, err := s.Append(ctx, tx, core.Any(), []core.Event{newEvent("Order", "1")})
	var moved *core.TransactionOrderMovedError
	if !errors.As(err, &moved) || moved.Status.StoredMax != 5 || moved.Status.Current != 1 {
		t.Fatalf("append after the move: %v; want a TransactionOrderMovedError with StoredMax 5, Current 1", err)
	}
	// The refused append is a result: the transaction commits its other work.
	if err := s.SaveCheckpoint(ctx, tx, core.Checkpoint{ConsumerName: "d"}); err != nil {
		t.Fatal(err)
	}
	mustCommit(t, tx) // took id 1
	tx = mustBegin(t, s)
	st, err := s.RaiseOrderOffset(ctx, tx) // id 2
	if err != nil {
		t.Fatal(err)
	}
	// The recovering transaction's own id sorts at StoredMax.
	if st.Offset != 3 || st.Current != 6 || st.StoredMax != 5 {
		t.Errorf("RaiseOrderOffset: %+v; want offset 3, Current 6", st)
	}
	res := mustAppend(t, s, tx, core.Any(), newEvent("Order", "1"))
	if id := res.Events[0].TransactionID; id != 5 {
		t.Errorf("the recovering transaction's own append: TransactionID %d, want 5", id)
	}
	mustCommit(t, tx)
	if got := snapshot(t, s); got != "6:6:" {
		t.Errorf("after the recovery: snapshot %s, want 6:6:", got)
	}
}

func TestRaiseOrderOffsetWaitsForAnotherRaise(t *testing.T) {
	t.Parallel()
	s := NewStore()
	ctx := t.Context()
	first, second := mustBegin(t, s), mustBegin(t, s)
	if _, err := s.RaiseOrderOffset(ctx, first); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := s.RaiseOrderOffset(ctx, second)
		done <- err
	}()
	untilWaiting(t, s, second)
	mustCommit(t, first)
	if err := receive(t, done); err != nil {
		t.Fatal(err)
	}
}

func TestListenNamesTheWriters(t *testing.T) {
	t.Parallel()
	s := NewStore()
	ctx, cancel := context.WithCancel(t.Context())
	wakes := make(chan []int64, 10)
	done := make(chan error, 1)
	go func() { done <- s.Listen(ctx, func(w []int64) { wakes <- slices.Clone(w) }) }()
	next := func(what string) []int64 {
		t.Helper()
		select {
		case w := <-wakes:
			return w
		case <-time.After(10 * time.Second):
			t.Fatalf("no wakeup %s", what)
			return nil
		}
	}
	if w := next("at the start"); w != nil {
		t.Errorf("the first wakeup names %v, want nil", w)
	}
	// A commit without events wakes nobody.
	tx := mustBegin(t, s)
	if err := s.SaveCheckpoint(t.Context(), tx, core.Checkpoint{ConsumerName: "c"}); err != nil { // id 1
		t.Fatal(err)
	}
	mustCommit(t, tx)
	tx = mustBegin(t, s)
	mustAppend(t, s, tx, core.NoStream(), newEvent("Order", "1")) // id 2
	mustCommit(t, tx)
	if w := next("after a commit"); !slices.Equal(w, []int64{2}) {
		t.Errorf("wakeup after the commit of writer 2: %v", w)
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Listen returned %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Listen did not return")
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.listeners) != 0 {
		t.Errorf("%d listeners left", len(s.listeners))
	}
}

func TestOnCommitRunsOnlyOnCommitInOrder(t *testing.T) {
	t.Parallel()
	s := NewStore()
	var ran []string
	record := func(what string) func() { return func() { ran = append(ran, what) } }

	tx := mustBegin(t, s)
	tx.OnCommit(record("first"))
	tx.OnCommit(record("second"))
	mustCommit(t, tx)
	tx.OnCommit(record("after the commit"))

	rolledBack := mustBegin(t, s)
	rolledBack.OnCommit(record("rolled back"))
	if err := rolledBack.Rollback(); err != nil {
		t.Fatal(err)
	}

	aborted := mustBegin(t, s)
	placed := newEvent("Order", "1")
	mustAppend(t, s, aborted, core.NoStream(), placed)
	aborted.OnCommit(record("aborted"))
	if _, err := s.Append(t.Context(), aborted, core.Any(), []core.Event{placed}); !errors.Is(err, core.ErrDuplicateEvent) {
		t.Fatalf("the same event id twice: %v, want ErrDuplicateEvent", err)
	}
	aborted.OnCommit(record("registered after the abort"))
	if err := aborted.Commit(); !errors.Is(err, ErrTxAborted) {
		t.Fatalf("Commit: %v, want ErrTxAborted", err)
	}
	if want := []string{"first", "second"}; !slices.Equal(ran, want) {
		t.Errorf("ran %q, want %q", ran, want)
	}
}

func TestCommitWithDoneContextRollsBack(t *testing.T) {
	t.Parallel()
	s := NewStore()
	tx := mustBegin(t, s)
	mustAppend(t, s, tx, core.NoStream(), newEvent("Order", "1"))
	ran := false
	tx.OnCommit(func() { ran = true })
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Commit(ctx, tx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Commit: %v, want context.Canceled", err)
	}
	if ran {
		t.Error("OnCommit function ran")
	}
	if err := s.Rollback(t.Context(), tx); err != nil {
		t.Errorf("Rollback of the ended transaction: %v", err)
	}
	if l, _ := s.Lag(t.Context(), mustBegin(t, s), core.Cursor{}, core.ConsumerScope{}); l.Events != 0 {
		t.Errorf("%d events after the cancelled commit", l.Events)
	}
}
