package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	postgres "github.com/chronicle-go/chronicle/adapters/postgres-pgx"
	"github.com/chronicle-go/chronicle/consumer"
	"github.com/chronicle-go/chronicle/core"
)

func TestServeUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-database-url", "postgres://x@127.0.0.1:1/x", "serve", "extra"}, `serve takes no arguments`},
		{[]string{"-database-url", "postgres://x@127.0.0.1:1/x", "serve", "-no-such-flag"}, "flag provided but not defined"},
		{[]string{"-database-url", "postgres://x@127.0.0.1:1/x", "serve", "-interval", "1ms"}, "Interval"},
		{[]string{"-database-url", "postgres://x@127.0.0.1:1/x", "serve", "-window", "1s", "-interval", "1m"}, "Window"},
	} {
		code, _, stderr := chronicle(t, tc.args...)
		if code != 2 || !strings.Contains(stderr, tc.want) {
			t.Errorf("chronicle %q: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr, tc.want)
		}
	}
	busy, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = busy.Close() }()
	code, _, stderr := chronicle(t, "-database-url", "postgres://x@127.0.0.1:1/x", "serve", "-addr", busy.Addr().String())
	if code != 1 || !strings.Contains(stderr, "-addr") {
		t.Errorf("serve on a busy address: exit %d, stderr %q; want 1 naming -addr", code, stderr)
	}
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines and the
// test's.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serve's log of a database it cannot reach, and its page, hold no
// password.
func TestServeNeverPrintsThePassword(t *testing.T) {
	const secret = "s3cr3t-Pa55"
	dsn := "postgres://app:" + secret + "@127.0.0.1:1/db?sslmode=disable&connect_timeout=1"
	ctx, cancel := context.WithCancel(t.Context())
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-database-url", dsn, "serve", "-addr", "127.0.0.1:0", "-interval", "100ms"}, &stdout, &stderr)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(stderr.String(), "reading the consumers' status failed") {
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("no failed read logged; stdout %q, stderr %q", stdout.String(), stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("serve after its context ended: exit %d", code)
	}
	out := stdout.String() + stderr.String()
	if strings.Contains(out, secret) || !strings.Contains(stdout.String(), "serving the status page (read-only) on http://127.0.0.1:") {
		t.Fatalf("serve's output:\n%s", out)
	}
}

// chromium returns the path of a Chromium to drive, or skips the test
// when there is none — outside CI only: under CI=true a missing browser
// fails it (.ci/run installs one).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no Chromium found (chromium, chromium-browser, google-chrome): install it (apt-get install chromium); CI needs it")
	}
	t.Skip("no Chromium found (chromium, chromium-browser, google-chrome); CI=true would fail here")
	return ""
}

