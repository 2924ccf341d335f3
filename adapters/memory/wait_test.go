package memory

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/chronicle-go/chronicle/core"
)

func newEvent(typ, id string) core.Event {
	return core.Event{AggregateType: typ, AggregateID: id, EventID: uuid.New(), EventType: "Happened"}
}

func mustBegin(t *testing.T, s *Store) *Tx {
	t.Helper()
	tx, err := s.Begin(t.Context())
	if err != nil {
		t.Fatalf("beginning: %v", err)
	}
	t.Cleanup(func() { _ = tx.Rollback() })
	return tx
}

func mustAppend(t *testing.T, s *Store, tx *Tx, expected core.ExpectedVersion, events ...core.Event) core.AppendResult {
	t.Helper()
	res, err := s.Append(t.Context(), tx, expected, events)
	if err != nil {
		t.Fatalf("appending: %v", err)
	}
	return res
}

// appendAsync runs an append on a new goroutine.
func appendAsync(s *Store, ctx context.Context, tx *Tx, expected core.ExpectedVersion, events ...core.Event) <-chan error {
	ch := make(chan error, 1)
	go func() {
		_, err := s.Append(ctx, tx, expected, events)
		ch <- err
	}()
	return ch
}

// untilWaiting returns once tx waits for another transaction.
func untilWaiting(t *testing.T, s *Store, tx *Tx) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := s.AwaitLockWait(ctx, tx); err != nil {
		t.Fatalf("the call never started waiting: %v", err)
	}
}

func receive(t *testing.T, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("the append did not return")
		return nil
	}
}

func TestCancelWhileWaitingForAggregateLock(t *testing.T) {
	t.Parallel()
	s := NewStore()
	holder, waiter := mustBegin(t, s), mustBegin(t, s)
	mustAppend(t, s, holder, core.NoStream(), newEvent("Order", "1"))

	ctx, cancel := context.WithCancel(t.Context())
	ch := appendAsync(s, ctx, waiter, core.Any(), newEvent("Order", "1"))
	untilWaiting(t, s, waiter)
	cancel()
	err := receive(t, ch)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v, want context.Canceled", err)
	}
	if _, err := s.ReadEvents(t.Context(), waiter, 0, 1); !errors.Is(err, ErrTxAborted) {
		t.Errorf("after the cancelled wait: %v, want ErrTxAborted", err)
	}
	// The holder is unaffected and nobody waits for it any more.
	mustAppend(t, s, holder, core.Exact(1), newEvent("Order", "1"))
	if err := holder.Commit(); err != nil {
		t.Fatal(err)
	}
}

func TestDeadlineWhileWaitingForEventID(t *testing.T) {
	t.Parallel()
	s := NewStore()
	holder, waiter := mustBegin(t, s), mustBegin(t, s)
	ev := newEvent("Order", "1")
	mustAppend(t, s, holder, core.NoStream(), ev)

	dup := newEvent("Invoice", "1")
	dup.EventID = ev.EventID
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	err := receive(t, appendAsync(s, ctx, waiter, core.NoStream(), dup))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait for an in-flight id past the deadline: %v, want context.DeadlineExceeded", err)
	}
	// The failure aborted the waiter, which released its lock on
	// Invoice/1 at once, before any rollback.
	other := mustBegin(t, s)
	mustAppend(t, s, other, core.NoStream(), newEvent("Invoice", "1"))
	if _, err := s.ReadEvents(t.Context(), waiter, 0, 1); !errors.Is(err, ErrTxAborted) {
		t.Errorf("the waiter after its deadline: %v, want ErrTxAborted", err)
	}
}

func TestDeadlockIsAConflictThatAbortsTheVictim(t *testing.T) {
	t.Parallel()
	s := NewStore()
	tx1, tx2 := mustBegin(t, s), mustBegin(t, s)
	mustAppend(t, s, tx1, core.NoStream(), newEvent("Order", "a"))
	mustAppend(t, s, tx2, core.NoStream(), newEvent("Order", "b"))
	ch1 := appendAsync(s, t.Context(), tx1, core.Any(), newEvent("Order", "b"))
	untilWaiting(t, s, tx1)
	// tx2 closes the cycle: it is the victim, at once.
	_, err := s.Append(t.Context(), tx2, core.Any(), []core.Event{newEvent("Order", "a")})
	var conflict *core.ConcurrencyError
	if !errors.Is(err, core.ErrOptimisticConcurrency) || !errors.As(err, &conflict) || conflict.Actual != -1 || !errors.Is(err, ErrDeadlock) {
		t.Fatalf("tx2: %v, want a *core.ConcurrencyError with Actual -1 wrapping ErrDeadlock", err)
	}
	// The victim's abort released Order/b: tx1 goes on before any rollback.
	if err := receive(t, ch1); err != nil {
		t.Fatalf("the surviving append: %v", err)
	}
	if _, err := s.ReadEvents(t.Context(), tx2, 0, 1); !errors.Is(err, ErrTxAborted) {
		t.Errorf("the victim after the deadlock: %v, want ErrTxAborted", err)
	}
	if err := tx1.Commit(); err != nil {
		t.Fatal(err)
	}
}

