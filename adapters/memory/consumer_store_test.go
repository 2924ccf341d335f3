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

// committedCheckpoints returns the checkpoints and held flags a fresh
// transaction sees.
func committedCheckpoints(t *testing.T, s *Store) ([]core.Checkpoint, []bool) {
	t.Helper()
	tx := mustBegin(t, s)
	defer tx.Rollback()
	cps, held, err := s.Checkpoints(t.Context(), tx)
	if err != nil {
		t.Fatal(err)
	}
	return cps, held
}

// setAsync runs SetCheckpoint on a new goroutine.
func setAsync(s *Store, ctx context.Context, tx *Tx, consumer string, at core.Cursor) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- s.SetCheckpoint(ctx, tx, consumer, at) }()
	return ch
}

func TestClaimCheckpointSkipsLockedRows(t *testing.T) {
	t.Parallel()
	s := NewStore()
	creator, other := mustBegin(t, s), mustBegin(t, s)
	cp, claimed := mustClaim(t, s, creator, "c")
	if !claimed || cp.ConsumerName != "c" || cp.Cursor != (core.Cursor{}) || cp.UpdatedAt.IsZero() {
		t.Fatalf("first claim: %+v, claimed %v; want a new checkpoint at the start", cp, claimed)
	}
	if _, claimed := mustClaim(t, s, creator, "c"); !claimed {
		t.Error("claiming a row the transaction holds: not claimed")
	}
	if _, claimed := mustClaim(t, s, other, "c"); claimed {
		t.Error("claimed a row another transaction is creating")
	}
	if cps, _ := committedCheckpoints(t, s); len(cps) != 0 {
		t.Errorf("uncommitted checkpoint seen by others: %+v", cps)
	}
	mustCommit(t, creator)

	if _, claimed := mustClaim(t, s, other, "c"); !claimed {
		t.Fatal("row free after its creator committed: not claimed")
	}
	third := mustBegin(t, s)
	if _, claimed := mustClaim(t, s, third, "c"); claimed {
		t.Error("claimed a row another transaction holds")
	}
	cps, held := committedCheckpoints(t, s)
	if len(cps) != 1 || !held[0] {
		t.Fatalf("checkpoints %+v held %v; want c, held", cps, held)
	}
	// The holder does not see its own lease as held by another.
	if _, held, err := s.Checkpoints(t.Context(), other); err != nil || held[0] {
		t.Errorf("holder's view: held %v, %v", held, err)
	}
	if err := other.Rollback(); err != nil {
		t.Fatal(err)
	}
	if _, held := committedCheckpoints(t, s); held[0] {
		t.Error("held after the holder rolled back")
	}
	if _, claimed := mustClaim(t, s, third, "c"); !claimed {
		t.Error("row free after rollback: not claimed")
	}
}

func TestRolledBackCreationLeavesNoCheckpoint(t *testing.T) {
	t.Parallel()
	s := NewStore()
	tx := mustBegin(t, s)
	mustClaim(t, s, tx, "c")
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if cps, _ := committedCheckpoints(t, s); len(cps) != 0 {
		t.Fatalf("checkpoints after a rolled-back creation: %+v", cps)
	}
	if _, claimed := mustClaim(t, s, mustBegin(t, s), "c"); !claimed {
		t.Error("not claimed after the creator rolled back")
	}
}

