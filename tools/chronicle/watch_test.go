package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	postgres "github.com/chronicle-go/chronicle/adapters/postgres-pgx"
	"github.com/chronicle-go/chronicle/consumer"
	"github.com/chronicle-go/chronicle/core"
)

func TestWatchUsageErrors(t *testing.T) {
	const db = "postgres://x@127.0.0.1:1/x"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-database-url", db, "watch", "-interval", "0"}, "invalid argument -interval: must be positive, got 0s"},
		{[]string{"-database-url", db, "watch", "-interval", "-1s"}, "must be positive, got -1s"},
		{[]string{"-database-url", db, "watch", "orders", "-interval", "0s"}, "must be positive"},
		{[]string{"-database-url", db, "watch", "-interval", "soon"}, `invalid value "soon" for flag -interval`},
		{[]string{"-database-url", db, "watch", "-no-such-flag"}, "flag provided but not defined"},
		{[]string{"-database-url", db, "watch", "a", "b"}, "watch takes at most 1 argument (a consumer), got 2"},
		{[]string{"-database-url", db, "watch", "a\x00b"}, "consumer"},
		{[]string{"watch"}, "-database-url: no database given"},
	} {
		t.Setenv("DATABASE_URL", "")
		code, stdout, stderr := chronicle(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) || stdout != "" {
			t.Errorf("chronicle %q: exit %d, stdout %q, stderr %q; want 2 and %q", tc.args, code, stdout, stderr, tc.want)
		}
	}
	if code, _, stderr := chronicle(t, "watch", "-h"); code != 0 || !strings.Contains(stderr, "-until-caught-up") {
		t.Errorf("watch -h: exit %d, stderr %q", code, stderr)
	}
	// A database that cannot be reached: the first read fails the command.
	code, _, stderr := chronicle(t, "-database-url", db+"?connect_timeout=1", "-timeout", "5s", "watch", "-interval", "10ms")
	if code != 1 || !strings.Contains(stderr, "chronicle: watch: ") {
		t.Errorf("watch of an unreachable database: exit %d, stderr %q; want 1", code, stderr)
	}
}

func TestParseWatchTakesFlagsAroundTheConsumer(t *testing.T) {
	for _, args := range [][]string{
		{"-interval", "5s", "-until-caught-up", "orders"},
		{"orders", "-interval", "5s", "-until-caught-up"},
		{"-interval", "5s", "orders", "-until-caught-up"},
		{"-interval", "5s", "-until-caught-up", "--", "orders"},
	} {
		o, err := parseWatch(args, &bytes.Buffer{})
		if err != nil || o.consumer != "orders" || o.interval != 5*time.Second || !o.untilCaughtUp {
			t.Errorf("parseWatch(%q) = %+v, %v", args, o, err)
		}
	}
	if o, err := parseWatch([]string{"--", "-interval"}, &bytes.Buffer{}); err != nil || o.consumer != "-interval" || o.interval != 2*time.Second {
		t.Errorf("a consumer named like a flag after --: %+v, %v", o, err)
	}
	if o, err := parseWatch(nil, &bytes.Buffer{}); err != nil || o.consumer != "" || o.interval != 2*time.Second || o.untilCaughtUp {
		t.Errorf("the defaults: %+v, %v", o, err)
	}
}

// partitionStatus is the status of one partition of a consumer.
func partitionStatus(name string, index, count int, delivered, behind int64, rate float64) consumer.Status {
	p := core.Partition{Index: index, Count: count}
	return consumer.Status{Checkpoint: core.Checkpoint{ConsumerName: core.PartitionCheckpointName(name, p), Delivered: delivered},
		Behind: behind, Consumer: name, Partition: p, Rate: rate}
}

