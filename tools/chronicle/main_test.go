package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	postgres "github.com/chronicle-go/chronicle/adapters/postgres-pgx"
	"github.com/chronicle-go/chronicle/core"
	"github.com/chronicle-go/chronicle/internal/pgtest"
)

var db pgtest.TestDatabase

func TestMain(m *testing.M) { os.Exit(db.Run(m, "chronicle_cli")) }

func chronicle(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(t.Context(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestUsageErrors(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "no command"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"-database-url", "postgres://x", "reset"}, "reset takes 1 argument(s), got 0"},
		{[]string{"status"}, "-database-url: no database given"},
		{[]string{"-database-url", "postgres://x", "-events-table", "events; DROP TABLE x", "status"}, "EventsTable"},
		{[]string{"-database-url", "postgres://x", "set-cursor", "c", "12"}, "cursor"},
		{[]string{"-database-url", "postgres://x", "set-cursor", "c", "5:3:"}, "xmin <= xmax"},
		{[]string{"-database-url", "postgres://x", "delete"}, "delete takes 1 argument(s), got 0"},
		{[]string{"-no-such-flag", "status"}, "flag provided but not defined"},
		{[]string{"-database-url", "postgres://x", "delete-stream", "Order"}, "delete-stream takes 2 argument(s), got 1"},
		{[]string{"-database-url", "postgres://x", "delete-stream", "Order", "o-1"}, "pass -confirm Order/o-1"},
		{[]string{"-database-url", "postgres://x", "-confirm", "Order/a\x00b", "delete-stream", "Order", "a\x00b"}, "aggregateID"},
	} {
		code, _, stderr := chronicle(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("chronicle %q: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

// newSchema creates Chronicle's tables in a new schema named prefix_…
// of the test database, and returns the schema, a store over it and a pool
// closed when t ends.
func newSchema(t *testing.T, prefix string) (string, *postgres.Store, *pgxpool.Pool) {
	t.Helper()
	schema := prefix + "_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:8]
	store, err := postgres.NewStore(postgres.NewStoreConfig(postgres.WithSchema(schema)))
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(t.Context(), db.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	ddl, err := store.SchemaSQL(postgres.SchemaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(t.Context(), ddl, pgx.QueryExecModeSimpleProtocol); err != nil {
		t.Fatal(err)
	}
	return schema, store, pool
}

func TestCommandsAgainstPostgreSQL(t *testing.T) {
	url := db.URL(t)
	ctx := context.Background()
	schema, store, pool := newSchema(t, "cli")
	for range 3 {
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.Append(ctx, tx, core.Any(), []core.Event{{AggregateType: "Order", AggregateID: "o-1", EventID: uuid.New(), EventType: "Placed"}}); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	base := []string{"-database-url", url, "-schema", schema}
	do := func(want int, args ...string) string {
		t.Helper()
		code, stdout, stderr := chronicle(t, append(append([]string(nil), base...), args...)...)
		if code != want {
			t.Fatalf("chronicle %q: exit %d, want %d\nstdout: %s\nstderr: %s", args, code, want, stdout, stderr)
		}
		return stdout + stderr
	}

	if out := do(0, "status"); !strings.Contains(out, "no consumers yet") {
		t.Fatalf("status on a new store: %s", out)
	}
	if out := do(1, "reset", "projector"); !strings.Contains(out, `consumer "projector" has no checkpoint (there are none); pass -create`) {
		t.Fatalf("reset of an unknown consumer: %s", out)
	}
	do(0, "-create", "reset", "projector")
	out := do(0, "status")
	if !regexp.MustCompile(`projector\s+0:0:\s+3\s+0\s+-\s+\?\s+-\s+idle`).MatchString(out) {
		t.Fatalf("status after reset:\n%s", out)
	}
	do(0, "start-from-now", "projector")
	// Exactly the events visible now are skipped, whatever else runs on
	// the server.
	if out := do(0, "status"); !regexp.MustCompile(`projector\s+\d+:\d+:[\d,]*\s+0\s`).MatchString(out) {
		t.Fatalf("status after start-from-now:\n%s", out)
	}
	if out := do(1, "set-cursor", "projector", "999999999999:999999999999:"); !strings.Contains(out, "after the current snapshot") {
		t.Fatalf("set-cursor after now: %s", out)
	}
	do(0, "set-cursor", "projector", "0:0:")
	if out := do(0, "status"); !regexp.MustCompile(`projector\s+0:0:\s+3\s`).MatchString(out) {
		t.Fatalf("status after set-cursor to the start:\n%s", out)
	}
	if out := do(0, "check-order"); !strings.HasPrefix(out, "ok: ") {
		t.Fatalf("check-order: %s", out)
	}
	if out := do(0, "holders"); out == "" {
		t.Fatal("holders printed nothing")
	}
	if out := do(0, "delete", "projector"); !strings.Contains(out, "projector deleted") {
		t.Fatalf("delete: %s", out)
	}
	if out := do(0, "status"); !strings.Contains(out, "no consumers yet") {
		t.Fatalf("status after delete: %s", out)
	}
	if out := do(1, "delete", "projector"); !strings.Contains(out, `consumer "projector" has no checkpoint`) {
		t.Fatalf("delete again: %s", out)
	}
	if out := do(1, "-create", "delete", "projector"); !strings.Contains(out, "has no checkpoint") {
		t.Fatalf("delete with -create creates nothing: %s", out)
	}
	do(0, "-create", "reset", "projector")
	if out := do(1, "reset", "projectr"); !strings.Contains(out, `consumer "projectr" has no checkpoint (known: projector)`) {
		t.Fatalf("a misspelt consumer: %s", out)
	}

	// -json: every command's result parses, and errors come as JSON too.
	var st []struct {
		Consumer   string           `json:"consumer"`
		Cursor     string           `json:"cursor"`
		Behind     int64            `json:"behind"`
		WaitingFor []map[string]any `json:"waiting_for"`
	}
	if err := json.Unmarshal([]byte(do(0, "-json", "status")), &st); err != nil || len(st) != 1 || st[0].Consumer != "projector" ||
		st[0].Cursor != "0:0:" || st[0].Behind != 3 || st[0].WaitingFor == nil {
		t.Fatalf("status -json: %+v, %v", st, err)
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(do(0, "-json", "start-from-now", "projector")), &res); err != nil || res["action"] != "start-from-now" {
		t.Fatalf("start-from-now -json: %v, %v", res, err)
	}
	if err := json.Unmarshal([]byte(do(0, "-json", "check-order")), &res); err != nil || res["moved"] != false {
		t.Fatalf("check-order -json: %v, %v", res, err)
	}
	if err := json.Unmarshal([]byte(do(0, "-json", "holders")), &[]map[string]any{}); err != nil {
		t.Fatalf("holders -json: %v", err)
	}
	if err := json.Unmarshal([]byte(do(1, "-json", "reset", "nobody")), &res); err != nil || !strings.Contains(fmt.Sprint(res["error"]), "-create") {
		t.Fatalf("an error with -json: %v, %v", res, err)
	}

	// A database restored into a cluster with lower ids looks like this.
	if _, err := pool.Exec(ctx, "UPDATE "+pgx.Identifier{schema, "transaction_order_offset"}.Sanitize()+" SET order_offset = order_offset - 1000000000"); err != nil {
		t.Fatal(err)
	}
	if out := do(1, "check-order"); !strings.Contains(out, "recover") {
		t.Fatalf("check-order on a moved log: %s", out)
	}
	do(0, "recover-order")
	do(0, "check-order")

	// delete-stream: only with -confirm naming the stream, then the
	// events are gone and the stream closed.
	if out := do(2, "delete-stream", "Order", "o-1"); !strings.Contains(out, "pass -confirm Order/o-1") {
		t.Fatalf("delete-stream without -confirm: %s", out)
	}
	if out := do(2, "-confirm", "Order/o-2", "delete-stream", "Order", "o-1"); !strings.Contains(out, "cannot be undone") {
		t.Fatalf("delete-stream confirming another stream: %s", out)
	}
	if out := do(0, "-confirm", "Order/o-1", "delete-stream", "Order", "o-1"); !strings.Contains(out, "deleted 3 events and 0 snapshots; the stream stays closed at version 3") {
		t.Fatalf("delete-stream: %s", out)
	}
	var deleted map[string]any
	if err := json.Unmarshal([]byte(do(0, "-json", "-confirm", "Order/o-1", "delete-stream", "Order", "o-1")), &deleted); err != nil ||
		deleted["existed"] != true || deleted["events"] != float64(0) || deleted["version"] != float64(3) {
		t.Fatalf("delete-stream -json again: %v, %v", deleted, err)
	}
	if out := do(0, "-confirm", "Order/none", "delete-stream", "Order", "none"); !strings.Contains(out, "nothing deleted") {
		t.Fatalf("delete-stream of an unknown stream: %s", out)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	s, err := store.ReadAggregateStream(ctx, tx, "Order", "o-1", nil, nil)
	if err != nil || s.Len() != 0 || !s.Deleted {
		t.Fatalf("the stream after delete-stream: %+v, %v", s, err)
	}
}

// No output ever holds the database's password: not the usage (whose
// flag default would show $DATABASE_URL), not a connection error, not a
// bad flag, in text or JSON.
func TestNoPasswordIsPrinted(t *testing.T) {
	const secret = "s3cr3t-Pa55"
	for _, dsn := range []string{
		"postgres://app:" + secret + "@127.0.0.1:1/db?sslmode=disable&connect_timeout=1",
		"host=127.0.0.1 port=1 user=app password=" + secret + " dbname=db connect_timeout=1",
		"host=127.0.0.1 port=1 user=app password='" + secret + "' dbname=db connect_timeout=1",
		"postgres://app@127.0.0.1:1/db?password=" + secret + "&connect_timeout=1",
		"postgres://app:" + secret + "@[bad/db",
	} {
		t.Setenv("DATABASE_URL", dsn)
		for _, args := range [][]string{{"-h"}, {"-no-such-flag"}, {"status"}, {"-json", "status"}, {"-database-url", dsn, "holders"},
			{"set-cursor", "c", "bad"}, {"-json", "-create", "reset", "c"}, {"watch", "-interval", "10ms"}, {"-json", "watch", "-until-caught-up", "c"},
			{"watch", "-interval", "0"}} {
			_, stdout, stderr := chronicle(t, args...)
			if strings.Contains(stdout+stderr, secret) {
				t.Errorf("chronicle %q with %q printed the password:\n%s%s", args, dsn, stdout, stderr)
			}
		}
	}
}

func TestRedact(t *testing.T) {
	for _, c := range []struct{ msg, dsn, want string }{
		{"cannot parse `postgres://u:p%40ss@h/db`: failed", "postgres://u:p%40ss@h/db", "cannot parse `postgres://u:xxxxx@h/db`: failed"},
		{"dial postgres://u:pw@h:1/db failed", "", "dial postgres://u:xxxxx@h:1/db failed"},
		{"bad dsn: host=h password=hunter2 user=u", "", "bad dsn: host=h password=xxxxx user=u"},
		{"bad dsn: host=h password='two words' user=u", "", "bad dsn: host=h password=xxxxx user=u"},
		{"the password hunter2 was wrong", "host=h password=hunter2", "the password xxxxx was wrong"},
		{"postgres://u@h/db?password=pw&x=1", "", "postgres://u@h/db?password=xxxxx&x=1"},
		{"nothing secret", "postgres://u@h/db", "nothing secret"},
	} {
		if got := redact(c.msg, c.dsn); got != c.want {
			t.Errorf("redact(%q, %q) = %q, want %q", c.msg, c.dsn, got, c.want)
		}
	}
}
