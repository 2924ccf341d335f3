// Command eventmap-codegen shows the mapping layer eventmap-gen generates:
// domain events written as plain structs in versioned packages
// (domain/user/events/v1, v2) are mapped to core.Event, appended to a store,
// read back, and upcast to their newest version before a projection folds
// them, without the domain packages importing Chronicle.
//
// Regenerate the mapping (domain/user/userevents) with go generate ./... in
// this folder, or make generate at the repository root.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/chronicle-go/chronicle/adapters/memory"
	"github.com/chronicle-go/chronicle/core"
	v1 "github.com/chronicle-go/chronicle/examples/eventmap-codegen/domain/user/events/v1"
	v2 "github.com/chronicle-go/chronicle/examples/eventmap-codegen/domain/user/events/v2"
	"github.com/chronicle-go/chronicle/examples/eventmap-codegen/domain/user/userevents"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "eventmap-codegen:", err)
		os.Exit(1)
	}
}

// clock makes the output reproducible: the store stamps events with it.
var clock = time.Date(2024, 3, 1, 9, 30, 0, 0, time.UTC)

// upcasters turn the stored versions into today's: one function per step,
// checked by the compiler against the event structs.
var upcasters = userevents.Upcasters{
	UserRegisteredV1ToV2: func(e v1.UserRegistered) (v2.UserRegistered, error) {
		first, last, _ := strings.Cut(e.Name, " ")
		return v2.UserRegistered{UserID: e.UserID, Email: e.Email, FirstName: first, LastName: last}, nil
	},
}

func run(ctx context.Context, w io.Writer) error {
	// Fail at start-up, not on the first old event, when a step is missing.
	if err := upcasters.Validate(); err != nil {
		return err
	}
	store := memory.NewStore(memory.WithClock(func() time.Time { return clock }))

	// History written by the first release, in version 1 payloads.
	if err := appendEvents(ctx, store, core.NoStream(), []any{
		v1.UserRegistered{UserID: "user-42", Email: "ada@example.com", Name: "Ada Lovelace"},
		v1.UserEmailChanged{UserID: "user-42", Email: "ada@lovelace.org"},
	}, userevents.WithCorrelationID("signup-7")); err != nil {
		return err
	}
	// Today's code writes version 2.
	if err := appendEvents(ctx, store, core.Exact(2), []any{
		v2.AccountClosed{UserID: "user-42", Reason: "moved to the analytical engine", ClosedAt: clock.Add(time.Hour)},
	}, userevents.WithCausationID("support-ticket-1843")); err != nil {
		return err
	}

	tx, err := store.Begin(ctx)
	if err != nil {
		return fmt.Errorf("error beginning transaction: %w", err)
	}
	defer tx.Rollback()
	stream, err := store.ReadAggregateStream(ctx, tx, "User", "user-42", nil, nil)
	if err != nil {
		return fmt.Errorf("error reading user-42: %w", err)
	}
	for _, e := range stream.Events {
		fmt.Fprintf(w, "stored   #%d %s v%d %s%s\n", e.AggregateVersion, e.EventType, e.EventVersion, e.Payload, tracing(e))
		asStored, err := userevents.FromESEvent(e)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  decoded  %T %+v\n", asStored, asStored)
	}

	// A projection sees only the newest version of each event type.
	latest, err := userevents.FromESEventsLatest[any](upcasters, stream.Events)
	if err != nil {
		return err
	}
	var u user
	for _, e := range latest {
		fmt.Fprintf(w, "latest   %T %+v\n", e, e)
		u.apply(e)
	}
	fmt.Fprintf(w, "user %s: %s %s <%s>, active: %t\n", u.id, u.firstName, u.lastName, u.email, u.active)
	return nil
}

// appendEvents maps events for the user-42 aggregate and appends them in
// one transaction.
func appendEvents(ctx context.Context, store *memory.Store, expected core.ExpectedVersion, events []any, opts ...userevents.Option) error {
	mapped, err := userevents.ToESEvents("User", "user-42", events, opts...)
	if err != nil {
		return err
	}
	tx, err := store.Begin(ctx)
	if err != nil {
		return fmt.Errorf("error beginning transaction: %w", err)
	}
	defer tx.Rollback()
	if _, err := store.Append(ctx, tx, expected, mapped); err != nil {
		return fmt.Errorf("error appending to user-42: %w", err)
	}
	return tx.Commit()
}

// tracing prints the tracing ids an event carries.
func tracing(e core.PersistedEvent) string {
	var s string
	if e.CorrelationID.Valid {
		s += " correlation=" + e.CorrelationID.String
	}
	if e.CausationID.Valid {
		s += " causation=" + e.CausationID.String
	}
	return s
}

// user is a projection of the user aggregate.
type user struct {
	id, email, firstName, lastName string
	active                         bool
}

func (u *user) apply(event any) {
	switch e := event.(type) {
	case v2.UserRegistered:
		u.id, u.email, u.firstName, u.lastName, u.active = e.UserID, e.Email, e.FirstName, e.LastName, true
	case v1.UserEmailChanged:
		u.email = e.Email
	case v2.AccountClosed:
		u.active = false
	}
}
