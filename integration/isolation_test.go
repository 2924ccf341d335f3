package integration_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/chronicle-go/chronicle/core"
	"github.com/jackc/pgx/v5"
)

// sqlStater matches both drivers' server errors (*pgconn.PgError,
// *pq.Error).
type sqlStater interface{ SQLState() string }

func sqlState(err error) string {
	var s sqlStater
	if errors.As(err, &s) {
		return s.SQLState()
	}
	return ""
}

// Under REPEATABLE READ an append to an aggregate that a concurrent
// transaction changed after the snapshot is a serialization failure
// (40001), reported as ErrOptimisticConcurrency wrapping the driver's
// error.
func TestRepeatableReadConflictIsOptimisticConcurrency(t *testing.T) {
	both(t, func(t *testing.T, r rig[pgx.Tx]) { testRepeatableRead(t, r) },
		func(t *testing.T, r rig[*sql.Tx]) { testRepeatableRead(t, r) })
}

func testRepeatableRead[TX any](t *testing.T, r rig[TX]) {
	for _, expected := range []core.ExpectedVersion{core.Exact(1), core.Any(), core.StreamExists()} {
		ctx := testContext(t)
		events := newEvents("Order", 1)
		r.appendCommitted(t, ctx, core.NoStream(), events...)
		a := r.mustBegin(t, ctx, true)
		if _, err := r.store.ReadAggregateStream(ctx, a, events[0].AggregateType, events[0].AggregateID, nil, nil); err != nil {
			t.Fatal(err) // takes the snapshot
		}
		r.appendCommitted(t, ctx, core.Any(), moreEvents(events[0], 1)...)
		_, err := r.store.Append(ctx, a, expected, moreEvents(events[0], 1))
		var ce *core.ConcurrencyError
		switch {
		case !errors.Is(err, core.ErrOptimisticConcurrency):
			t.Errorf("%s: %v, want ErrOptimisticConcurrency", expected, err)
		case !errors.As(err, &ce) || ce.Err == nil || ce.Actual != -1:
			t.Errorf("%s: %#v, want a ConcurrencyError wrapping the driver's error, actual unknown", expected, err)
		case sqlState(err) != "40001":
			t.Errorf("%s: SQLSTATE %q, want 40001: %v", expected, sqlState(err), err)
		}
		_ = r.rollback(ctx, a)
	}
}

// A conflict found after waiting for a concurrent writer reports the
// version that writer committed, not the one the statement's snapshot saw.
func TestConflictAfterWaitReportsCommittedVersion(t *testing.T) {
	both(t, func(t *testing.T, r rig[pgx.Tx]) { testConflictAfterWait(t, r) },
		func(t *testing.T, r rig[*sql.Tx]) { testConflictAfterWait(t, r) })
}

func testConflictAfterWait[TX any](t *testing.T, r rig[TX]) {
	cases := []struct {
		name     string
		seed     int // events committed before
		expected core.ExpectedVersion
		waits    bool  // whether the append waits for the holder
		want     int64 // the actual version reported
	}{
		{"NoStream", 0, core.NoStream(), true, 2},
		{"Exact", 1, core.Exact(1), true, 3},
		// No head in its snapshot: nothing to wait for, an immediate conflict.
		{"StreamExistsWhileCreated", 0, core.StreamExists(), false, 0},
	}
	for _, c := range cases {
		ctx := testContext(t)
		events := newEvents("Order", 1)
		if c.seed > 0 {
			r.appendCommitted(t, ctx, core.NoStream(), events...)
		}
		holder := r.mustBegin(t, ctx, false)
		r.mustAppend(t, ctx, holder, core.Any(), moreEvents(events[0], 2)...)

		waiter := r.mustBegin(t, ctx, false)
		pid, err := r.scalar(ctx, waiter, "SELECT pg_backend_pid()::bigint")
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := r.store.Append(ctx, waiter, c.expected, moreEvents(events[0], 1))
			done <- err
		}()
		if c.waits {
			waitForLockWait(t, ctx, pid)
			r.mustCommit(t, ctx, holder)
			err = <-done
		} else {
			err = <-done
			r.mustCommit(t, ctx, holder)
		}
		var ce *core.ConcurrencyError
		if !errors.As(err, &ce) || ce.Actual != c.want || ce.Err != nil {
			t.Errorf("%s: %v, want a conflict with actual version %d", c.name, err, c.want)
		}
		_ = r.rollback(ctx, waiter)
	}
}

// waitForLockWait returns once backend pid waits for a lock.
func waitForLockWait(t *testing.T, ctx context.Context, pid int64) {
	t.Helper()
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var waiting bool
		if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock')", pid).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting {
			return
		}
		time.Sleep(5 * time.Millisecond) // polling the server's state, bounded by the deadline
	}
	t.Fatalf("backend %d did not wait for the head lock within 30s", pid)
}

// The unique version key is the last safety net: a row that bypassed the
// head table makes the append fail as a conflict, not as a raw driver error.
func TestVersionKeyViolationIsConflict(t *testing.T) {
	both(t, func(t *testing.T, r rig[pgx.Tx]) { testVersionKey(t, r) },
		func(t *testing.T, r rig[*sql.Tx]) { testVersionKey(t, r) })
}

func testVersionKey[TX any](t *testing.T, r rig[TX]) {
	ctx := testContext(t)
	events := newEvents("Order", 1)
	tx := r.mustBegin(t, ctx, false)
	if _, err := r.scalar(ctx, tx, "WITH i AS (INSERT INTO "+qualified(r.names.Schema, r.names.EventsTable)+
		" (aggregate_type, aggregate_id, aggregate_version, event_id, event_type, event_version, payload, created_at)"+
		" VALUES ($1, $2, 1, gen_random_uuid(), 'Smuggled', 1, '', now()) RETURNING 1) SELECT count(*) FROM i",
		events[0].AggregateType, events[0].AggregateID); err != nil {
		t.Fatal(err)
	}
	r.mustCommit(t, ctx, tx)
	tx = r.mustBegin(t, ctx, false)
	_, err := r.store.Append(ctx, tx, core.NoStream(), events)
	if !errors.Is(err, core.ErrOptimisticConcurrency) || errors.Is(err, core.ErrDuplicateEvent) || sqlState(err) != "23505" {
		t.Fatalf("append over a smuggled version: %v, want ErrOptimisticConcurrency wrapping 23505", err)
	}
}