// The rate is the delivered count's change over the last refresh, the
// consumers' own average only on the first sample and after a reset.
func TestWatchMeasuresTheRateOverTheLastRefresh(t *testing.T) {
	w := newWatcher(output{}, nil, watchOptions{interval: time.Second}, time.Second)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	text := func(st []consumer.Status, at time.Time) string {
		t.Helper()
		rows, err := w.rows(st, at)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, r := range rows {
			lines = append(lines, r.Consumer+" "+progressText(r))
		}
		return strings.Join(lines, "\n")
	}
	single := consumer.Status{Checkpoint: core.Checkpoint{ConsumerName: "projector", Delivered: 7}, Consumer: "projector", Rate: 3}
	st := []consumer.Status{partitionStatus("orders", 1, 2, 50, 50, 10), partitionStatus("orders", 0, 2, 50, 50, 10), single}
	if got, want := text(st, at), "orders 100/200 events (50.0%) 20 ev/s ETA 5s\nprojector 7/7 events (100.0%) 3.0 ev/s caught up"; got != want {
		t.Errorf("first sample:\n%s\nwant\n%s", got, want)
	}
	st = []consumer.Status{partitionStatus("orders", 0, 2, 70, 30, 10), partitionStatus("orders", 1, 2, 70, 30, 10), single}
	if got, want := text(st, at.Add(2*time.Second)), "orders 140/200 events (70.0%) 20 ev/s ETA 3s\nprojector 7/7 events (100.0%) 0 ev/s caught up"; got != want {
		t.Errorf("after 2s:\n%s\nwant\n%s", got, want)
	}
	// Reset: the count restarts, the rate falls back to the consumer's.
	st = []consumer.Status{partitionStatus("orders", 0, 2, 1, 199, 0.5), partitionStatus("orders", 1, 2, 0, 200, 0)}
	if got, want := text(st, at.Add(4*time.Second)), "orders 1/400 events (0.2%) 0.5 ev/s ETA 13m18s"; got != want {
		t.Errorf("after a reset:\n%s\nwant\n%s", got, want)
	}
	st = []consumer.Status{partitionStatus("orders", 0, 2, 1, 199, 0.5), partitionStatus("orders", 1, 2, 0, 200, 0)}
	if got, want := text(st, at.Add(6*time.Second)), "orders 1/400 events (0.2%) 0 ev/s ETA unknown"; got != want {
		t.Errorf("no progress:\n%s\nwant\n%s", got, want)
	}
	// Rounded down: 99.95% is not shown as done.
	w = newWatcher(output{}, nil, watchOptions{interval: time.Second, consumer: "orders[1/2]"}, time.Second)
	st = []consumer.Status{partitionStatus("orders", 0, 2, 0, 1, 0), partitionStatus("orders", 1, 2, 1999, 1, 0)}
	if got, want := text(st, at), "orders[1/2] 1999/2000 events (99.9%) 0 ev/s ETA unknown"; got != want {
		t.Errorf("one partition watched by its name:\n%s\nwant\n%s", got, want)
	}
	if _, err := w.rows(st[:1], at); err == nil || !strings.Contains(err.Error(), `consumer "orders[1/2]" has no checkpoint any more`) {
		t.Errorf("a watched checkpoint deleted meanwhile: %v", err)
	}
}

// On a terminal each refresh goes up over the lines drawn last, clears
// and redraws them, a bar per consumer that fits the terminal's width.
func TestWatchRedrawsBarsInPlace(t *testing.T) {
	var out bytes.Buffer
	w := newWatcher(output{stdout: &out}, nil, watchOptions{interval: time.Second}, time.Second)
	cols := 100
	w.live, w.width = true, func() int { return cols }
	at := time.Now()
	show := func(st []consumer.Status) string {
		t.Helper()
		out.Reset()
		rows, err := w.rows(st, at)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.show(rows); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	evil := consumer.Status{Checkpoint: core.Checkpoint{ConsumerName: "x\x1b[2Jy"}, Consumer: "x\x1b[2Jy"}
	first := show([]consumer.Status{partitionStatus("orders", 0, 1, 25, 75, 5), evil})
	if strings.Contains(first, "\x1b[2J") || !strings.Contains(first, `"x\x1b[2Jy"`) {
		t.Errorf("a name's control sequence reached the terminal: %q", first)
	}
	lines := strings.Split(strings.TrimSuffix(first, "\x1b[J"), "\n")
	if len(lines) != 3 || lines[2] != "" || strings.HasPrefix(first, "\x1b[") && !strings.HasPrefix(first, "\r\x1b[2K") {
		t.Fatalf("first draw: %q", first)
	}
	for _, l := range lines[:2] {
		if !strings.HasPrefix(l, "\r\x1b[2K") {
			t.Errorf("line %q is not cleared first", l)
		}
	}
	if want := "orders      " + strings.Repeat("█", 6) + strings.Repeat("░", 18) + " 25/100 events (25.0%) 5.0 ev/s ETA 15s"; !strings.Contains(first, want) {
		t.Errorf("first draw %q lacks the bar %q", first, want)
	}
	cols = 40
	second := show([]consumer.Status{partitionStatus("orders", 0, 1, 100, 0, 5)})
	if !strings.HasPrefix(second, "\x1b[2A\r\x1b[2K") || !strings.HasSuffix(second, "\n\x1b[J") ||
		strings.Count(second, "\n") != 1 {
		t.Errorf("second draw (one consumer left): %q", second)
	}
	// A line as wide as the terminal would wrap: it is cut one short.
	if line := strings.TrimSuffix(strings.TrimPrefix(second, "\x1b[2A\r\x1b[2K"), "\n\x1b[J"); line != "orders "+strings.Repeat("█", 24)+" 100/100" {
		t.Errorf("the line on a terminal 40 wide: %q", line)
	}
	if third := show(nil); !strings.HasPrefix(third, "\x1b[1A\r\x1b[2Kno consumers yet\n") {
		t.Errorf("no consumers: %q", third)
	}
}

// notifyBuffer is an output a test can wait on: each write wakes the
// waiters.
type notifyBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	changed chan struct{} // closed by the next write
}

