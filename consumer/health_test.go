package consumer_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/chronicle-go/chronicle/adapters/memory"
	"github.com/chronicle-go/chronicle/consumer"
	"github.com/chronicle-go/chronicle/core"
)

// waitHealth waits until cond holds for the processor's report, checking
// every millisecond (the report is in memory: no I/O), for at most ten
// seconds, and returns that report.
func waitHealth(t *testing.T, p *consumer.Processor[*memory.Tx], what string, cond func(consumer.HealthReport) bool) consumer.HealthReport {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		r := p.Health()
		if cond(r) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 10s; health %+v", what, r)
		}
		<-tick.C
	}
}

func stateOf(r consumer.HealthReport, name string) consumer.ConsumerHealth {
	for _, c := range r.Consumers {
		if c.Consumer == name {
			return c
		}
	}
	return consumer.ConsumerHealth{}
}

func inState(name string, s consumer.HealthState) func(consumer.HealthReport) bool {
	return func(r consumer.HealthReport) bool { return r.Live && stateOf(r, name).State == s }
}

// probe requests h with method and returns the status and, for GET, the
// decoded body.
func probe(t *testing.T, h http.Handler, method string) (int, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, "/", nil))
	var body map[string]any
	if method == http.MethodGet {
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s: Content-Type %q", method, ct)
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s: body %q: %v", method, rec.Body.String(), err)
		}
	}
	return rec.Code, body
}