func TestConflictOnMissingAggregateLocksNothing(t *testing.T) {
	t.Parallel()
	s := NewStore()
	for _, expected := range []core.ExpectedVersion{core.StreamExists(), core.Exact(3)} {
		failed := mustBegin(t, s)
		if _, err := s.Append(t.Context(), failed, expected, []core.Event{newEvent("Order", "1")}); !errors.Is(err, core.ErrOptimisticConcurrency) {
			t.Fatalf("%s on a missing aggregate: %v, want a conflict", expected, err)
		}
		// failed goes on, but like PostgreSQL's UPDATE of a missing head
		// its append locked nothing.
		other := mustBegin(t, s)
		if err := receive(t, appendAsync(s, t.Context(), other, core.NoStream(), newEvent("Order", "1"))); err != nil {
			t.Fatalf("NoStream after the conflict: %v", err)
		}
		if err := other.Rollback(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestNoStreamConflictOnExistingAggregateKeepsLockUntilRollback(t *testing.T) {
	t.Parallel()
	s := NewStore()
	seed := mustBegin(t, s)
	mustAppend(t, s, seed, core.NoStream(), newEvent("Order", "1"))
	if err := seed.Commit(); err != nil {
		t.Fatal(err)
	}
	failed := mustBegin(t, s)
	if _, err := s.Append(t.Context(), failed, core.NoStream(), []core.Event{newEvent("Order", "1")}); !errors.Is(err, core.ErrOptimisticConcurrency) {
		t.Fatalf("NoStream on an existing aggregate: %v, want a conflict", err)
	}
	other := mustBegin(t, s)
	ch := appendAsync(s, t.Context(), other, core.Exact(1), newEvent("Order", "1"))
	untilWaiting(t, s, other)
	if err := failed.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := receive(t, ch); err != nil {
		t.Fatalf("Exact(1) after the failed transaction rolled back: %v", err)
	}
}

func TestEndingTransactionWhileItsAppendWaits(t *testing.T) {
	t.Parallel()
	s := NewStore()
	holder, waiter := mustBegin(t, s), mustBegin(t, s)
	mustAppend(t, s, holder, core.NoStream(), newEvent("Order", "1"))
	ch := appendAsync(s, t.Context(), waiter, core.Any(), newEvent("Order", "1"))
	untilWaiting(t, s, waiter)
	// Misuse, but it must not corrupt the store: the waiting append sees
	// its transaction ended once it wakes.
	if err := waiter.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := holder.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := receive(t, ch); !errors.Is(err, ErrTxDone) {
		t.Fatalf("append of a transaction rolled back meanwhile: %v, want ErrTxDone", err)
	}
	r := mustBegin(t, s)
	if st, err := s.ReadAggregateStream(t.Context(), r, "Order", "1", nil, nil); err != nil || st.Len() != 1 {
		t.Errorf("stream: %d events, %v; want 1", st.Len(), err)
	}
}

func TestAwaitLockWaitSignalsAWaiter(t *testing.T) {
	t.Parallel()
	s := NewStore()
	holder, waiter, idle := mustBegin(t, s), mustBegin(t, s), mustBegin(t, s)
	mustAppend(t, s, holder, core.NoStream(), newEvent("Order", "1"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.AwaitLockWait(ctx, idle); !errors.Is(err, context.Canceled) {
		t.Fatalf("a transaction that waits for nothing: %v, want context.Canceled", err)
	}
	ch := appendAsync(s, t.Context(), waiter, core.Any(), newEvent("Order", "1"))
	untilWaiting(t, s, waiter)
	untilWaiting(t, s, waiter) // still waiting: at once
	if err := holder.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := receive(t, ch); err != nil {
		t.Fatalf("the waiter after the holder committed: %v", err)
	}
}
