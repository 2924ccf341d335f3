package examples_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
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

func TestLifecycleExample(t *testing.T) {
	url := db.URL(t)
	for run := 1; run <= 2; run++ { // the schema is idempotent and every run has its own account
		out := runExample(t, "lifecycle", "DATABASE_URL="+url)
		want := "balance 2500 at version 250: snapshot at version 200, 50 events replayed\n" +
			"closed with $tombstone at version 251\n" +
			"deposit refused: true\n" +
			"deleted 251 events and 1 snapshots\n" +
			"stream now: 0 events, closed true, deleted true\n"
		if out != want {
			t.Fatalf("run %d output:\n%s\nwant:\n%s", run, out, want)
		}
	}
}

// TestConsumerExample runs the consumer example twice on one database:
// the projection, its replay, and its rebuild as a partitioned new version
// shared by two processors. The rebuild's counts depend on the events the
// database holds; what must hold is that it delivered exactly the events
// it was behind, at least the ones this program appended in every run.
func TestConsumerExample(t *testing.T) {
	url := db.URL(t)
	behind := regexp.MustCompile(`(?m)^order-totals\.v2: rebuilding from the start of the log: 0 events delivered, (\d+) behind$`)
	for run := 1; run <= 2; run++ { // a second run replays the first run's orders too
		out := runExample(t, "consumer", "DATABASE_URL="+url)
		m := behind.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("run %d: no rebuild progress in the output:\n%s", run, out)
		}
		n, _ := strconv.Atoi(m[1])
		if n < 7*run {
			t.Errorf("run %d: the rebuild was %d events behind, fewer than the %d this program appended", run, n, 7*run)
		}
		want := "order total: 2749 in 3 lines\n" +
			"consumer order-totals: 0 events behind, stopped: false, last error: \"\"\n" +
			"after replay: order total: 2749 in 3 lines\n" +
			"order-totals with 4 partitions: consumer partitions changed\n" +
			"added an order of 1000 in each of the 4 partitions\n" +
			fmt.Sprintf("order-totals.v2: rebuilding from the start of the log: 0 events delivered, %d behind\n", n) +
			fmt.Sprintf("order-totals.v2: caught up: %d events delivered, 0 behind\n", n) +
			"partitions of order-totals.v2: process-a runs 2, process-b runs 2\n" +
			"order-totals.v2 and order-totals differ on 0 orders\n" +
			"order-totals.v2 holds the order of each partition: 4000 in 4 lines\n" +
			"reads switch to order-totals.v2\n" +
			"order-totals.v2: order total: 2749 in 3 lines\n" +
			"deleted the checkpoint of order-totals: true\n" +
			"process-b stopped; partitions of order-totals.v2: process-a runs 4\n"
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

// TestObservabilityExample runs the OpenTelemetry example and checks its
// spans — the Handle spans children of the batch and linked to the append
// span — and its /metrics lines before and after the consumer ran.
func TestObservabilityExample(t *testing.T) {
	url := db.URL(t)
	hex := func(n int) string { return fmt.Sprintf("([0-9a-f]{%d})", n) }
	appendSpan := regexp.MustCompile(`(?m)^span chronicle\.Append +trace ` + hex(32) + ` span ` + hex(16) + ` parent ` + hex(16) + ` chronicle\.append\.outcome=appended$`)
	requestSpan := regexp.MustCompile(`(?m)^span POST /shipments +trace ` + hex(32) + ` span ` + hex(16) + `$`)
	handleSpan := regexp.MustCompile(`(?m)^span chronicle\.Handle +trace ` + hex(32) + ` span ` + hex(16) + ` parent ` + hex(16) + ` link ` + hex(32) + `/` + hex(16) + ` chronicle\.event\.type=(\w+)$`)
	batchSpan := regexp.MustCompile(`(?m)^span chronicle\.Batch +trace ` + hex(32) + ` span ` + hex(16) + ` messaging\.batch\.message_count=3$`)
	const consumerLabels = `{messaging_consumer_group_name="shipments",messaging_system="chronicle"}`
	for run := 1; run <= 2; run++ { // the consumer's checkpoint stays: a second run sees only its own events behind
		out := runExample(t, "observability", "DATABASE_URL="+url)
		req, app, batch := requestSpan.FindStringSubmatch(out), appendSpan.FindStringSubmatch(out), batchSpan.FindStringSubmatch(out)
		handles := handleSpan.FindAllStringSubmatch(out, -1)
		if req == nil || app == nil || batch == nil || len(handles) != 3 {
			t.Fatalf("run %d: spans missing from the output:\n%s", run, out)
		}
		if app[1] != req[1] || app[3] != req[2] {
			t.Errorf("run %d: the append span is not the request's child:\n%s", run, out)
		}
		var types []string
		for _, h := range handles {
			if h[1] != batch[1] || h[3] != batch[2] || h[4] != app[1] || h[5] != app[2] {
				t.Errorf("run %d: Handle span %q is not the batch's child linked to the append span", run, h[0])
			}
			types = append(types, h[6])
		}
		if got := strings.Join(types, " "); got != "ShipmentCreated ParcelPacked ShipmentDispatched" {
			t.Errorf("run %d: handled %s", run, got)
		}
		before, after, ok := strings.Cut(out, "/metrics after it ran:\n")
		if !ok {
			t.Fatalf("run %d: no metrics after the run:\n%s", run, out)
		}
		for _, want := range []string{"chronicle_consumer_lag" + consumerLabels + " 3\n"} {
			if !strings.Contains(before, want) {
				t.Errorf("run %d: before the consumer ran, no %q in:\n%s", run, want, before)
			}
		}
		for _, want := range []string{
			"chronicle_consumer_lag" + consumerLabels + " 0\n",
			"chronicle_consumer_lag_age_seconds" + consumerLabels + " 0\n",
			"chronicle_consumer_events_handled_total" + consumerLabels + " 3\n",
			"chronicle_consumer_batch_duration_seconds_count" + consumerLabels + " 1\n",
			`chronicle_events_appended_total{chronicle_aggregate_type="Shipment"} 3` + "\n",
			`chronicle_append_duration_seconds_count{chronicle_aggregate_type="Shipment",chronicle_append_outcome="appended",db_operation_name="Append",db_system_name="postgresql"} 1` + "\n",
		} {
			if !strings.Contains(after, want) {
				t.Errorf("run %d: after the consumer ran, no %q in:\n%s", run, want, after)
			}
		}
	}
}