func newNotifyBuffer() *notifyBuffer { return &notifyBuffer{changed: make(chan struct{})} }

func (n *notifyBuffer) Write(p []byte) (int, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	close(n.changed)
	n.changed = make(chan struct{})
	return n.b.Write(p)
}

// snapshot returns the output so far and a channel closed by the next
// write.
func (n *notifyBuffer) snapshot() (string, <-chan struct{}) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.b.String(), n.changed
}

// started is a command running in the background.
type started struct {
	stdout, stderr *notifyBuffer
	done           chan struct{}
	code           int
}

func start(ctx context.Context, args ...string) *started {
	c := &started{stdout: newNotifyBuffer(), stderr: newNotifyBuffer(), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		c.code = run(ctx, args, c.stdout, c.stderr)
	}()
	return c
}

// waitFor returns the command's output once match holds for it; it fails
// t when the command exits first or a minute passes.
func (c *started) waitFor(t *testing.T, what string, match func(stdout string) bool) string {
	t.Helper()
	deadline := time.NewTimer(time.Minute)
	defer deadline.Stop()
	for {
		out, changed := c.stdout.snapshot()
		if match(out) {
			return out
		}
		select {
		case <-changed:
		case <-c.done:
			if out, _ := c.stdout.snapshot(); match(out) {
				return out
			}
			errs, _ := c.stderr.snapshot()
			t.Fatalf("the command exited %d before %s\nstdout:\n%s\nstderr:\n%s", c.code, what, out, errs)
		case <-deadline.C:
			errs, _ := c.stderr.snapshot()
			t.Fatalf("no %s within a minute\nstdout:\n%s\nstderr:\n%s", what, out, errs)
		}
	}
}

// wait returns the command's exit status; it fails t after a minute.
func (c *started) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-c.done:
		return c.code
	case <-time.After(time.Minute):
		out, _ := c.stdout.snapshot()
		t.Fatalf("the command still runs after a minute; stdout:\n%s", out)
		return 0
	}
}

// countingConsumer counts the events it handles; from pauseAt on, each
// Handle waits for gate to close.
type countingConsumer struct {
	handled atomic.Int64
	pauseAt int64
	gate    chan struct{}
}

func (c *countingConsumer) Name() string { return "orders" }

