package examples_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-go/chronicle/internal/pgtest"
)

var db pgtest.TestDatabase

func TestMain(m *testing.M) { os.Exit(db.Run(m, "chronicle_examples")) }

// runExample builds the example in dir and runs it with env, returning
// its output; the test fails if it exits non-zero.
func runExample(t *testing.T, dir string, env ...string) string {
	t.Helper()
	return runExampleArgs(t, dir, nil, env...)
}

// runExampleArgs is runExample with command-line arguments.
func runExampleArgs(t *testing.T, dir string, args []string, env ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), filepath.Base(dir))
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./"+dir)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./%s: %v\n%s", dir, err, out)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", dir, err, out.String())
	}
	return out.String()
}

func TestBasicExamples(t *testing.T) {
	t.Run("memory", func(t *testing.T) {
		out := runExample(t, "basic/memory")
		want := "order-42 is at version 1\nstream: 1 OrderPlaced {\"total\":1999}\nlog: 1 Order order-42 OrderPlaced\n"
		if out != want {
			t.Fatalf("output:\n%s\nwant:\n%s", out, want)
		}
	})
	for _, dir := range []string{"basic/pgx", "basic/sql"} {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			url := db.URL(t)
			for run := 1; run <= 2; run++ { // the schema is idempotent: a second run works too
				out := runExample(t, dir, "DATABASE_URL="+url)
				want := regexp.MustCompile(`(?s)^the order is at version 1\nstream: 1 OrderPlaced \{"total":1999\}\n(log: \d+ Order OrderPlaced\n)+$`)
				if !want.MatchString(out) {
					t.Fatalf("run %d output:\n%s", run, out)
				}
			}
		})
	}
}

func TestConsumerExample(t *testing.T) {
	url := db.URL(t)
	for run := 1; run <= 2; run++ { // a second run replays the first run's orders too
		out := runExample(t, "consumer", "DATABASE_URL="+url)
		want := "order total: 2749 in 3 lines\n" +
			"consumer order-totals: 0 events behind, stopped: false, last error: \"\"\n" +
			"after replay: order total: 2749 in 3 lines\n"
		if out != want {
			t.Fatalf("run %d output:\n%s\nwant:\n%s", run, out, want)
		}
	}
}

// TestShreddingExample seals, opens, rotates and forgets on PostgreSQL;
// a second run on the same database works too.
func TestShreddingExample(t *testing.T) {
	url := db.URL(t)
	want := "opened: email ada@example.com, plan pro (stored sealed)\n" +
		"rotated the wrapping key: 1 data key rewrapped, email still ada@example.com\n" +
		"forgot the customer: email \"\" (erased [email]), plan pro\n"
	for run := 1; run <= 2; run++ {
		if out := runExample(t, "shredding", "DATABASE_URL="+url); out != want {
			t.Fatalf("run %d output:\n%s\nwant:\n%s", run, out, want)
		}
	}
}

// TestReadmeCodeIsTheExamples keeps the README honest: every Go block that
// follows a `<!-- example: PATH -->` marker must be that file, which the
// tests build and run.
func TestReadmeCodeIsTheExamples(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	marker := regexp.MustCompile("(?s)<!-- example: (\\S+) -->\\s*```go\n(.*?)```")
	matches := marker.FindAllSubmatch(readme, -1)
	if len(matches) == 0 {
		t.Fatal("README has no example markers")
	}
	for _, m := range matches {
		path := string(m[1])
		want, err := os.ReadFile(filepath.Join("..", path))
		if err != nil {
			t.Errorf("README names %s: %v", path, err)
			continue
		}
		if got := string(m[2]); got != string(want) {
			t.Errorf("README's copy of %s differs from the file; paste the file into the README", path)
		}
	}
	// A fragment must be code of the file it names, line by line, so that
	// it too is compiled and run.
	fragment := regexp.MustCompile("(?s)<!-- fragment of (\\S+) -->\\s*```go\n(.*?)```")
	fragments := fragment.FindAllSubmatch(readme, -1)
	for _, m := range fragments {
		path := string(m[1])
		file, err := os.ReadFile(filepath.Join("..", path))
		if err != nil {
			t.Errorf("README names %s: %v", path, err)
			continue
		}
		lines := map[string]bool{}
		for _, l := range strings.Split(string(file), "\n") {
			lines[strings.TrimSpace(l)] = true
		}
		for _, l := range strings.Split(string(m[2]), "\n") {
			if l = strings.TrimSpace(l); l != "" && l != "// …" && !lines[l] {
				t.Errorf("README's fragment of %s has a line the file does not: %q", path, l)
			}
		}
	}
	// Every Go block must be one or the other.
	if blocks := strings.Count(string(readme), "```go\n"); blocks != len(matches)+len(fragments) {
		t.Errorf("README has %d Go blocks but %d example and %d fragment markers", blocks, len(matches), len(fragments))
	}
}

// TestDemo runs make demo's program on the tests' database and, when the
// PostgreSQL binaries are installed, on a throw-away cluster of its own.
func TestDemo(t *testing.T) {
	want := regexp.MustCompile(`(?s)applied them to .*the order is at version 1\n.*the events table holds \d+ event.*The demo ran successfully\.\n$`)
	t.Run("DATABASE_URL", func(t *testing.T) {
		out := runExample(t, "demo", "DATABASE_URL="+db.URL(t))
		if !want.MatchString(out) || !strings.Contains(out, "using $DATABASE_URL as it is") {
			t.Fatalf("output:\n%s", out)
		}
	})
	t.Run("initdb", func(t *testing.T) {
		if _, err := pgtest.BinDir(); err != nil && os.Getenv("CI") != "true" {
			t.Skip(err)
		}
		out := runExampleArgs(t, "demo", []string{"-initdb"})
		if !want.MatchString(out) || !strings.Contains(out, "stopped the throw-away cluster and removed its directory") {
			t.Fatalf("output:\n%s", out)
		}
	})
}

// TestUnitTestingExample runs, on PostgreSQL, the handlers that
// unit-testing/orders tests on the in-memory store.
func TestUnitTestingExample(t *testing.T) {
	out := runExample(t, "unit-testing", "DATABASE_URL="+db.URL(t))
	want := "placed an order with a credit limit of 1000\n" +
		"5 concurrent lines of 300: 3 added, 2 refused by the credit limit\n" +
		"the order: total 900 in 3 lines, at version 4\n"
	if out != want {
		t.Fatalf("output:\n%s\nwant:\n%s", out, want)
	}
}
