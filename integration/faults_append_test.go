package integration_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-go/chronicle/core"
	"github.com/jackc/pgx/v5"
)

// stalledAppend is an Append blocked on the head row's lock, which another
// transaction holds, so that a fault can strike while the statement runs.
type stalledAppend[TX any] struct {
	r      rig[TX]
	seed   []core.Event // committed before, version 1
	holder TX           // holds the head lock with one more event
	victim TX
	pid    int64
	// lost are the victim's events, which must never be stored.
	lost []core.Event
	done chan error
}

// stallAppend commits one event, lets a holder append a second without
// committing, and starts the victim's append of three more with ctx;
// it returns once the victim waits for the holder's lock. prepare, when
// set, runs in the victim's transaction first.
func stallAppend[TX any](t *testing.T, ctx context.Context, r rig[TX], appendCtx context.Context, prepare string) *stalledAppend[TX] {
	t.Helper()
	s := &stalledAppend[TX]{r: r, seed: newEvents("Order", 1), done: make(chan error, 1)}
	r.appendCommitted(t, ctx, core.NoStream(), s.seed...)
	s.holder = r.mustBegin(t, ctx, false)
	r.mustAppend(t, ctx, s.holder, core.Exact(1), moreEvents(s.seed[0], 1)...)
	s.victim = r.mustBegin(t, ctx, false)
	if prepare != "" {
		if _, err := r.scalar(ctx, s.victim, prepare); err != nil {
			t.Fatalf("%s: %s: %v", r.name, prepare, err)
		}
	}
	var err error
	if s.pid, err = r.scalar(ctx, s.victim, "SELECT pg_backend_pid()::bigint"); err != nil {
		t.Fatal(err)
	}
	s.lost = moreEvents(s.seed[0], 3)
	go func() {
		_, err := r.store.Append(appendCtx, s.victim, core.Any(), s.lost)
		s.done <- err
	}()
	waitForLockWait(t, ctx, s.pid)
	return s
}

// result waits for the victim's append to return.
func (s *stalledAppend[TX]) result(t *testing.T) error {
	t.Helper()
	select {
	case err := <-s.done:
		if err == nil {
			t.Fatalf("%s: the stalled append succeeded despite the fault", s.r.name)
		}
		return err
	case <-time.After(time.Minute):
		t.Fatalf("%s: the stalled append did not return within a minute of the fault", s.r.name)
		return nil
	}
}

// check ends both transactions and verifies that nothing of the victim's
// append was written and that a retry, expecting the version the holder
// committed, succeeds right after it.
func (s *stalledAppend[TX]) check(t *testing.T, ctx context.Context) {
	t.Helper()
	_ = s.r.rollback(ctx, s.victim) // may fail: its connection may be gone
	s.r.mustCommit(t, ctx, s.holder)
	stream := s.r.readStream(t, ctx, s.seed[0].AggregateType, s.seed[0].AggregateID)
	if stream.Version() != 2 || stream.Len() != 2 {
		t.Fatalf("%s: after the fault the stream is at version %d with %d events, want 2 and 2", s.r.name, stream.Version(), stream.Len())
	}
	for _, e := range stream.Events {
		for _, l := range s.lost {
			if e.EventID == l.EventID {
				t.Fatalf("%s: event %s of the failed append was stored", s.r.name, l.EventID)
			}
		}
	}
	res := s.r.appendCommitted(t, ctx, core.Exact(2), s.lost...)
	if res.FromVersion() != 2 || res.ToVersion() != 5 {
		t.Fatalf("%s: the retry went from version %d to %d, want 2 to 5", s.r.name, res.FromVersion(), res.ToVersion())
	}
}

// TestFaultAppendConnectionKilled terminates the backend of an Append
// waiting for the head lock: the caller gets the driver's error wrapped
// with the aggregate's name, not a conflict; nothing is written; a retry
// in a new transaction succeeds with the expected version unchanged.
func TestFaultAppendConnectionKilled(t *testing.T) {
	both(t, func(t *testing.T, r rig[pgx.Tx]) { testAppendConnectionKilled(t, r) },
		func(t *testing.T, r rig[*sql.Tx]) { testAppendConnectionKilled(t, r) })
}

