package statuspage_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/chronicle-go/chronicle/adapters/memory"
	"github.com/chronicle-go/chronicle/consumer"
	"github.com/chronicle-go/chronicle/consumer/statuspage"
	"github.com/chronicle-go/chronicle/core"
)

func appendEvents(t *testing.T, store *memory.Store, n int) {
	t.Helper()
	ctx := context.Background()
	tx, err := store.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	events := make([]core.Event, n)
	for i := range events {
		events[i] = core.Event{AggregateType: "Order", AggregateID: "o-1", EventID: uuid.New(), EventType: "Placed"}
	}
	if _, err := store.Append(ctx, tx, core.Any(), events); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// fixture is a memory store with a lagging consumer whose checkpoint holds
// a failure with markup in it, written by an owner that is present, and a
// caught-up consumer.
func fixture(t *testing.T) (*memory.Store, *consumer.Operations[*memory.Tx]) {
	t.Helper()
	ctx := context.Background()
	store := memory.NewStore()
	ops := consumer.NewOperations[*memory.Tx](store)
	appendEvents(t, store, 4)
	if err := ops.StartFromNow(ctx, "caught-up"); err != nil {
		t.Fatal(err)
	}
	tx, err := store.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cp, claimed, err := store.ClaimCheckpoint(ctx, tx, "<lagging>")
	if err != nil || !claimed {
		t.Fatalf("claiming: %v %v", claimed, err)
	}
	cp.Owner, cp.FailedAttempts, cp.LastError, cp.LastErrorPosition, cp.LastErrorAt = "host/7", 2, `handler <b>failed</b> password=hunter22`, 3, cp.ClaimedAt
	if err := store.SaveCheckpoint(ctx, tx, cp); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	held := make(chan struct{})
	hctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- store.HoldPresence(hctx, "host/7", func() { close(held) }) }()
	<-held
	t.Cleanup(func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("HoldPresence: %v", err)
		}
	})
	return store, ops
}

func get(t *testing.T, h http.Handler, target string) (*http.Response, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	res := rec.Result()
	body, _ := io.ReadAll(res.Body)
	return res, string(body)
}

func TestPageShowsConsumersEscaped(t *testing.T) {
	_, ops := fixture(t)
	page, err := statuspage.New(ops, statuspage.Config{Redact: func(s string) string { return strings.ReplaceAll(s, "hunter22", "xxxxx") }})
	if err != nil {
		t.Fatal(err)
	}
	res, body := get(t, page, "/")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	csp := res.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "script-src 'nonce-") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	for _, want := range []string{"&lt;lagging&gt;", "caught-up", "handler &lt;b&gt;failed&lt;/b&gt;", "host/7 (present)", `id="lag-chart"`, "retrying (2 failed)"} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	for _, never := range []string{"<lagging>", "<b>failed", "hunter22", `src="`, `href="`} {
		if strings.Contains(body, never) {
			t.Errorf("the page holds %q (unescaped data, a secret, or a resource from elsewhere)", never)
		}
	}

	res, body = get(t, page, "/?format=json")
	if res.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("JSON Content-Type %q", res.Header.Get("Content-Type"))
	}
	var v struct {
		Consumers []struct {
			Name         string `json:"name"`
			Behind       int64  `json:"behind"`
			Partitions   int    `json:"partitions"`
			OwnerPresent bool   `json:"owner_present"`
			LagAgeText   string `json:"lag_age_text"`
		} `json:"consumers"`
		Failures []struct {
			Consumer string `json:"consumer"`
			Attempts int    `json:"attempts"`
			Error    string `json:"error"`
		} `json:"failures"`
		Chart struct {
			Lines []struct {
				Consumer, Points string
			} `json:"lines"`
		} `json:"chart"`
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Consumers) != 2 || v.Consumers[0].Name != "<lagging>" || v.Consumers[0].Behind != 4 || !v.Consumers[0].OwnerPresent ||
		v.Consumers[0].Partitions != 1 || v.Consumers[0].LagAgeText == "-" || v.Consumers[1].Behind != 0 {
		t.Fatalf("JSON consumers: %+v", v.Consumers)
	}
	if len(v.Failures) != 1 || v.Failures[0].Attempts != 2 || v.Failures[0].Error != "handler <b>failed</b> password=xxxxx" {
		t.Fatalf("JSON failures: %+v", v.Failures)
	}
	if len(v.Chart.Lines) != 2 || v.Chart.Lines[0].Points == "" {
		t.Fatalf("JSON chart: %+v", v.Chart)
	}
}

// The ring keeps one sample per Interval: requests within an Interval
// share one status read, and a later one adds a sample.
func TestPageSamplesAtMostOncePerInterval(t *testing.T) {
	store, ops := fixture(t)
	counting := &countingSource{src: ops}
	page, err := statuspage.New(counting, statuspage.Config{Interval: time.Hour, Window: 2 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		get(t, page, "/?format=json")
	}
	if counting.n != 1 {
		t.Fatalf("5 requests within an interval read the status %d times, want 1", counting.n)
	}
	// Run samples at once: its sample shows the new lag.
	appendEvents(t, store, 2)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- page.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, body := get(t, page, "/?format=json")
		if strings.Contains(body, `"behind":6`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Run's sample did not show the new lag: %s", body)
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

type countingSource struct {
	src statuspage.Source
	n   int
}

func (c *countingSource) Status(ctx context.Context) ([]consumer.Status, error) {
	c.n++
	return c.src.Status(ctx)
}

type failingSource struct{}

func (failingSource) Status(context.Context) ([]consumer.Status, error) {
	return nil, errors.New("connecting to postgres://app:s3cret@db/x failed")
}

func TestPageIsReadOnlyAndRedactsErrors(t *testing.T) {
	page, err := statuspage.New(failingSource{}, statuspage.Config{Redact: func(s string) string { return strings.ReplaceAll(s, "s3cret", "xxxxx") }})
	if err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		rec := httptest.NewRecorder()
		page.ServeHTTP(rec, httptest.NewRequest(method, "/?format=json", strings.NewReader("{}")))
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: %d, want 405", method, rec.Code)
		}
	}
	_, body := get(t, page, "/")
	if strings.Contains(body, "s3cret") || !strings.Contains(body, "postgres://app:xxxxx@db/x") {
		t.Fatalf("the page shows the read error unredacted or not at all: %s", body)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	_, ops := fixture(t)
	for name, c := range map[string]struct {
		src statuspage.Source
		cfg statuspage.Config
	}{
		"nil source":        {nil, statuspage.Config{}},
		"short interval":    {ops, statuspage.Config{Interval: time.Millisecond}},
		"window < interval": {ops, statuspage.Config{Interval: time.Minute, Window: time.Second}},
		"negative timeout":  {ops, statuspage.Config{Timeout: -time.Second}},
	} {
		_, err := statuspage.New(c.src, c.cfg)
		var ce *statuspage.ConfigError
		if !errors.Is(err, statuspage.ErrInvalidConfig) || !errors.As(err, &ce) {
			t.Errorf("%s: %v, want a *ConfigError", name, err)
		}
	}
}
