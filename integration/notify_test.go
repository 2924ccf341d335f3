package integration_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	pgxstore "github.com/chronicle-go/chronicle/adapters/postgres-pgx"
	pqstore "github.com/chronicle-go/chronicle/adapters/postgres-pq"
	"github.com/chronicle-go/chronicle/core"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Notifications are sent on commit and never on rollback. PostgreSQL
// delivers notifications in commit order, so receiving the committed
// append's notification first proves the rolled-back one was never sent,
// without waiting for something not to happen. A store notifies from one
// append per pgstore.NotifyInterval: each append goes through a store of
// its own, whose first append always notifies.
func TestNotifyOnCommitNeverOnRollback(t *testing.T) {
	t.Run("pgx", func(t *testing.T) {
		t.Parallel()
		channel := newChannel()
		listener := listen(t, channel)
		pool := newPool(t, 0, 4)
		r := pgxRig(t, pool, pgxstore.WithNotifyChannel(channel))
		second, err := pgxstore.NewStore(pgxConfig(r.names, pgxstore.WithNotifyChannel(channel)))
		if err != nil {
			t.Fatal(err)
		}
		testNotify(t, r, pgxRigFor(pool, second, r.names), listener, channel)
	})
	t.Run("lib-pq", func(t *testing.T) {
		t.Parallel()
		channel := newChannel()
		listener := listen(t, channel)
		db := openDB(t, "postgres")
		r := sqlRig(t, db, pqstore.WithNotifyChannel(channel))
		second, err := pqstore.NewStore(pqConfig(r.names, pqstore.WithNotifyChannel(channel)))
		if err != nil {
			t.Fatal(err)
		}
		testNotify(t, r, sqlRigFor(db, second, r.names), listener, channel)
	})
}

// testNotify rolls back an append through r and commits one through
// second, then sends a marker: exactly one notification (the commit's,
// naming no quiet writers: it is second's first append) comes before it.
func testNotify[TX any](t *testing.T, r, second rig[TX], listener *pgx.Conn, channel string) {
	ctx := testContext(t)
	rolledBack := newEvents("RolledBack", 2)
	tx := r.mustBegin(t, ctx, false)
	r.mustAppend(t, ctx, tx, core.NoStream(), rolledBack...)
	if err := r.rollback(ctx, tx); err != nil {
		t.Fatal(err)
	}
	committed := newEvents("Committed", 3)
	second.appendCommitted(t, ctx, core.NoStream(), committed...)
	execSQL(t, "SELECT pg_notify($1, 'marker')", channel)

	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var before []string
	for {
		n, err := listener.WaitForNotification(waitCtx)
		if err != nil {
			t.Fatalf("waiting for the notifications: %v (got %q)", err, before)
		}
		if n.Channel != channel {
			t.Fatalf("notification on %q, want %q", n.Channel, channel)
		}
		if n.Payload == "marker" {
			break
		}
		before = append(before, n.Payload)
	}
	if len(before) != 1 || before[0] != "" {
		t.Fatalf("notifications before the marker: %q; want one, the commit's, with an empty payload (a rolled-back append notified?)", before)
	}
}

func newChannel() string {
	return "chronicle_it_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
}

// listen opens a connection listening on channel, closed when t ends.
func listen(t *testing.T, channel string) *pgx.Conn {
	t.Helper()
	needDatabase(t)
	ctx := testContext(t)
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	return conn
}

// A store notifies from at most one append per pgstore.NotifyInterval; the
// appends in between notify nothing themselves, and the next notifying
// append names their writers in its payload, so that consumers can wait for
// a quiet writer that commits late. Appends run back to back until a
// payload names writers; every id it names is a quiet append's writer.
func TestNotifyPayloadNamesQuietWriters(t *testing.T) {
	channel := newChannel()
	listener := listen(t, channel)
	pool := newPool(t, 0, 2)
	r := pgxRig(t, pool, pgxstore.WithNotifyChannel(channel))
	ctx := testContext(t)
	writers := map[int64]bool{}
	notified := make(chan string, 1000)
	listenCtx, stop := context.WithCancel(ctx)
	defer func() {
		// The listener's connection is closed at cleanup: let its reader end
		// first.
		stop()
		for range notified {
		}
	}()
	go func() {
		for {
			n, err := listener.WaitForNotification(listenCtx)
			if err != nil {
				close(notified)
				return
			}
			notified <- n.Payload
		}
	}()
	deadline := time.After(20 * time.Second)
	for {
		res := r.appendCommitted(t, ctx, core.NoStream(), newEvents("Order", 1)...)
		writers[res.Events[0].TransactionID] = true
		select {
		case p, ok := <-notified:
			if !ok {
				t.Fatal("the listener stopped")
			}
			if p == "" {
				continue
			}
			for _, f := range strings.Split(p, ",") {
				id, err := strconv.ParseInt(f, 10, 64)
				if err != nil || !writers[id] {
					t.Fatalf("payload %q names %q, not the writer of an earlier append of this store", p, f)
				}
			}
			return
		case <-deadline:
			t.Fatalf("no payload named a quiet writer after %d appends", len(writers))
		default:
		}
	}
}