// The status page, loaded in headless Chromium after its script ran,
// shows the consumers of a real PostgreSQL store with their lag, the
// writer one waits for, an escaped failure and the chart — and its
// refresh picks up events appended after it loaded.
func TestStatusPageInChromium(t *testing.T) {
	browser := chromium(t)
	url := db.URL(t)
	ctx := t.Context()
	_, store, pool := newSchema(t, "serve")
	appendN := func(n int) {
		t.Helper()
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(context.WithoutCancel(ctx))
		events := make([]core.Event, n)
		for i := range events {
			events[i] = core.Event{AggregateType: "Order", AggregateID: "o-" + uuid.NewString(), EventID: uuid.New(), EventType: "Placed"}
		}
		for _, e := range events {
			if _, err := store.Append(ctx, tx, core.NoStream(), []core.Event{e}); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	cs, err := postgres.NewConsumerStore(pool, store)
	if err != nil {
		t.Fatal(err)
	}
	ops := consumer.NewOperations[pgx.Tx](cs)

	// A transaction that holds an id while "waiting-one" takes its cursor:
	// the cursor counts it as running, so the page names it.
	holder, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Release()
	htx, err := holder.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer htx.Rollback(context.WithoutCancel(ctx))
	var holderPID int
	if err := htx.QueryRow(ctx, "SELECT pg_backend_pid() WHERE pg_current_xact_id() IS NOT NULL").Scan(&holderPID); err != nil {
		t.Fatal(err)
	}
	// A snapshot's xmax is one past the latest completed id, so a later
	// transaction must complete for the holder to be listed as running
	// rather than merely at or above xmax.
	if _, err := pool.Exec(ctx, "SELECT pg_current_xact_id()"); err != nil {
		t.Fatal(err)
	}
	if err := ops.StartFromNow(ctx, "waiting-one"); err != nil {
		t.Fatal(err)
	}
	appendN(5)
	if err := ops.Reset(ctx, "lagging-one"); err != nil { // at the start: 5 behind
		t.Fatal(err)
	}
	// A failure stored with markup in it, as a handler's error might be.
	tx, err := cs.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cp, claimed, err := cs.ClaimCheckpoint(ctx, tx, "failing-one")
	if err != nil || !claimed {
		t.Fatalf("claiming: %v %v", claimed, err)
	}
	cp.Owner, cp.FailedAttempts, cp.LastError, cp.LastErrorPosition, cp.LastErrorAt = "gone-host/1", 4, "handler <b>exploded</b> & stopped", 2, cp.ClaimedAt
	if err := cs.SaveCheckpoint(ctx, tx, cp); err != nil {
		t.Fatal(err)
	}
	if err := cs.Commit(ctx, tx); err != nil {
		t.Fatal(err)
	}

	page, err := output{secret: url}.statusPage(ops, serveOptions{interval: 200 * time.Millisecond, window: time.Minute}, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(page)
	defer srv.Close()

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(browser), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.Flag("headless", true))...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()
	bctx, cancelTimeout := context.WithTimeout(bctx, 2*time.Minute)
	defer cancelTimeout()

	// The page's script has run once it has refreshed (data-updates > 0).
	if err := chromedp.Do(bctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`body[data-updates]:not([data-updates="0"])`)),
	); err != nil {
		t.Fatalf("loading the page in Chromium: %v", err)
	}
	dom, err := chromedp.Run(bctx, chromedp.OuterHTML(chromedp.CSS("html")))
	if err != nil {
		t.Fatalf("reading the rendered page: %v", err)
	}
	behind := func(name string) string {
		t.Helper()
		text, err := chromedp.Run(bctx, chromedp.TextContent(chromedp.CSS(`tr[data-consumer="`+name+`"] td.behind`)))
		if err != nil {
			t.Fatalf("reading %s's lag: %v", name, err)
		}
		return strings.TrimSpace(text)
	}
	for _, want := range []string{"lagging-one", "waiting-one", "failing-one", `id="lag-chart"`, "<polyline", fmt.Sprintf("pid %d", holderPID),
		"handler &lt;b&gt;exploded&lt;/b&gt; &amp; stopped", "gone-host/1 (gone)"} {
		if !strings.Contains(dom, want) {
			t.Errorf("the rendered page lacks %q", want)
		}
	}
	if got := behind("lagging-one"); got != "5" {
		t.Errorf("lagging-one is %q behind on the page, want 5", got)
	}
	if bold, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll("b").length`)); err != nil || bold != 0 {
		t.Errorf("the failure's markup became %d element(s) (%v): it must be text", bold, err)
	}

	// Three more events: the page shows them without a reload.
	appendN(3)
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](
		`document.querySelector('tr[data-consumer="lagging-one"] td.behind').textContent === "8"`)); err != nil {
		t.Fatalf("the page did not refresh to 8 behind (it shows %q): %v", behind("lagging-one"), err)
	}
	if got := behind("waiting-one"); got != "8" {
		t.Errorf("waiting-one is %q behind, want 8", got)
	}
	if lines, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll("#lag-chart polyline").length`)); err != nil || lines != 3 {
		t.Errorf("the chart has %d lines (%v), want one per consumer (3)", lines, err)
	}
	if strings.Contains(dom, url) {
		t.Error("the page shows the database URL")
	}
}
