package integration_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/chronicle-go/chronicle/consumer"
	"github.com/chronicle-go/chronicle/core"
	"github.com/chronicle-go/chronicle/internal/pgstore"
	"github.com/jackc/pgx/v5"
)

// A running processor's owner is present in Status; once its presence
// session is killed (pg_terminate_backend) it shows as gone until the
// processor holds it again, and once Run returns it is gone for good.
func TestProcessorOwnerGoneWhenItsSessionEnds(t *testing.T) {
	t.Run("pgx", func(t *testing.T) {
		t.Parallel()
		cs, _, names := newPgxConsumerStore(t, newPool(t, 0, 8), "")
		testOwnerPresence[pgx.Tx](t, cs, names)
	})
	t.Run("lib-pq", func(t *testing.T) {
		t.Parallel()
		cs, _, names := newSQLConsumerStore(t, openDB(t, "postgres"), "")
		testOwnerPresence[*sql.Tx](t, cs, names)
	})
}

// noop handles nothing: the test needs a checkpoint written by the
// processor, not a read model.
type noop[TX any] struct{}

func (noop[TX]) Name() string                                          { return "presence" }
func (noop[TX]) Handle(context.Context, TX, core.PersistedEvent) error { return nil }

func testOwnerPresence[TX any](t *testing.T, cs core.ConsumerStore[TX], names pgstore.Names) {
	ctx := testContext(t)
	const owner = "presence-host/4242"
	// The backoff before holding the presence again leaves the owner gone
	// for 3s after its session ends: long enough to see it.
	p, err := consumer.NewProcessor[TX](cs, []consumer.Consumer[TX]{noop[TX]{}},
		consumer.Config{Owner: owner, PollInterval: 10 * time.Millisecond, InitialBackoff: 3 * time.Second, MaxBackoff: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ops := consumer.NewOperations(cs)
	// status waits until the consumer's checkpoint exists and its owner's
	// presence is as wanted, polling the database.
	status := func(what string, present bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			st, err := ops.Status(ctx)
			if err != nil {
				t.Fatalf("%s: status: %v", what, err)
			}
			if len(st) == 1 && st[0].Owner == owner && st[0].OwnerPresent == present {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: status %+v; want owner %s present=%v", what, st, owner, present)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()
	// An idle consumer saves its first cursor at once (it has no
	// checkpoint yet).
	status("while running", true)
	endPresence(t, names, owner)
	st, err := ops.Status(ctx)
	if err != nil || len(st) != 1 || st[0].OwnerPresent {
		t.Fatalf("right after the presence session was terminated: %+v, %v; want the owner gone", st, err)
	}
	status("after the processor held its presence again", true)
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v", err)
	}
	st, err = ops.Status(ctx)
	if err != nil || len(st) != 1 || st[0].OwnerPresent {
		t.Fatalf("after Run returned: %+v, %v; want the owner gone", st, err)
	}
}