func TestHealthBeforeDuringAndAfterRun(t *testing.T) {
	store := memory.NewStore()
	appendEvents(t, store, "Order", "o-1", 3)
	proj := newProjection("totals")
	p := newProcessor(t, store, consumer.Config{Owner: "host-h/1"}, proj)
	live, ready := consumer.LivenessHandler(p), consumer.ReadinessHandler(p)

	r := p.Health()
	if r.Live || r.Ready || r.Owner != "host-h/1" || len(r.Consumers) != 1 || r.Consumers[0].State != consumer.HealthStopped {
		t.Fatalf("before Run: %+v; want not live, not ready, the consumer stopped", r)
	}
	if code, body := probe(t, live, http.MethodGet); code != http.StatusServiceUnavailable || body["status"] != "unavailable" {
		t.Errorf("liveness before Run: %d %v", code, body)
	}
	if code, _ := probe(t, ready, http.MethodHead); code != http.StatusServiceUnavailable {
		t.Errorf("readiness (HEAD) before Run: %d", code)
	}

	stop := run(t, p)
	proj.waitFor(t, "the events", count(3))
	r = waitHealth(t, p, "idle and present", func(r consumer.HealthReport) bool {
		return r.Present && stateOf(r, "totals").State == consumer.HealthIdle
	})
	c := r.Consumers[0]
	if !r.Live || !r.Ready || c.Events != 3 || c.LastEventsAt.IsZero() || c.LastBatchAt.Before(c.LastEventsAt) || c.Cursor.Snapshot.IsZero() {
		t.Fatalf("caught up: %+v", r)
	}
	code, body := probe(t, ready, http.MethodGet)
	if code != http.StatusOK || body["status"] != "ok" || body["owner"] != "host-h/1" || body["present"] != true {
		t.Fatalf("readiness while running: %d %v", code, body)
	}
	consumers, _ := body["consumers"].([]any)
	if len(consumers) != 1 || consumers[0].(map[string]any)["state"] != "idle" || consumers[0].(map[string]any)["events"] != float64(3) {
		t.Fatalf("readiness body's consumers: %v", body["consumers"])
	}

	// The checkpoint's owner is present while the processor runs, and gone
	// once it stopped.
	ops := consumer.NewOperations[*memory.Tx](store)
	st, err := ops.Status(context.Background())
	if err != nil || len(st) != 1 || st[0].Owner != "host-h/1" || !st[0].OwnerPresent {
		t.Fatalf("status while running: %+v, %v; want owner host-h/1 present", st, err)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if st, err = ops.Status(context.Background()); err != nil || len(st) != 1 || st[0].OwnerPresent {
		t.Fatalf("status after Run returned: %+v, %v; want the owner gone", st, err)
	}
	if r := p.Health(); r.Live || r.Ready || r.Present || r.Consumers[0].State != consumer.HealthStopped {
		t.Fatalf("after Run: %+v", r)
	}
	if code, _ := probe(t, live, http.MethodGet); code != http.StatusServiceUnavailable {
		t.Errorf("liveness after Run: %d", code)
	}
}

// A process whose presence session is lost shows as gone until the
// processor holds its presence again.
func TestOwnerGoneWhenItsSessionIsLost(t *testing.T) {
	ctx := context.Background()
	store := memory.NewStore()
	appendEvents(t, store, "Order", "o-1", 1)
	proj := newProjection("totals")
	p := newProcessor(t, store, consumer.Config{Owner: "host-l/2"}, proj)
	run(t, p)
	proj.waitFor(t, "the event", count(1))
	waitHealth(t, p, "present", func(r consumer.HealthReport) bool { return r.Present })
	if store.EndPresence("host-l/2") != 1 {
		t.Fatal("no presence held for host-l/2")
	}
	st, err := consumer.NewOperations[*memory.Tx](store).Status(ctx)
	if err != nil || st[0].OwnerPresent {
		t.Fatalf("status after the session was lost: %+v, %v; want the owner gone", st, err)
	}
	// The processor holds it again (after a backoff of a few milliseconds).
	waitHealth(t, p, "present again", func(r consumer.HealthReport) bool {
		st, err := consumer.NewOperations[*memory.Tx](store).Status(ctx)
		return r.Present && err == nil && st[0].OwnerPresent
	})
}

func TestHealthFailingThenStopped(t *testing.T) {
	store := memory.NewStore()
	appendEvents(t, store, "Order", "o-1", 1)
	failing := newProjection("failing")
	failing.fail = func(core.PersistedEvent) error { return errors.New("read model table is missing") }
	fine := newProjection("fine")
	p := newProcessor(t, store, consumer.Config{MaxAttempts: -1}, failing, fine)
	run(t, p)
	r := waitHealth(t, p, "failing", inState("failing", consumer.HealthFailing))
	c := stateOf(r, "failing")
	if c.FailedAttempts < 1 || !strings.Contains(c.LastError, "read model table is missing") || c.LastErrorPosition == 0 || c.LastErrorAt.IsZero() ||
		!strings.Contains(c.Reason, "read model table is missing") {
		t.Fatalf("failing consumer: %+v", c)
	}
	if !r.Ready {
		t.Error("a failing consumer made the processor unready; only a stopped one does")
	}

	once := newProjection("once")
	once.fail = func(core.PersistedEvent) error { return errors.New("boom") }
	stopped := newProcessor(t, store, consumer.Config{MaxAttempts: 1}, once, newProjection("other"))
	run(t, stopped)
	r = waitHealth(t, stopped, "stopped", inState("once", consumer.HealthStopped))
	if r.Ready || !r.Live || stateOf(r, "once").LastError != "boom" || !strings.Contains(stateOf(r, "once").Reason, "1 failed attempts") {
		t.Fatalf("a stopped consumer: %+v; want live, not ready", r)
	}
	if code, body := probe(t, consumer.ReadinessHandler(stopped), http.MethodGet); code != http.StatusServiceUnavailable || body["ready"] != false {
		t.Errorf("readiness with a stopped consumer: %d %v", code, body)
	}
	if code, _ := probe(t, consumer.LivenessHandler(stopped), http.MethodGet); code != http.StatusOK {
		t.Errorf("liveness with a stopped consumer: %d, want 200", code)
	}
}

// A consumer whose cursor waits on a writer that appended and does not
// commit is reported stuck after StuckAfter, naming the writer; once the
// writer commits it progresses again.
func TestHealthStuckOnAWriter(t *testing.T) {
	ctx := context.Background()
	store := memory.NewStore()
	late, err := store.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := store.Append(ctx, late, core.NoStream(), []core.Event{{AggregateType: "A", AggregateID: "late", EventID: uuid.New(), EventType: "E"}})
	if err != nil {
		t.Fatal(err)
	}
	writer := res.Events[0].TransactionID
	proj := newProjection("late")
	p := newProcessor(t, store, consumer.Config{StuckAfter: 30 * time.Millisecond}, proj)
	run(t, p)
	r := waitHealth(t, p, "stuck naming the writer", func(r consumer.HealthReport) bool {
		c := stateOf(r, "late")
		return c.State == consumer.HealthStuck && slices.ContainsFunc(c.WaitingFor, func(w core.Writer) bool { return w.TransactionID == writer })
	})
	if c := stateOf(r, "late"); c.WaitingSince.IsZero() || !strings.Contains(c.Reason, "not committed") || !r.Ready {
		t.Fatalf("stuck consumer: %+v (ready %v)", c, r.Ready)
	}
	if err := late.Commit(); err != nil {
		t.Fatal(err)
	}
	proj.waitFor(t, "the late writer's event", count(1))
	waitHealth(t, p, "no longer stuck", func(r consumer.HealthReport) bool {
		c := stateOf(r, "late")
		return c.State != consumer.HealthStuck && c.WaitingFor == nil && c.WaitingSince.IsZero()
	})
}

// A batch that runs longer than StuckAfter is stuck.
func TestHealthStuckInABatch(t *testing.T) {
	store := memory.NewStore()
	appendEvents(t, store, "Order", "o-1", 2)
	c := &blocking{projection: newProjection("blocking"), entered: make(chan struct{})}
	p := newProcessor(t, store, consumer.Config{StuckAfter: 20 * time.Millisecond}, c)
	run(t, p)
	<-c.entered
	r := waitHealth(t, p, "stuck in its batch", inState("blocking", consumer.HealthStuck))
	if h := stateOf(r, "blocking"); h.BatchStartedAt.IsZero() || !strings.Contains(h.Reason, "a batch has run") {
		t.Fatalf("stuck in a batch: %+v", h)
	}
}

// Another transaction holding the lease puts the consumer in standby.
func TestHealthStandbyWhileAnotherHoldsTheLease(t *testing.T) {
	ctx := context.Background()
	store := memory.NewStore()
	tx, err := store.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, claimed, err := store.ClaimCheckpoint(ctx, tx, "leased"); err != nil || !claimed {
		t.Fatalf("claiming: %v, %v", claimed, err)
	}
	p := newProcessor(t, store, consumer.Config{}, newProjection("leased"))
	run(t, p)
	waitHealth(t, p, "standby", inState("leased", consumer.HealthStandby))
}

func TestHealthConfigAndMisuse(t *testing.T) {
	store := memory.NewStore()
	for name, cfg := range map[string]consumer.Config{
		"negative StuckAfter": {StuckAfter: -time.Second},
		"NUL in Owner":        {Owner: "host\x00/1"},
	} {
		_, err := consumer.NewProcessor(store, []consumer.Consumer[*memory.Tx]{newProjection("a")}, cfg)
		var ce *consumer.ConfigError
		if !errors.As(err, &ce) || !errors.Is(err, consumer.ErrInvalidConfig) {
			t.Errorf("%s: %v, want a *ConfigError", name, err)
		}
	}
	var nilProcessor *consumer.Processor[*memory.Tx]
	if r := nilProcessor.Health(); r.Live || r.Ready {
		t.Errorf("a nil processor's health: %+v", r)
	}
	for _, h := range []http.Handler{consumer.ReadinessHandler(nil), consumer.LivenessHandler(nilProcessor)} {
		if code, _ := probe(t, h, http.MethodGet); code != http.StatusServiceUnavailable {
			t.Errorf("a handler without a processor: %d, want 503", code)
		}
	}
	p := newProcessor(t, store, consumer.Config{}, newProjection("a"))
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete} {
		rec := httptest.NewRecorder()
		consumer.ReadinessHandler(p).ServeHTTP(rec, httptest.NewRequest(method, "/", nil))
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: %d, Allow %q; want 405 and GET, HEAD", method, rec.Code, rec.Header().Get("Allow"))
		}
	}
}