func (c *countingConsumer) Handle(ctx context.Context, _ pgx.Tx, _ core.PersistedEvent) error {
	if c.handled.Add(1) >= c.pauseAt && c.gate != nil {
		select {
		case <-c.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// appendEvents commits n events, each of an aggregate of its own so that
// they spread over the partitions.
func appendEvents(t *testing.T, store *postgres.Store, pool *pgxpool.Pool, n int) {
	t.Helper()
	ctx := t.Context()
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	for range n {
		e := core.Event{AggregateType: "Order", AggregateID: "o-" + uuid.NewString(), EventID: uuid.New(), EventType: "Placed"}
		if _, err := store.Append(ctx, tx, core.NoStream(), []core.Event{e}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// fixture is a schema with events and the consumer "orders" of 4
// partitions at the start of the log.
type fixture struct {
	schema string
	store  *postgres.Store
	pool   *pgxpool.Pool
	cs     *postgres.ConsumerStore
}

// partitioned sets up a fixture with n events; each partition's
// checkpoint is reset, so that its progress counts from then.
func partitioned(t *testing.T, prefix string, n int) fixture {
	t.Helper()
	var f fixture
	f.schema, f.store, f.pool = newSchema(t, prefix)
	appendEvents(t, f.store, f.pool, n)
	var err error
	if f.cs, err = postgres.NewConsumerStore(f.pool, f.store); err != nil {
		t.Fatal(err)
	}
	ops := consumer.NewOperations[pgx.Tx](f.cs)
	for i := range 4 {
		if err := ops.Reset(t.Context(), core.PartitionCheckpointName("orders", core.Partition{Index: i, Count: 4})); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// process runs a Processor of c as "orders" of 4 partitions, in batches of
// 3, until stop is called.
func (f fixture) process(t *testing.T, c *countingConsumer) (p *consumer.Processor[pgx.Tx], stop func()) {
	t.Helper()
	p, err := consumer.NewProcessor(f.cs, []consumer.Consumer[pgx.Tx]{consumer.Partitioned[pgx.Tx](c, 4)},
		consumer.Config{BatchSize: 3, PollInterval: 20 * time.Millisecond, Owner: "test-host/1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	ran := make(chan error, 1)
	go func() { ran <- p.Run(ctx) }()
	var once sync.Once
	return p, func() {
		once.Do(func() {
			cancel()
			if err := <-ran; err != nil {
				t.Errorf("the processor: %v", err)
			}
		})
	}
}

// status groups a partitioned consumer's checkpoints under one line of
// totals, a line per partition below it with its owner; -json has each
// checkpoint's consumer, partition, delivered count, rate and ETA.
func TestStatusGroupsPartitions(t *testing.T) {
	url := db.URL(t)
	f := partitioned(t, "status_groups", 40)
	p, stop := f.process(t, &countingConsumer{})
	defer stop()
	wait, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := p.WaitCaughtUp(wait, "orders"); err != nil {
		t.Fatal(err)
	}
	stop()
	appendEvents(t, f.store, f.pool, 12)
	base := []string{"-database-url", url, "-schema", f.schema}
	do := func(want int, args ...string) string {
		t.Helper()
		code, stdout, stderr := chronicle(t, append(append([]string(nil), base...), args...)...)
		if code != want {
			t.Fatalf("chronicle %q: exit %d, want %d\nstdout: %s\nstderr: %s", args, code, want, stdout, stderr)
		}
		return stdout + stderr
	}
	do(0, "-create", "reset", "projector")

	out := do(0, "status")
	group := regexp.MustCompile(`(?m)^orders\s+4 partitions\s+12\s+40\s+\d+(\.\d)?/s\s+(<1s|\d+s)\s+-\s+idle\s+test-host/1 \(gone\)\s`)
	if !group.MatchString(out) {
		t.Errorf("status lacks the consumer's totals:\n%s", out)
	}
	part := regexp.MustCompile(`(?m)^  orders\[(\d)/4\]\s+\S+\s+(\d+)\s+(\d+)\s+(-|\d+(\.\d)?/s)\s+(-|<1s|\d+s)\s+-\s+idle\s+test-host/1 \(gone\)\s`)
	lines := part.FindAllStringSubmatch(out, -1)
	var behind, delivered int
	for i, m := range lines {
		if m[1] != strconv.Itoa(i) {
			t.Errorf("partition line %d is of partition %s", i, m[1])
		}
		b, _ := strconv.Atoi(m[2])
		d, _ := strconv.Atoi(m[3])
		behind, delivered = behind+b, delivered+d
	}
	if len(lines) != 4 || behind != 12 || delivered != 40 {
		t.Errorf("status has %d partition lines, %d behind and %d delivered in all; want 4, 12 and 40:\n%s", len(lines), behind, delivered, out)
	}
	if !regexp.MustCompile(`(?m)^projector\s+0:0:\s+52\s+0\s+-\s+\?\s+-\s+idle\s`).MatchString(out) {
		t.Errorf("status of the unpartitioned consumer:\n%s", out)
	}
	if !strings.HasPrefix(out, "CONSUMER") || strings.Index(out, "\norders ") > strings.Index(out, "\n  orders[0/4]") {
		t.Errorf("the consumer's line must come before its partitions':\n%s", out)
	}

	var st []map[string]any
	if err := json.Unmarshal([]byte(do(0, "-json", "status")), &st); err != nil || len(st) != 5 {
		t.Fatalf("status -json: %v, %v", st, err)
	}
	behind, delivered = 0, 0
	for _, c := range st {
		name := c["checkpoint"].(string)
		if name == "projector" {
			if _, ok := c["partition"]; ok || c["consumer"] != "projector" || c["delivered"] != 0.0 || c["rate"] != 0.0 || c["eta_seconds"] != nil ||
				c["behind"] != 52.0 || c["cursor"] != "0:0:" {
				t.Errorf("status -json of the unpartitioned consumer: %v", c)
			}
			continue
		}
		_, part, _ := core.ParsePartitionCheckpointName(name)
		if c["consumer"] != "orders" || c["partition"] != part.String() || !part.Partitioned() || c["owner"] != "test-host/1" || c["owner_present"] != false ||
			c["cursor"] == "" || c["waiting_for"] == nil || c["delivered_since"] == nil {
			t.Errorf("status -json of a partition: %v", c)
		}
		b, d, rate := int(c["behind"].(float64)), int(c["delivered"].(float64)), c["rate"].(float64)
		behind, delivered = behind+b, delivered+d
		eta, known := c["eta_seconds"].(float64)
		switch {
		case d > 0 && rate <= 0:
			t.Errorf("%s delivered %d events at no rate", name, d)
		case b == 0 && (!known || eta != 0):
			t.Errorf("%s is caught up, but its ETA is %v", name, c["eta_seconds"])
		case b > 0 && rate > 0 && (!known || math.Abs(eta-float64(b)/rate) > 0.002):
			t.Errorf("%s: ETA %v, want %d behind at %v/s", name, c["eta_seconds"], b, rate)
		}
	}
	if behind != 12 || delivered != 40 {
		t.Errorf("status -json: %d behind and %d delivered in all, want 12 and 40", behind, delivered)
	}

	// The consumer's name stands for its partitions: known, and reset
	// acts on all of them.
	if out := do(1, "reset", "order"); !strings.Contains(out, `consumer "order" has no checkpoint (known: orders, projector); pass -create`) {
		t.Errorf("a misspelt partitioned consumer: %s", out)
	}
	if out := do(1, "delete", "order"); strings.Contains(out, "-create") {
		t.Errorf("delete suggests -create, which creates nothing: %s", out)
	}
	do(0, "reset", "orders")
	if out := do(0, "status"); !regexp.MustCompile(`(?m)^orders\s+4 partitions\s+52\s+0\s+-\s+\?\s`).MatchString(out) {
		t.Errorf("status after reset of every partition:\n%s", out)
	}
}

var progressLine = regexp.MustCompile(`^orders (\d+)/(\d+) events \((\d+\.\d)%\) (\d+(\.\d)?) ev/s (ETA (<1s|\d+s|unknown)|caught up)$`)

// watch -until-caught-up prints a line each time the consumer's progress
// changes, and exits 0 once it has caught up.
func TestWatchUntilCaughtUp(t *testing.T) {
	url := db.URL(t)
	f := partitioned(t, "watch", 40)
	if err := consumer.NewOperations[pgx.Tx](f.cs).Reset(t.Context(), "unwatched"); err != nil {
		t.Fatal(err)
	}
	base := []string{"-database-url", url, "-schema", f.schema}

	if code, stdout, stderr := chronicle(t, append(base, "watch", "-until-caught-up", "order")...); code != 1 || stdout != "" ||
		!strings.Contains(stderr, `chronicle: watch: consumer "order" has no checkpoint (known: orders, unwatched)`) || strings.Contains(stderr, "-create") {
		t.Errorf("watch of an unknown consumer: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}

	c := &countingConsumer{pauseAt: 21, gate: make(chan struct{})}
	w := start(t.Context(), append(base, "watch", "-interval", "20ms", "-until-caught-up", "orders")...)
	w.waitFor(t, "the first line", func(out string) bool { return strings.HasPrefix(out, "orders 0/40 events (0.0%) 0 ev/s ETA unknown\n") })
	_, stop := f.process(t, c)
	defer stop()
	// The handler waits at its 21st event: some batches are done, the rest
	// are not.
	w.waitFor(t, "a line of partial progress", func(out string) bool {
		for _, l := range strings.Split(out, "\n") {
			if m := progressLine.FindStringSubmatch(l); m != nil && m[1] != "0" && m[1] != "40" {
				return true
			}
		}
		return false
	})
	close(c.gate)
	if code := w.wait(t); code != 0 {
		errs, _ := w.stderr.snapshot()
		t.Fatalf("watch -until-caught-up: exit %d, stderr %s", code, errs)
	}
	out, _ := w.stdout.snapshot()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	last := ""
	for i, l := range lines {
		m := progressLine.FindStringSubmatch(l)
		if m == nil || m[2] != "40" {
			t.Fatalf("line %d %q is not orders' progress of 40 events:\n%s", i, l, out)
		}
		if m[1] == last {
			t.Errorf("line %d repeats the progress before it:\n%s", i, out)
		}
		last = m[1]
	}
	if final := lines[len(lines)-1]; !strings.HasPrefix(final, "orders 40/40 events (100.0%) ") || !strings.HasSuffix(final, " caught up") {
		t.Errorf("the last line is %q, want 40/40 caught up", final)
	}

	// -json: an object per consumer per refresh, one per line; watching
	// every consumer shows "unwatched" too, which never catches up here.
	ctx, cancel := context.WithCancel(t.Context())
	j := start(ctx, append(base, "-json", "watch", "-interval", "20ms", "-until-caught-up")...)
	got := j.waitFor(t, "a refresh of both consumers", func(out string) bool { return strings.Count(out, "\n") >= 4 })
	cancel()
	if code := j.wait(t); code != 1 {
		t.Errorf("watch -until-caught-up interrupted before catching up: exit %d, want 1", code)
	}
	if errs, _ := j.stderr.snapshot(); !strings.Contains(errs, `"error":"interrupted before every watched consumer caught up"`) {
		t.Errorf("watch -json's error: %s", errs)
	}
	for i, l := range strings.Split(strings.TrimSuffix(got, "\n"), "\n")[:4] {
		var r map[string]any
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("line %d %q: %v", i, l, err)
		}
		want := map[string]any{"consumer": "orders", "partitions": 4.0, "delivered": 40.0, "behind": 0.0, "total": 40.0, "percent": 100.0,
			"caught_up": true, "eta_seconds": 0.0, "stopped": false}
		if i%2 == 1 {
			want = map[string]any{"consumer": "unwatched", "delivered": 0.0, "behind": 40.0, "total": 40.0, "percent": 0.0, "caught_up": false,
				"eta_seconds": nil, "rate": 0.0}
		}
		for k, v := range want {
			if r[k] != v {
				t.Errorf("line %d: %s is %v, want %v (%s)", i, k, r[k], v, l)
			}
		}
		if _, ok := r["partitions"]; i%2 == 1 && ok {
			t.Errorf("line %d: an unpartitioned consumer has partitions: %s", i, l)
		}
	}
}

// watch, run against a real database whose URL has a password, prints no
// password, in text or JSON, also when it fails.
func TestWatchNeverPrintsThePassword(t *testing.T) {
	u, err := url.Parse(db.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	secret, ok := u.User.Password()
	if !ok {
		// A server that trusts the connection ignores the password.
		secret = "s3cr3t-Pa55"
		u.User = url.UserPassword(u.User.Username(), secret)
	}
	schema, _, _ := newSchema(t, "watch_secret")
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-schema", schema, "watch", "-until-caught-up"}, 0, "no consumers yet"},
		{[]string{"-schema", schema, "-json", "watch", "-until-caught-up"}, 0, ""},
		{[]string{"-schema", schema, "watch", "-until-caught-up", "nobody"}, 1, `consumer "nobody" has no checkpoint (there are none)`},
		{[]string{"-schema", "no_such_schema", "watch"}, 1, "chronicle: watch: "},
		{[]string{"-schema", "no_such_schema", "-json", "watch"}, 1, `"command":"watch"`},
		{[]string{"watch", "-interval", "0"}, 2, "must be positive"},
	} {
		code, stdout, stderr := chronicle(t, append([]string{"-database-url", u.String()}, tc.args...)...)
		if strings.Contains(stdout+stderr, secret) || code != tc.code || !strings.Contains(stdout+stderr, tc.want) {
			t.Errorf("chronicle %q: exit %d, want %d and %q\nstdout: %s\nstderr: %s", tc.args, code, tc.code, tc.want, stdout, stderr)
		}
	}
}
