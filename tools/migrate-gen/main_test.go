package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s (run go test -update to create it): %v", path, err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run go test -update after checking the change):\n%s", path, got)
	}
}

func TestGolden(t *testing.T) {
	cases := []struct {
		golden string
		args   []string
	}{
		{"default.golden", nil},
		{"custom.golden", []string{"-schema", "Billing", "-events-table", "ledger_events", "-aggregate-heads-table", "ledger_heads",
			"-checkpoints-table", "ledger_cursors", "-order-offset-table", "ledger_order"}},
		{"no_trigger.golden", []string{"-no-append-only-trigger"}},
		{"app_role.golden", []string{"-schema", "es", "-app-role", "chronicle_app"}},
		{"long_names.golden", []string{"-events-table", strings.Repeat("e", 63)}},
	}
	for _, c := range cases {
		t.Run(c.golden, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(append(c.args, "-stdout"), &stdout, &stderr); code != 0 {
				t.Fatalf("exit status %d: %s", code, stderr.String())
			}
			golden(t, c.golden, stdout.String())

			// Deterministic: a second run gives the same bytes.
			var again bytes.Buffer
			run(append(c.args, "-stdout"), &again, &stderr)
			if again.String() != stdout.String() {
				t.Error("two runs with the same flags differ")
			}
		})
	}
}

func TestWritesFile(t *testing.T) {
	now = func() time.Time { return time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("X", 3600)) }
	t.Cleanup(func() { now = time.Now })
	dir := filepath.Join(t.TempDir(), "migrations", "nested")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-output", dir}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit status %d: %s", code, stderr.String())
	}
	path := filepath.Join(dir, "20260304040607_init_event_sourcing.sql") // the name is in UTC
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("default file name: %v (stdout %q)", err, stdout.String())
	}
	golden(t, "default.golden", string(got))
	if strings.TrimSpace(stdout.String()) != path {
		t.Errorf("stdout %q, want the written path %q", stdout.String(), path)
	}

	// -filename, and rewriting an existing file (go:generate runs again).
	for range 2 {
		stdout.Reset()
		if code := run([]string{"-output", dir, "-filename", "0001_chronicle.sql", "-schema", "app"}, &stdout, &stderr); code != 0 {
			t.Fatalf("exit status %d: %s", code, stderr.String())
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got, want := strings.Join(names, " "), "0001_chronicle.sql 20260304040607_init_event_sourcing.sql"; got != want {
		t.Errorf("directory holds %q, want %q (no temporary files left)", got, want)
	}
}

// Bad flags and names: one line naming the flag on stderr, exit status 2,
// nothing written.
func TestRejects(t *testing.T) {
	cases := []struct {
		args []string
		flag string
	}{
		{[]string{"-events-table", "events; DROP TABLE x"}, "-events-table"},
		{[]string{"-aggregate-heads-table", `heads"`}, "-aggregate-heads-table"},
		{[]string{"-checkpoints-table", strings.Repeat("c", 64)}, "-checkpoints-table"},
		{[]string{"-order-offset-table", "ordre_décalage"}, "-order-offset-table"},
		{[]string{"-schema", "1app"}, "-schema"},
		{[]string{"-app-role", `app"; DROP TABLE events; --`}, "-app-role"},
		{[]string{"-app-role", "app' OR '1'='1"}, "-app-role"},
		{[]string{"-app-role", "app role"}, "-app-role"},
		{[]string{"-schema", `es"; GRANT ALL ON events TO public; --`}, "-schema"},
		{[]string{"-events-table", "$1"}, "-events-table"},
		{[]string{"-events-table", ""}, "-events-table"},
		{[]string{"-checkpoints-table", "events"}, "-checkpoints-table"},
		{[]string{"-filename", "../escape.sql"}, "-filename"},
		{[]string{"-bogus"}, "-bogus"},
		{[]string{"-stdout=maybe"}, "-stdout"},
		{[]string{"positional"}, "positional"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			dir := t.TempDir()
			var stdout, stderr bytes.Buffer
			code := run(append([]string{"-output", dir}, c.args...), &stdout, &stderr)
			if code != 2 {
				t.Errorf("exit status %d, want 2", code)
			}
			msg := stderr.String()
			if strings.Count(msg, "\n") != 1 || !strings.HasSuffix(msg, "\n") || !strings.Contains(msg, c.flag) {
				t.Errorf("stderr %q, want one line naming %s", msg, c.flag)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q, want nothing", stdout.String())
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("%d file(s) written", len(entries))
			}
		})
	}
}

func TestHelp(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-help"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit status %d", code)
	}
	for _, f := range []string{"-output", "-filename", "-stdout", "-schema", "-events-table", "-aggregate-heads-table",
		"-checkpoints-table", "-order-offset-table", "-no-append-only-trigger", "-app-role"} {
		if !strings.Contains(stderr.String(), f[1:]) {
			t.Errorf("help does not mention %s", f)
		}
	}
}
