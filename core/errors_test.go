package core_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/chronicle-go/chronicle/core"
)

func TestConcurrencyError(t *testing.T) {
	driverErr := errors.New("could not serialize access")
	err := fmt.Errorf("error appending: %w", &core.ConcurrencyError{
		AggregateType: "Order", AggregateID: "o-1", Expected: core.Exact(2), Actual: -1, Err: driverErr,
	})
	if !errors.Is(err, core.ErrOptimisticConcurrency) || !errors.Is(err, driverErr) {
		t.Fatalf("errors.Is failed for %v", err)
	}
	var ce *core.ConcurrencyError
	if !errors.As(err, &ce) || ce.Expected != core.Exact(2) {
		t.Fatalf("errors.As failed for %v", err)
	}
	for _, want := range []string{"Order/o-1", "Exact(2)", "unknown", "could not serialize"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	plain := &core.ConcurrencyError{AggregateType: "Order", AggregateID: "o-1", Expected: core.NoStream(), Actual: 4}
	if !strings.Contains(plain.Error(), "actual version 4") || errors.Unwrap(plain) != nil {
		t.Errorf("message %q", plain)
	}
}

func TestDuplicateEventError(t *testing.T) {
	id := uuid.New()
	err := &core.DuplicateEventError{EventID: id, AggregateType: "Order", AggregateID: "o-1"}
	if !errors.Is(err, core.ErrDuplicateEvent) || errors.Is(err, core.ErrOptimisticConcurrency) {
		t.Fatal("errors.Is")
	}
	if !strings.Contains(err.Error(), id.String()) || !strings.Contains(err.Error(), "Order/o-1") {
		t.Errorf("message %q", err)
	}
	if unknown := (&core.DuplicateEventError{AggregateType: "A", AggregateID: "b"}).Error(); !strings.Contains(unknown, "of the batch") {
		t.Errorf("message %q", unknown)
	}
}

func TestInvalidEventErrorMessage(t *testing.T) {
	err := &core.InvalidEventError{Index: 3, Field: "EventType", Reason: "must not be empty"}
	if got, want := err.Error(), "invalid event at index 3: EventType: must not be empty"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if errors.Is(err, core.ErrNoEvents) {
		t.Error("a field error is not ErrNoEvents")
	}
}

func TestInvalidArgumentError(t *testing.T) {
	err := &core.InvalidArgumentError{Argument: "limit", Reason: "must be >= 1, got 0"}
	if !errors.Is(err, core.ErrInvalidArgument) || err.Error() != "invalid argument limit: must be >= 1, got 0" {
		t.Errorf("%v", err)
	}
}
