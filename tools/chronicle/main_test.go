package main

import (
	"bytes"
	"context"
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
	} {
		code, _, stderr := chronicle(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("chronicle %q: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
}

func TestCommandsAgainstPostgreSQL(t *testing.T) {
	url := db.URL(t)
	ctx := context.Background()
	schema := "cli_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:8]
	store, err := postgres.NewStore(postgres.NewStoreConfig(postgres.WithSchema(schema)))
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	ddl, err := store.SchemaSQL(postgres.SchemaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, ddl, pgx.QueryExecModeSimpleProtocol); err != nil {
		t.Fatal(err)
	}
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
	do(0, "reset", "projector")
	out := do(0, "status")
	if !regexp.MustCompile(`projector\s+0:0:\s+3\s+-\s+idle`).MatchString(out) {
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
	if out := do(0, "delete", "projector"); !strings.Contains(out, "projector has no checkpoint") {
		t.Fatalf("delete again: %s", out)
	}
	do(0, "reset", "projector")

	// A database restored into a cluster with lower ids looks like this.
	if _, err := pool.Exec(ctx, "UPDATE "+pgx.Identifier{schema, "transaction_order_offset"}.Sanitize()+" SET order_offset = order_offset - 1000000000"); err != nil {
		t.Fatal(err)
	}
	if out := do(1, "check-order"); !strings.Contains(out, "recover") {
		t.Fatalf("check-order on a moved log: %s", out)
	}
	do(0, "recover-order")
	do(0, "check-order")
}
