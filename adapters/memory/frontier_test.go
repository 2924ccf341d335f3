package memory

import (
	"errors"
	"testing"

	"github.com/chronicle-go/chronicle/core"
)

func TestTransactionIDsAreTakenAtFirstAppend(t *testing.T) {
	t.Parallel()
	s := NewStore()
	if f := s.frontier(); f != 1 {
		t.Fatalf("empty store: frontier %d, want 1", f)
	}
	older, younger, reader := mustBegin(t, s), mustBegin(t, s), mustBegin(t, s)
	if _, err := s.ReadEvents(t.Context(), reader, 0, 10); err != nil {
		t.Fatal(err)
	}
	if f := s.frontier(); f != 1 {
		t.Fatalf("no appends yet: frontier %d, want 1", f)
	}
	// Ids go by first append, not by Begin.
	y := mustAppend(t, s, younger, core.NoStream(), newEvent("Order", "y"))
	o := mustAppend(t, s, older, core.NoStream(), newEvent("Order", "o"))
	if y.Events[0].TransactionOrder != 1 || o.Events[0].TransactionOrder != 2 {
		t.Fatalf("orders %d and %d, want 1 and 2", y.Events[0].TransactionOrder, o.Events[0].TransactionOrder)
	}
	if f := s.frontier(); f != 1 {
		t.Errorf("ids 1 and 2 in progress: frontier %d, want 1", f)
	}
	if err := younger.Commit(); err != nil {
		t.Fatal(err)
	}
	if f := s.frontier(); f != 2 {
		t.Errorf("id 2 in progress: frontier %d, want 2", f)
	}
	if err := older.Rollback(); err != nil {
		t.Fatal(err)
	}
	if f := s.frontier(); f != 3 {
		t.Errorf("nothing in progress: frontier %d, want the next id 3", f)
	}
	if err := reader.Commit(); err != nil {
		t.Fatal(err)
	}
}

func TestConflictedTransactionHoldsFrontierUntilItEnds(t *testing.T) {
	t.Parallel()
	s := NewStore()
	tx := mustBegin(t, s)
	mustAppend(t, s, tx, core.NoStream(), newEvent("Order", "1"))
	if _, err := s.Append(t.Context(), tx, core.NoStream(), []core.Event{newEvent("Order", "1")}); !errors.Is(err, core.ErrOptimisticConcurrency) {
		t.Fatalf("NoStream twice: %v, want a conflict", err)
	}
	if f := s.frontier(); f != 1 {
		t.Errorf("transaction 1 after its conflict: frontier %d, want 1 (it goes on)", f)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if f := s.frontier(); f != 2 {
		t.Errorf("after rollback: frontier %d, want 2", f)
	}
}

func TestAbortedTransactionReleasesFrontierAtOnce(t *testing.T) {
	t.Parallel()
	s := NewStore()
	tx := mustBegin(t, s)
	placed := newEvent("Order", "1")
	mustAppend(t, s, tx, core.NoStream(), placed)
	if _, err := s.Append(t.Context(), tx, core.Any(), []core.Event{placed}); !errors.Is(err, core.ErrDuplicateEvent) {
		t.Fatalf("the same event id twice: %v, want ErrDuplicateEvent", err)
	}
	// PostgreSQL ends an aborted transaction's id at the error, not at
	// ROLLBACK.
	if f := s.frontier(); f != 2 {
		t.Errorf("aborted transaction 1 before its rollback: frontier %d, want 2", f)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if f := s.frontier(); f != 2 {
		t.Errorf("after rollback: frontier %d, want 2", f)
	}
}

func TestTransactionOrderIsAtLeastHeadOrder(t *testing.T) {
	t.Parallel()
	s := NewStore()
	older, younger := mustBegin(t, s), mustBegin(t, s)
	b := mustAppend(t, s, older, core.NoStream(), newEvent("Order", "b")) // id 1
	mustAppend(t, s, younger, core.NoStream(), newEvent("Order", "a"))    // id 2
	if err := younger.Commit(); err != nil {
		t.Fatal(err)
	}
	a := mustAppend(t, s, older, core.Exact(1), newEvent("Order", "a"))
	if b.Events[0].TransactionOrder != 1 {
		t.Errorf("older transaction's own aggregate: order %d, want its id 1", b.Events[0].TransactionOrder)
	}
	if a.Events[0].TransactionOrder != 2 {
		t.Errorf("after the younger transaction's event: order %d, want the head's 2", a.Events[0].TransactionOrder)
	}
	if err := older.Commit(); err != nil {
		t.Fatal(err)
	}
	// The head keeps the raised order for the next writer.
	next := mustBegin(t, s)
	c := mustAppend(t, s, next, core.Any(), newEvent("Order", "a")) // id 3
	if c.Events[0].TransactionOrder != 3 {
		t.Errorf("next writer: order %d, want its id 3", c.Events[0].TransactionOrder)
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
