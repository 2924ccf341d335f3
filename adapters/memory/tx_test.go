package memory_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/chronicle-go/chronicle/adapters/memory"
	"github.com/chronicle-go/chronicle/core"
)

func event(typ, id string) core.Event {
	return core.Event{AggregateType: typ, AggregateID: id, EventID: uuid.New(), EventType: "Happened"}
}

func begin(t *testing.T, s *memory.Store) *memory.Tx {
	t.Helper()
	tx, err := s.Begin(t.Context())
	if err != nil {
		t.Fatalf("beginning: %v", err)
	}
	t.Cleanup(func() { _ = tx.Rollback() })
	return tx
}

// checkOps asserts that every operation but Rollback fails on tx with want,
// or succeeds when want is nil (its Append appends to Order/1).
func checkOps(t *testing.T, s *memory.Store, tx *memory.Tx, want error) {
	t.Helper()
	ctx := t.Context()
	if _, err := s.Append(ctx, tx, core.Any(), []core.Event{event("Order", "1")}); !errors.Is(err, want) {
		t.Errorf("Append: %v, want %v", err, want)
	}
	if _, err := s.ReadAggregateStream(ctx, tx, "Order", "1", nil, nil); !errors.Is(err, want) {
		t.Errorf("ReadAggregateStream: %v, want %v", err, want)
	}
	if _, err := s.ReadEvents(ctx, tx, 0, 10); !errors.Is(err, want) {
		t.Errorf("ReadEvents: %v, want %v", err, want)
	}
	if _, err := s.GetLatestGlobalPosition(ctx, tx); !errors.Is(err, want) {
		t.Errorf("GetLatestGlobalPosition: %v, want %v", err, want)
	}
}

func TestCommittedTransactionIsDone(t *testing.T) {
	t.Parallel()
	s := memory.NewStore()
	tx := begin(t, s)
	if _, err := s.Append(t.Context(), tx, core.NoStream(), []core.Event{event("Order", "1")}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); !errors.Is(err, memory.ErrTxDone) {
		t.Errorf("second Commit: %v, want ErrTxDone", err)
	}
	checkOps(t, s, tx, memory.ErrTxDone)
	if err := tx.Rollback(); err != nil {
		t.Errorf("Rollback after Commit: %v, want nil", err)
	}
	// The rollback after the commit changed nothing.
	r := begin(t, s)
	if st, err := s.ReadAggregateStream(t.Context(), r, "Order", "1", nil, nil); err != nil || st.Len() != 1 {
		t.Errorf("stream after Commit and Rollback: %d events, %v; want 1", st.Len(), err)
	}
}

func TestRolledBackTransactionIsDone(t *testing.T) {
	t.Parallel()
	s := memory.NewStore()
	tx := begin(t, s)
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Errorf("second Rollback: %v, want nil", err)
	}
	if err := tx.Commit(); !errors.Is(err, memory.ErrTxDone) {
		t.Errorf("Commit after Rollback: %v, want ErrTxDone", err)
	}
	checkOps(t, s, tx, memory.ErrTxDone)
}

func TestDuplicateAbortsTransactionAtOnce(t *testing.T) {
	t.Parallel()
	s := memory.NewStore()
	ctx := t.Context()
	tx := begin(t, s)
	placed := event("Order", "1")
	if _, err := s.Append(ctx, tx, core.NoStream(), []core.Event{placed}); err != nil {
		t.Fatal(err)
	}
	_, err := s.Append(ctx, tx, core.Any(), []core.Event{placed})
	if !errors.Is(err, core.ErrDuplicateEvent) {
		t.Fatalf("the same event id twice: %v, want ErrDuplicateEvent", err)
	}
	checkOps(t, s, tx, memory.ErrTxAborted)
	// The abort discarded the first append and released its aggregate
	// before any rollback, as PostgreSQL does.
	other := begin(t, s)
	if _, err := s.Append(ctx, other, core.NoStream(), []core.Event{event("Order", "1")}); err != nil {
		t.Errorf("appending while the aborted transaction is still open: %v", err)
	}
	if err := tx.Commit(); !errors.Is(err, memory.ErrTxAborted) {
		t.Errorf("Commit of an aborted transaction: %v, want ErrTxAborted", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Errorf("Rollback after the failed Commit: %v", err)
	}
}

func TestVersionConflictDoesNotAbort(t *testing.T) {
	t.Parallel()
	s := memory.NewStore()
	ctx := t.Context()
	tx := begin(t, s)
	if _, err := s.Append(ctx, tx, core.NoStream(), []core.Event{event("Order", "1")}); err != nil {
		t.Fatal(err)
	}
	_, err := s.Append(ctx, tx, core.NoStream(), []core.Event{event("Order", "1")})
	var conflict *core.ConcurrencyError
	if !errors.As(err, &conflict) || conflict.Err != nil {
		t.Fatalf("NoStream twice: %v, want a *core.ConcurrencyError without a database error", err)
	}
	checkOps(t, s, tx, nil)
	if err := tx.Commit(); err != nil {
		t.Fatalf("Commit after the conflict: %v", err)
	}
	r := begin(t, s)
	if st, err := s.ReadAggregateStream(ctx, r, "Order", "1", nil, nil); err != nil || st.Len() != 2 {
		t.Errorf("stream after the commit: %d events, %v; want the first append and the one after the conflict", st.Len(), err)
	}
}

func TestValidationErrorDoesNotAbort(t *testing.T) {
	t.Parallel()
	s := memory.NewStore()
	tx := begin(t, s)
	if _, err := s.Append(t.Context(), tx, core.Exact(-2), []core.Event{event("Order", "1")}); !errors.Is(err, core.ErrInvalidArgument) {
		t.Fatalf("Exact(-2): %v, want ErrInvalidArgument", err)
	}
	if _, err := s.Append(t.Context(), tx, core.Any(), nil); !errors.Is(err, core.ErrNoEvents) {
		t.Fatalf("no events: %v, want ErrNoEvents", err)
	}
	if err := tx.Commit(); err != nil {
		t.Errorf("Commit after rejected input: %v", err)
	}
}

func TestForeignTransaction(t *testing.T) {
	t.Parallel()
	s, other := memory.NewStore(), memory.NewStore()
	checkOps(t, s, begin(t, other), memory.ErrForeignTx)
	checkOps(t, s, nil, memory.ErrForeignTx)
}

func TestBeginWithEndedContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := memory.NewStore().Begin(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Begin: %v, want context.Canceled", err)
	}
}

func TestReadsWithEndedContext(t *testing.T) {
	t.Parallel()
	s := memory.NewStore()
	tx := begin(t, s)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.ReadEvents(ctx, tx, 0, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("ReadEvents: %v, want context.Canceled", err)
	}
	// A read that did not run leaves the transaction usable.
	if _, err := s.ReadEvents(t.Context(), tx, 0, 1); err != nil {
		t.Errorf("ReadEvents after the cancelled one: %v", err)
	}
}

func TestWithClock(t *testing.T) {
	t.Parallel()
	at := time.Date(2030, 1, 2, 3, 4, 5, 6789, time.FixedZone("X", 3600))
	s := memory.NewStore(memory.WithClock(func() time.Time { return at }))
	tx := begin(t, s)
	res, err := s.Append(t.Context(), tx, core.Any(), []core.Event{event("Order", "1")})
	if err != nil {
		t.Fatal(err)
	}
	want := at.UTC().Truncate(time.Microsecond)
	if got := res.Events[0].CreatedAt; !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("CreatedAt %s, want %s", got, want)
	}
}
