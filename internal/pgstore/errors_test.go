package pgstore

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/chronicle-go/chronicle/core"
	"github.com/google/uuid"
)

func TestAppendError(t *testing.T) {
	c := DefaultNames().Constraints()
	events := []core.Event{{AggregateType: "A", AggregateID: "1", EventID: uuid.New()}}
	cause := errors.New("driver error")
	cases := []struct {
		db                            DatabaseError
		conflict, duplicate, canceled bool
	}{
		{DatabaseError{Code: uniqueViolation, Constraint: c.EventID}, false, true, false},
		{DatabaseError{Code: uniqueViolation, Constraint: c.AggregateVersion}, true, false, false},
		{DatabaseError{Code: uniqueViolation, Constraint: "other_key"}, false, false, false},
		{DatabaseError{Code: serializationFailure}, true, false, false},
		{DatabaseError{Code: deadlockDetected}, true, false, false},
		{DatabaseError{Code: queryCanceled}, false, false, true},
		{DatabaseError{Code: undefinedTable}, false, false, false},
		{DatabaseError{}, false, false, false},
	}
	for _, tc := range cases {
		err := appendError(context.Background(), cause, tc.db, c, events, core.Any())
		if errors.Is(err, core.ErrOptimisticConcurrency) != tc.conflict || errors.Is(err, core.ErrDuplicateEvent) != tc.duplicate ||
			errors.Is(err, core.ErrQueryCanceled) != tc.canceled {
			t.Errorf("%+v: %v", tc.db, err)
		}
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%+v: a live context's error reported: %v", tc.db, err)
		}
		if !errors.Is(err, cause) {
			t.Errorf("%+v: the driver's error is not kept: %v", tc.db, err)
		}
	}
	err := appendError(context.Background(), cause, DatabaseError{Code: undefinedTable}, c, events, core.Any())
	if !strings.Contains(err.Error(), "the schema is missing, apply migrate-gen's migrations") {
		t.Errorf("a missing table does not say what to do: %v", err)
	}
}

// The duplicate's id: the only event of a one-event batch, else the one
// the server's detail names.
func TestDuplicateID(t *testing.T) {
	a, b := uuid.New(), uuid.New()
	one := []core.Event{{EventID: a}}
	two := []core.Event{{EventID: a}, {EventID: b}}
	for _, c := range []struct {
		events []core.Event
		detail string
		want   uuid.UUID
	}{
		{one, "", a},
		{two, "Key (event_id)=(" + b.String() + ") already exists.", b},
		{two, "Schlüssel »(event_id)=(" + a.String() + ")« existiert bereits.", a},
		{two, "", uuid.Nil},
		{two, "Key (event_id)=(" + uuid.NewString() + ") already exists.", uuid.Nil},
	} {
		if got := duplicateID(c.events, c.detail); got != c.want {
			t.Errorf("duplicateID(%d events, %q) = %s, want %s", len(c.events), c.detail, got, c.want)
		}
	}
}

// TestStatementErrorNamesTheEndedContext: whatever the driver reported for
// a statement cut short by the caller's context, the error says so, once.
func TestStatementErrorNamesTheEndedContext(t *testing.T) {
	c := DefaultNames().Constraints()
	events := []core.Event{{AggregateType: "A", AggregateID: "1"}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, db := range []DatabaseError{{Code: queryCanceled}, {}, {TxDone: true}} {
		cause := errors.New("driver error")
		err := appendError(ctx, cause, db, c, events, core.Any())
		if !errors.Is(err, context.Canceled) || !errors.Is(err, cause) {
			t.Errorf("%+v: %v does not wrap context.Canceled and the driver's error", db, err)
		}
	}
	err := appendError(ctx, context.Canceled, DatabaseError{}, c, events, core.Any())
	if got := strings.Count(err.Error(), context.Canceled.Error()); got != 1 {
		t.Errorf("context error named %d times: %v", got, err)
	}
	if err := ListenError(ctx, "listening", errors.New("closed")); err != context.Canceled {
		t.Errorf("ListenError after the context ended = %v, want context.Canceled", err)
	}
	if err := ListenError(context.Background(), "listening", errors.New("closed")); err.Error() != "error listening: closed" {
		t.Errorf("ListenError = %v", err)
	}
}
