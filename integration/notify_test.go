package integration_test

import (
	"context"
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
// second.
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

	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	n, err := listener.WaitForNotification(waitCtx)
	if err != nil {
		t.Fatalf("waiting for the commit's notification: %v", err)
	}
	if n.Channel != channel || n.Payload != "Committed" {
		t.Fatalf("first notification: channel %q payload %q, want %q %q (a rolled-back append notified?)", n.Channel, n.Payload, channel, "Committed")
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

// The payload is the aggregate type up to 6999 bytes, and empty from 7000
// bytes on, as the NotifyChannel docs say; notifications arrive in commit
// order, so each one is matched to its append.
func TestNotifyPayloadLimit(t *testing.T) {
	channel := newChannel()
	listener := listen(t, channel)
	pool := newPool(t, 0, 2)
	r := pgxRig(t, pool, pgxstore.WithNotifyChannel(channel))
	ctx := testContext(t)
	for _, c := range []struct {
		size int
		want string
	}{{6999, strings.Repeat("a", 6999)}, {7000, ""}, {7001, ""}, {8100, ""}} {
		// A store of its own per append: its first append always notifies
		// (one append per pgstore.NotifyInterval does).
		store, err := pgxstore.NewStore(pgxConfig(r.names, pgxstore.WithNotifyChannel(channel)))
		if err != nil {
			t.Fatal(err)
		}
		pgxRigFor(pool, store, r.names).appendCommitted(t, ctx, core.NoStream(), newEvents(strings.Repeat("a", c.size), 1)...)
		waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		n, err := listener.WaitForNotification(waitCtx)
		cancel()
		if err != nil {
			t.Fatalf("type of %d bytes: waiting for the notification: %v", c.size, err)
		}
		if n.Payload != c.want {
			t.Errorf("type of %d bytes: payload of %d bytes, want %d", c.size, len(n.Payload), len(c.want))
		}
	}
}