func TestSaveCheckpointIsVisibleOnCommitOnly(t *testing.T) {
	t.Parallel()
	at := time.Date(2030, 1, 2, 3, 4, 5, 6789, time.UTC)
	s := NewStore(WithClock(func() time.Time { return at }))
	ctx := t.Context()
	tx := mustBegin(t, s)
	mustClaim(t, s, tx, "c")
	mustCommit(t, tx)

	tx = mustBegin(t, s)
	cp, _ := mustClaim(t, s, tx, "c")
	cp.Cursor = core.Cursor{TransactionOrder: 5, GlobalPosition: 3}
	cp.Owner, cp.FailedAttempts, cp.LastError, cp.LastErrorPosition = "host/1", 2, "boom", 3
	cp.LastErrorAt = time.Date(2030, 1, 1, 0, 0, 0, 1999, time.FixedZone("X", 3600))
	if err := s.SaveCheckpoint(ctx, tx, cp); err != nil {
		t.Fatal(err)
	}
	if cps, _ := committedCheckpoints(t, s); cps[0].Cursor != (core.Cursor{}) {
		t.Errorf("uncommitted save seen by another transaction: %+v", cps[0])
	}
	own, _, err := s.Checkpoints(ctx, tx)
	if err != nil || own[0].Cursor != cp.Cursor {
		t.Errorf("own view %+v, %v; want the saved cursor", own, err)
	}
	mustCommit(t, tx)

	got, _ := committedCheckpoints(t, s)
	want := cp
	want.UpdatedAt = at.Truncate(time.Microsecond)
	want.LastErrorAt = cp.LastErrorAt.UTC().Truncate(time.Microsecond)
	if got[0] != want {
		t.Errorf("committed checkpoint\n %+v\nwant\n %+v", got[0], want)
	}

	tx = mustBegin(t, s)
	mustClaim(t, s, tx, "c")
	if err := s.SaveCheckpoint(ctx, tx, core.Checkpoint{ConsumerName: "c", Cursor: core.Cursor{TransactionOrder: 9}}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if got, _ := committedCheckpoints(t, s); got[0] != want {
		t.Errorf("after a rolled-back save: %+v, want %+v", got[0], want)
	}
}

func TestSetCheckpointWaitsForTheHolder(t *testing.T) {
	t.Parallel()
	s := NewStore()
	ctx := t.Context()
	batch := mustBegin(t, s)
	cp, _ := mustClaim(t, s, batch, "c")
	cp.Cursor = core.Cursor{TransactionOrder: 7, GlobalPosition: 7}
	cp.FailedAttempts, cp.StoppedAt, cp.LastError = 3, time.Now(), "boom"
	if err := s.SaveCheckpoint(ctx, batch, cp); err != nil {
		t.Fatal(err)
	}

	op := mustBegin(t, s)
	done := setAsync(s, ctx, op, "c", core.Cursor{})
	untilWaiting(t, s, op)
	mustCommit(t, batch)
	if err := receive(t, done); err != nil {
		t.Fatalf("SetCheckpoint: %v", err)
	}
	mustCommit(t, op)

	got, _ := committedCheckpoints(t, s)
	if c := got[0]; c.Cursor != (core.Cursor{}) || c.FailedAttempts != 0 || !c.StoppedAt.IsZero() || c.LastError != "boom" {
		t.Errorf("after SetCheckpoint: %+v; want the start, no failures, not stopped, last error kept", c)
	}
}

func TestSetCheckpointCreatesAfterACreatorRollsBack(t *testing.T) {
	t.Parallel()
	s := NewStore()
	creator, op := mustBegin(t, s), mustBegin(t, s)
	mustClaim(t, s, creator, "c")
	at := core.Cursor{TransactionOrder: 4, GlobalPosition: 2}
	done := setAsync(s, t.Context(), op, "c", at)
	untilWaiting(t, s, op)
	if err := creator.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := receive(t, done); err != nil {
		t.Fatalf("SetCheckpoint: %v", err)
	}
	mustCommit(t, op)
	if got, _ := committedCheckpoints(t, s); len(got) != 1 || got[0].Cursor != at {
		t.Errorf("checkpoints %+v, want c at %s", got, at)
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

func TestCheckpointLocksDeadlock(t *testing.T) {
	t.Parallel()
	s := NewStore()
	a, b := mustBegin(t, s), mustBegin(t, s)
	mustClaim(t, s, a, "a")
	mustClaim(t, s, b, "b")
	done := setAsync(s, t.Context(), a, "b", core.Cursor{})
	untilWaiting(t, s, a)
	if err := s.SetCheckpoint(t.Context(), b, "a", core.Cursor{}); !errors.Is(err, ErrDeadlock) {
		t.Fatalf("second waiter: %v, want ErrDeadlock", err)
	}
	if err := b.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := receive(t, done); err != nil {
		t.Errorf("first waiter after the deadlock victim rolled back: %v", err)
	}
}

func TestClaimGivesATransactionIDThatHoldsTheFrontier(t *testing.T) {
	t.Parallel()
	s := NewStore()
	ctx := t.Context()
	reader, batch := mustBegin(t, s), mustBegin(t, s)
	if _, err := s.ReadConsumerBatch(ctx, reader, core.Cursor{}, nil, 10); err != nil {
		t.Fatal(err)
	}
	if h, err := s.FrontierHolders(ctx, reader); err != nil || len(h) != 0 {
		t.Fatalf("reading holds no id: holders %+v, %v", h, err)
	}
	mustClaim(t, s, batch, "c")
	writer := mustBegin(t, s)
	mustAppend(t, s, writer, core.NoStream(), newEvent("Order", "1")) // id 2
	mustCommit(t, writer)
	if f, err := s.Frontier(ctx, reader); err != nil || f != 1 {
		t.Errorf("frontier %d (%v), want the claiming transaction's id 1", f, err)
	}
	holders, err := s.FrontierHolders(ctx, reader)
	if err != nil || len(holders) != 1 {
		t.Fatalf("holders %+v, %v; want the claiming transaction", holders, err)
	}
	if h := holders[0]; h.TransactionID != 1 || h.Started != batch.started || h.State != "idle in transaction" || h.Application != "memory" {
		t.Errorf("holder %+v", h)
	}
	// The claiming transaction's own batch stops below its own id.
	b, err := s.ReadConsumerBatch(ctx, batch, core.Cursor{}, nil, 10)
	if err != nil || b.Frontier != 1 || len(b.Events) != 0 {
		t.Errorf("batch %+v, %v; want none below frontier 1", b, err)
	}
	mustCommit(t, batch)
	if f := s.frontier(); f != 3 {
		t.Errorf("nothing in progress: frontier %d, want 3", f)
	}
}

func TestFrontierHolderStates(t *testing.T) {
	t.Parallel()
	s := NewStore()
	ctx := t.Context()
	holder, waiter, failed := mustBegin(t, s), mustBegin(t, s), mustBegin(t, s)
	mustClaim(t, s, holder, "c")
	mustClaim(t, s, waiter, "d")
	done := setAsync(s, ctx, waiter, "c", core.Cursor{})
	untilWaiting(t, s, waiter)
	// An aborted transaction has ended its transaction id, as on
	// PostgreSQL (no backend_xid): it is no holder.
	placed := newEvent("Order", "1")
	mustAppend(t, s, failed, core.NoStream(), placed)
	if _, err := s.Append(ctx, failed, core.Any(), []core.Event{placed}); !errors.Is(err, core.ErrDuplicateEvent) {
		t.Fatalf("the same event id twice: %v, want ErrDuplicateEvent", err)
	}
	holders, err := s.FrontierHolders(ctx, mustBegin(t, s))
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, h := range holders {
		states = append(states, h.State)
	}
	if want := []string{"idle in transaction", "active"}; !slices.Equal(states, want) {
		t.Errorf("states %q, want %q", states, want)
	}
	mustCommit(t, holder)
	if err := receive(t, done); err != nil {
		t.Fatal(err)
	}
}

func TestReadConsumerBatchFollowsTheCursorBelowTheFrontier(t *testing.T) {
	t.Parallel()
	s := NewStore()
	ctx := t.Context()
	older, younger := mustBegin(t, s), mustBegin(t, s)
	a := mustAppend(t, s, older, core.NoStream(), newEvent("Order", "a"))  // id 1, position 1
	b := mustAppend(t, s, younger, core.NoStream(), newEvent("User", "b")) // id 2, position 2
	mustCommit(t, younger)
	reader := mustBegin(t, s)
	batch, err := s.ReadConsumerBatch(ctx, reader, core.Cursor{}, nil, 10)
	if err != nil || batch.Frontier != 1 || len(batch.Events) != 0 {
		t.Fatalf("batch %+v, %v; want nothing below the open transaction's id 1", batch, err)
	}
	if n, err := s.CountEventsAfter(ctx, reader, core.Cursor{}, nil); err != nil || n != 1 {
		t.Errorf("count %d (%v), want the committed event above the frontier", n, err)
	}
	c := mustAppend(t, s, older, core.Exact(1), newEvent("Order", "a")) // position 3, order 1
	mustCommit(t, older)

	batch, err = s.ReadConsumerBatch(ctx, reader, core.Cursor{}, nil, 10)
	if err != nil || batch.Frontier != 3 {
		t.Fatalf("batch %+v, %v; want frontier 3", batch, err)
	}
	var got []int64
	for _, e := range batch.Events {
		got = append(got, e.GlobalPosition)
	}
	// Cursor order, not position order: (1,1), (1,3), (2,2).
	if want := []int64{a.GlobalPositions[0], c.GlobalPositions[0], b.GlobalPositions[0]}; !slices.Equal(got, want) {
		t.Errorf("positions %v, want %v", got, want)
	}
	batch, _ = s.ReadConsumerBatch(ctx, reader, core.CursorOf(c.Events[0]), []string{"Order"}, 10)
	if len(batch.Events) != 0 {
		t.Errorf("Order events after the last one: %d", len(batch.Events))
	}
	batch, _ = s.ReadConsumerBatch(ctx, reader, core.Cursor{}, []string{"User"}, 10)
	if len(batch.Events) != 1 || batch.Events[0].EventID != b.Events[0].EventID {
		t.Errorf("User events: %+v", batch.Events)
	}
	batch, _ = s.ReadConsumerBatch(ctx, reader, core.Cursor{}, nil, 2)
	if len(batch.Events) != 2 || batch.Frontier != 3 {
		t.Errorf("limit 2: %d events, frontier %d", len(batch.Events), batch.Frontier)
	}
	if n, _ := s.CountEventsAfter(ctx, reader, core.CursorOf(a.Events[0]), []string{"Order"}); n != 1 {
		t.Errorf("Order events after the first: %d, want 1", n)
	}
	if _, err := s.ReadConsumerBatch(ctx, reader, core.Cursor{}, nil, 0); !errors.Is(err, core.ErrInvalidArgument) {
		t.Errorf("limit 0: %v, want ErrInvalidArgument", err)
	}
}

func TestOwnEventsAreNeverInTheBatch(t *testing.T) {
	t.Parallel()
	s := NewStore()
	ctx := t.Context()
	tx := mustBegin(t, s)
	mustAppend(t, s, tx, core.NoStream(), newEvent("Order", "1"))
	batch, err := s.ReadConsumerBatch(ctx, tx, core.Cursor{}, nil, 10)
	if err != nil || batch.Frontier != 1 || len(batch.Events) != 0 {
		t.Errorf("own batch %+v, %v; want frontier at its own id 1, no events", batch, err)
	}
	if n, _ := s.CountEventsAfter(ctx, tx, core.Cursor{}, nil); n != 1 {
		t.Errorf("own count %d, want its own event", n)
	}
}

func TestOrderOffsetRecoversARestoredLog(t *testing.T) {
	t.Parallel()
	s := NewStore()
	ctx := t.Context()
	for range 5 {
		tx := mustBegin(t, s)
		mustAppend(t, s, tx, core.Any(), newEvent("Order", "1"))
		mustCommit(t, tx)
	}
	// A cursor at the frontier sits above every event.
	op := mustBegin(t, s)
	if err := s.SetCheckpoint(ctx, op, "c", core.Cursor{TransactionOrder: s.frontier()}); err != nil {
		t.Fatal(err)
	}
	mustCommit(t, op) // id 6
	status := func(tx *Tx) core.OrderStatus {
		t.Helper()
		st, err := s.TransactionOrder(ctx, tx)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	if st := status(mustBegin(t, s)); st != (core.OrderStatus{StoredMax: 6, Current: 7}) || st.Moved() {
		t.Fatalf("before the restore: %+v", st)
	}

	busy := mustBegin(t, s)
	mustClaim(t, s, busy, "c")
	if err := s.SetNextTransactionID(2); err == nil {
		t.Error("SetNextTransactionID with a transaction holding an id succeeded")
	}
	if err := busy.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := s.SetNextTransactionID(2); err != nil {
		t.Fatal(err)
	}
	if st := status(mustBegin(t, s)); !st.Moved() || st.Current != 2 {
		t.Fatalf("after the restore: %+v, want moved", st)
	}

	fix, other := mustBegin(t, s), mustBegin(t, s)
	st, err := s.RaiseOrderOffset(ctx, fix) // takes id 2
	if err != nil || st.Moved() || st != (core.OrderStatus{StoredMax: 6, Current: 7, Offset: 4}) {
		t.Fatalf("RaiseOrderOffset: %+v, %v", st, err)
	}
	if st := status(other); !st.Moved() {
		t.Errorf("uncommitted raise seen by another transaction: %+v", st)
	}
	mustCommit(t, fix)
	if st := status(other); st.Moved() || st.Offset != 4 {
		t.Errorf("after the raise committed: %+v", st)
	}
	if f := s.frontier(); f != 7 {
		t.Errorf("frontier %d, want next id 3 + offset 4", f)
	}
	tx := mustBegin(t, s)
	res := mustAppend(t, s, tx, core.Any(), newEvent("Order", "2")) // id 3
	if res.Events[0].TransactionOrder != 7 {
		t.Errorf("order after the raise: %d, want id 3 + offset 4", res.Events[0].TransactionOrder)
	}
	mustCommit(t, tx)
	again := mustBegin(t, s)
	if st, err := s.RaiseOrderOffset(ctx, again); err != nil || st.Offset != 4 {
		t.Errorf("raising again: %+v, %v; want the offset unchanged", st, err)
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

func TestListenWakesOnCommitsThatAppend(t *testing.T) {
	t.Parallel()
	s := NewStore()
	ctx, cancel := context.WithCancel(t.Context())
	wakes := make(chan struct{}, 10)
	done := make(chan error, 1)
	go func() { done <- s.Listen(ctx, func() { wakes <- struct{}{} }) }()
	next := func(what string) {
		t.Helper()
		select {
		case <-wakes:
		case <-time.After(10 * time.Second):
			t.Fatalf("no wakeup %s", what)
		}
	}
	next("at the start")
	tx := mustBegin(t, s)
	mustAppend(t, s, tx, core.NoStream(), newEvent("Order", "1"))
	mustCommit(t, tx)
	next("after a commit")
	tx = mustBegin(t, s)
	mustAppend(t, s, tx, core.Any(), newEvent("Order", "1"))
	mustCommit(t, tx)
	next("after a second commit")
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
	if n, _ := s.CountEventsAfter(t.Context(), mustBegin(t, s), core.Cursor{}, nil); n != 0 {
		t.Errorf("%d events after the cancelled commit", n)
	}
}