func testAppendConnectionKilled[TX any](t *testing.T, r rig[TX]) {
	ctx := testContext(t)
	s := stallAppend(t, ctx, r, ctx, "")
	terminateBackend(t, ctx, s.pid)
	err := s.result(t)
	if errors.Is(err, core.ErrOptimisticConcurrency) || errors.Is(err, core.ErrDuplicateEvent) || errors.Is(err, core.ErrQueryCanceled) {
		t.Errorf("%s: a lost connection reported as %v", r.name, err)
	}
	if !strings.Contains(err.Error(), "error appending to aggregate Order/"+s.seed[0].AggregateID) {
		t.Errorf("%s: error %q does not name the append and its aggregate", r.name, err)
	}
	s.check(t, ctx)
}

// TestFaultAppendStatementTimeout: statement_timeout expiring while an
// Append waits is core.ErrQueryCanceled, not a context error; the
// transaction rolls back cleanly and a retry succeeds.
func TestFaultAppendStatementTimeout(t *testing.T) {
	both(t, func(t *testing.T, r rig[pgx.Tx]) { testAppendStatementTimeout(t, r) },
		func(t *testing.T, r rig[*sql.Tx]) { testAppendStatementTimeout(t, r) })
}

func testAppendStatementTimeout[TX any](t *testing.T, r rig[TX]) {
	ctx := testContext(t)
	s := stallAppend(t, ctx, r, ctx, "SELECT length(set_config('statement_timeout', '300', true))::bigint")
	err := s.result(t)
	if !errors.Is(err, core.ErrQueryCanceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		t.Errorf("%s: statement timeout reported as %v, want ErrQueryCanceled only", r.name, err)
	}
	if err := r.rollback(ctx, s.victim); err != nil {
		t.Errorf("%s: rolling back after the timeout: %v", r.name, err)
	}
	s.check(t, ctx)
}

// TestFaultAppendContextEnds: a deadline or a cancellation of the Append's
// context while it waits returns at once with an error matching the
// context's; nothing is written and a retry succeeds.
func TestFaultAppendContextEnds(t *testing.T) {
	both(t, func(t *testing.T, r rig[pgx.Tx]) { testAppendContextEnds(t, r) },
		func(t *testing.T, r rig[*sql.Tx]) { testAppendContextEnds(t, r) })
}

func testAppendContextEnds[TX any](t *testing.T, r rig[TX]) {
	ctx := testContext(t)
	t.Run("Deadline", func(t *testing.T) {
		appendCtx := newManualDeadline(ctx)
		s := stallAppend(t, ctx, r, appendCtx, "")
		appendCtx.expire()
		if err := s.result(t); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s: append past its deadline returned %v, want context.DeadlineExceeded", r.name, err)
		}
		s.check(t, ctx)
	})
	t.Run("Cancel", func(t *testing.T) {
		appendCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		s := stallAppend(t, ctx, r, appendCtx, "")
		cancel()
		if err := s.result(t); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: cancelled append returned %v, want context.Canceled", r.name, err)
		}
		s.check(t, ctx)
	})
}

// manualDeadline is a context whose deadline passes when the test calls
// expire — once the append waits — rather than on a clock that races the
// machine's load: its Done channel closes and Err is
// context.DeadlineExceeded, as for a deadline that passed.
type manualDeadline struct {
	context.Context
	done chan struct{}
}

func newManualDeadline(parent context.Context) *manualDeadline {
	return &manualDeadline{Context: parent, done: make(chan struct{})}
}

func (d *manualDeadline) expire()               { close(d.done) }
func (d *manualDeadline) Done() <-chan struct{} { return d.done }

func (d *manualDeadline) Err() error {
	select {
	case <-d.done:
		return context.DeadlineExceeded
	default:
		return nil
	}
}

// terminateBackend ends backend pid and waits until it is gone.
func terminateBackend(t testing.TB, ctx context.Context, pid int64) {
	t.Helper()
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var killed bool
	// The timeout makes the call wait for the backend to exit.
	if err := conn.QueryRow(ctx, "SELECT pg_terminate_backend($1::int, 10000)", pid).Scan(&killed); err != nil || !killed {
		t.Fatalf("terminating backend %d: %v, %v", pid, killed, err)
	}
}
