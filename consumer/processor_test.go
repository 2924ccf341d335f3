package consumer_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.uber.org/goleak"

	"github.com/chronicle-go/chronicle/adapters/memory"
	"github.com/chronicle-go/chronicle/consumer"
	"github.com/chronicle-go/chronicle/core"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// projection records handled events, applying them only when the batch's
// transaction commits, like a read-model table written through tx.
type projection struct {
	name  string
	types []string
	fail  func(e core.PersistedEvent) error

	mu     sync.Mutex
	events []core.PersistedEvent
	seen   map[uuid.UUID]int
	signal chan struct{}
}

func newProjection(name string, types ...string) *projection {
	return &projection{name: name, types: types, seen: map[uuid.UUID]int{}, signal: make(chan struct{}, 1)}
}

func (p *projection) Name() string             { return p.name }
func (p *projection) AggregateTypes() []string { return p.types }

func (p *projection) Handle(_ context.Context, tx *memory.Tx, e core.PersistedEvent) error {
	if p.fail != nil {
		if err := p.fail(e); err != nil {
			return err
		}
	}
	tx.OnCommit(func() {
		p.mu.Lock()
		p.events = append(p.events, e)
		p.seen[e.EventID]++
		p.mu.Unlock()
		select {
		case p.signal <- struct{}{}:
		default:
		}
	})
	return nil
}

func (p *projection) snapshot() []core.PersistedEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]core.PersistedEvent(nil), p.events...)
}

// waitFor waits until cond holds, re-checking on every signal, for at most
// ten seconds.
func (p *projection) waitFor(t *testing.T, what string, cond func([]core.PersistedEvent) bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for !cond(p.snapshot()) {
		select {
		case <-p.signal:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatalf("%s: timed out; projection has %d events", what, len(p.snapshot()))
		}
	}
}

func count(n int) func([]core.PersistedEvent) bool {
	return func(es []core.PersistedEvent) bool { return len(es) >= n }
}

func appendEvents(t *testing.T, store *memory.Store, aggType, aggID string, n int) {
	t.Helper()
	ctx := context.Background()
	tx, err := store.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	events := make([]core.Event, n)
	for i := range events {
		events[i] = core.Event{AggregateType: aggType, AggregateID: aggID, EventID: uuid.New(), EventType: "Happened"}
	}
	if _, err := store.Append(ctx, tx, core.Any(), events); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// run starts p and returns a function that stops it and returns Run's error.
func run(t *testing.T, p *consumer.Processor[*memory.Tx]) func() error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var once sync.Once
	var err error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				err = errors.New("Run did not return within 10s of cancellation")
			}
		})
		return err
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	})
	return stop
}

func newProcessor(t *testing.T, store *memory.Store, cfg consumer.Config, cs ...consumer.Consumer[*memory.Tx]) *consumer.Processor[*memory.Tx] {
	t.Helper()
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 20 * time.Millisecond
	}
	if cfg.InitialBackoff == 0 {
		cfg.InitialBackoff = time.Millisecond
		cfg.MaxBackoff = 5 * time.Millisecond
	}
	p, err := consumer.NewProcessor(store, cs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func assertExactlyOnceInOrder(t *testing.T, got []core.PersistedEvent, want int) {
	t.Helper()
	if len(got) != want {
		t.Fatalf("handled %d events, want %d", len(got), want)
	}
	ids := map[uuid.UUID]bool{}
	last := map[string]int64{}
	for i, e := range got {
		if ids[e.EventID] {
			t.Fatalf("event %s handled twice", e.EventID)
		}
		ids[e.EventID] = true
		key := e.AggregateType + "/" + e.AggregateID
		if e.AggregateVersion != last[key]+1 {
			t.Fatalf("%s: version %d after %d", key, e.AggregateVersion, last[key])
		}
		last[key] = e.AggregateVersion
		_ = i
	}
}

func TestProcessorDeliversEveryEventOnceInOrder(t *testing.T) {
	store := memory.NewStore()
	proj := newProjection("all")
	for i := range 5 {
		appendEvents(t, store, "Order", fmt.Sprint("o-", i), 30)
	}
	stop := run(t, newProcessor(t, store, consumer.Config{BatchSize: 7}, proj))

	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 10 {
				appendEvents(t, store, "Order", fmt.Sprint("o-", (w+i)%5), 3)
			}
		})
	}
	wg.Wait()
	proj.waitFor(t, "all events", count(150+120))
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	assertExactlyOnceInOrder(t, proj.snapshot(), 270)
}

// An open transaction holds back nothing but its own events: a later
// committed event is delivered at once, and the early writer's event when
// it commits, although its position is lower.
func TestProcessorDeliversPastAnOpenTransaction(t *testing.T) {
	ctx := context.Background()
	store := memory.NewStore()
	proj := newProjection("all")
	run(t, newProcessor(t, store, consumer.Config{}, proj))

	early, err := store.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(ctx, early, core.Any(), []core.Event{{AggregateType: "A", AggregateID: "early", EventID: uuid.New(), EventType: "E"}}); err != nil {
		t.Fatal(err)
	}
	appendEvents(t, store, "A", "late", 1) // committed, after early's id and position
	proj.waitFor(t, "the committed event", count(1))
	if got := proj.snapshot(); got[0].AggregateID != "late" {
		t.Fatalf("delivered %s first, want late", got[0].AggregateID)
	}
	if err := early.Commit(); err != nil {
		t.Fatal(err)
	}
	proj.waitFor(t, "both events", count(2))
	if got := proj.snapshot(); got[1].AggregateID != "early" {
		t.Fatalf("order = %s, %s; want late, early", got[0].AggregateID, got[1].AggregateID)
	}
}

func TestScopedConsumerGetsOnlyItsTypesAndAdvances(t *testing.T) {
	store := memory.NewStore()
	orders := newProjection("orders", "Order")
	appendEvents(t, store, "Order", "o-1", 3)
	appendEvents(t, store, "User", "u-1", 5)
	appendEvents(t, store, "Order", "o-2", 2)

	var reports []consumer.BatchReport
	var mu sync.Mutex
	p := newProcessor(t, store, consumer.Config{OnBatch: func(r consumer.BatchReport) {
		mu.Lock()
		reports = append(reports, r)
		mu.Unlock()
	}}, orders)
	stop := run(t, p)
	orders.waitFor(t, "orders", count(5))

	// Only users after this point: the consumer moves past them (in
	// memory: it delivers nothing, so it writes nothing) and is not held
	// back by them.
	appendEvents(t, store, "User", "u-2", 4)
	appendEvents(t, store, "Order", "o-3", 1)
	orders.waitFor(t, "the order after the users", count(6))
	ctx := context.Background()
	st, err := p.Status(ctx)
	if err != nil || st[0].Behind != 0 {
		t.Fatalf("status = %+v, %v; want nothing behind in its scope", st, err)
	}
	_ = stop()
	for _, e := range orders.snapshot() {
		if e.AggregateType != "Order" {
			t.Fatalf("scoped consumer got a %s event", e.AggregateType)
		}
	}
	if len(orders.snapshot()) != 6 {
		t.Fatalf("got %d order events, want 6", len(orders.snapshot()))
	}
}

func TestHandlerFailingTwiceThenSucceedingHasItsEffectOnce(t *testing.T) {
	store := memory.NewStore()
	appendEvents(t, store, "Order", "o-1", 3)
	proj := newProjection("flaky")
	failures := 0
	proj.fail = func(e core.PersistedEvent) error {
		if e.AggregateVersion == 2 && failures < 2 {
			failures++
			return errors.New("transient")
		}
		return nil
	}
	run(t, newProcessor(t, store, consumer.Config{MaxAttempts: 5}, proj))
	proj.waitFor(t, "three events", count(3))
	assertExactlyOnceInOrder(t, proj.snapshot(), 3)
	if failures != 2 {
		t.Fatalf("failures = %d, want 2", failures)
	}
}

func TestFailingConsumerStopsAndOthersContinue(t *testing.T) {
	ctx := context.Background()
	store := memory.NewStore()
	appendEvents(t, store, "Order", "o-1", 2)
	broken := newProjection("broken")
	broken.fail = func(e core.PersistedEvent) error {
		if e.AggregateVersion == 2 {
			panic("boom")
		}
		return nil
	}
	healthy := newProjection("healthy")
	stopped := make(chan string, 1)
	p := newProcessor(t, store, consumer.Config{MaxAttempts: 3, OnStop: func(name string, err error) { stopped <- name }}, broken, healthy)
	stop := run(t, p)
	select {
	case name := <-stopped:
		if name != "broken" {
			t.Fatalf("stopped %q", name)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("broken consumer did not stop")
	}
	appendEvents(t, store, "Order", "o-2", 1)
	healthy.waitFor(t, "healthy consumer", count(3))

	st, err := p.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := st[0]
	if !b.Stopped || b.FailedAttempts != 3 || b.LastErrorPosition == 0 || b.LastErrorAt.IsZero() {
		t.Fatalf("broken status = %+v", b)
	}
	if want := "panic handling event"; !strings.Contains(b.LastError, want) {
		t.Fatalf("LastError = %q, want it to mention %q", b.LastError, want)
	}
	if len(broken.snapshot()) != 1 {
		t.Fatalf("broken consumer committed %d events, want 1 (the batch with the failure rolls back)", len(broken.snapshot()))
	}
	// The stopped consumer's cursor is just before the failing event.
	o1 := readAll(t, store)[:2]
	if !b.Cursor.Delivered(o1[0]) || b.Cursor.Delivered(o1[1]) || b.LastErrorPosition != o1[1].GlobalPosition {
		t.Fatalf("broken cursor %s, last error at %d; want one delivering position %d and not %d, and %d",
			b.Cursor, b.LastErrorPosition, o1[0].GlobalPosition, o1[1].GlobalPosition, o1[1].GlobalPosition)
	}
	if st[1].Stopped || st[1].Behind != 0 {
		t.Fatalf("healthy status = %+v", st[1])
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}

	// A new Run retries the stopped consumer.
	broken.fail = nil
	run(t, newProcessor(t, store, consumer.Config{}, broken))
	broken.waitFor(t, "retried consumer", count(3))
	assertExactlyOnceInOrder(t, broken.snapshot(), 3)
}

// readAll returns every committed event by position.
func readAll(t *testing.T, store *memory.Store) []core.PersistedEvent {
	t.Helper()
	ctx := context.Background()
	tx, err := store.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	events, err := store.ReadEvents(ctx, tx, 0, 1_000_000)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func TestTwoProcessorsShareAConsumerWithoutDuplicates(t *testing.T) {
	store := memory.NewStore()
	proj := newProjection("shared")
	stopA := run(t, newProcessor(t, store, consumer.Config{BatchSize: 5, Owner: "a"}, proj))
	stopB := run(t, newProcessor(t, store, consumer.Config{BatchSize: 5, Owner: "b"}, proj))
	for i := range 20 {
		appendEvents(t, store, "Order", fmt.Sprint("o-", i%4), 5)
	}
	proj.waitFor(t, "all events", count(100))
	if err := errors.Join(stopA(), stopB()); err != nil {
		t.Fatal(err)
	}
	assertExactlyOnceInOrder(t, proj.snapshot(), 100)
}

func TestNotificationWakesAnIdleConsumer(t *testing.T) {
	store := memory.NewStore()
	proj := newProjection("live")
	idle := make(chan struct{}, 1)
	run(t, newProcessor(t, store, consumer.Config{PollInterval: time.Hour, OnBatch: func(consumer.BatchReport) {
		select {
		case idle <- struct{}{}:
		default:
		}
	}}, proj))
	select { // the first, empty batch moves the cursor to the current snapshot
	case <-idle:
	case <-time.After(10 * time.Second):
		t.Fatal("no first batch")
	}
	appendEvents(t, store, "Order", "o-1", 1)
	proj.waitFor(t, "woken consumer", count(1))
}

func TestResetReplaysAndStartFromNowSkips(t *testing.T) {
	ctx := context.Background()
	store := memory.NewStore()
	appendEvents(t, store, "Order", "o-1", 4)
	proj := newProjection("replay")
	stop := run(t, newProcessor(t, store, consumer.Config{}, proj))
	proj.waitFor(t, "first pass", count(4))
	_ = stop()

	ops := consumer.NewOperations[*memory.Tx](store)
	if err := ops.Reset(ctx, "replay"); err != nil {
		t.Fatal(err)
	}
	stop = run(t, newProcessor(t, store, consumer.Config{}, proj))
	proj.waitFor(t, "replay", count(8))
	_ = stop()

	late := newProjection("late")
	if err := ops.StartFromNow(ctx, "late"); err != nil {
		t.Fatal(err)
	}
	run(t, newProcessor(t, store, consumer.Config{}, late))
	appendEvents(t, store, "Order", "o-2", 1)
	late.waitFor(t, "new event", count(1))
	if got := late.snapshot(); len(got) != 1 || got[0].AggregateID != "o-2" {
		t.Fatalf("StartFromNow consumer got %d events", len(got))
	}
	st, err := ops.Status(ctx)
	if err != nil || len(st) != 2 {
		t.Fatalf("status = %+v, %v", st, err)
	}
}

func TestNewProcessorRejectsBadConfiguration(t *testing.T) {
	store := memory.NewStore()
	a := newProjection("a")
	for name, tc := range map[string]struct {
		cs  []consumer.Consumer[*memory.Tx]
		cfg consumer.Config
	}{
		"no consumers":   {nil, consumer.Config{}},
		"duplicate name": {[]consumer.Consumer[*memory.Tx]{a, newProjection("a")}, consumer.Config{}},
		"empty name":     {[]consumer.Consumer[*memory.Tx]{newProjection("")}, consumer.Config{}},
		"negative batch": {[]consumer.Consumer[*memory.Tx]{a}, consumer.Config{BatchSize: -1}},
		"backoff order":  {[]consumer.Consumer[*memory.Tx]{a}, consumer.Config{InitialBackoff: time.Second, MaxBackoff: time.Millisecond}},
	} {
		if _, err := consumer.NewProcessor(store, tc.cs, tc.cfg); !errors.Is(err, consumer.ErrInvalidConfig) {
			t.Errorf("%s: err = %v, want ErrInvalidConfig", name, err)
		}
	}
}

// A consumer name is stored as PostgreSQL text, which cannot hold a NUL
// byte or invalid UTF-8: every entry point refuses such a name before it
// reaches the store, with a typed error.
func TestConsumerNamesTextCannotHoldAreRejected(t *testing.T) {
	ctx := context.Background()
	store := memory.NewStore()
	ops := consumer.NewOperations[*memory.Tx](store)
	for _, name := range []string{"orders\x00v2", "\x00", "caf\xe9", "\xff\xfe"} {
		_, err := consumer.NewProcessor(store, []consumer.Consumer[*memory.Tx]{newProjection(name)}, consumer.Config{})
		var ce *consumer.ConfigError
		if !errors.Is(err, consumer.ErrInvalidConfig) || !errors.As(err, &ce) || ce.Field != "consumers" {
			t.Errorf("NewProcessor with consumer %q: %v, want a *consumer.ConfigError for consumers", name, err)
		}
		for op, call := range map[string]func() error{
			"Reset":        func() error { return ops.Reset(ctx, name) },
			"StartFromNow": func() error { return ops.StartFromNow(ctx, name) },
			"SetCursor":    func() error { return ops.SetCursor(ctx, name, core.Cursor{}) },
			"ResetTx": func() error {
				tx, err := store.Begin(ctx)
				if err != nil {
					return err
				}
				defer tx.Rollback()
				return ops.ResetTx(ctx, tx, name, func(context.Context, *memory.Tx) error { return nil })
			},
		} {
			err := call()
			var ae *core.InvalidArgumentError
			if !errors.Is(err, core.ErrInvalidArgument) || !errors.As(err, &ae) || ae.Argument != "consumer" {
				t.Errorf("%s(%q): %v, want a *core.InvalidArgumentError for the consumer", op, name, err)
			}
		}
	}
	if st, err := ops.Status(ctx); err != nil || len(st) != 0 {
		t.Errorf("checkpoints after the rejected names: %+v, %v; want none", st, err)
	}
}

func TestRestoredDatabaseFailsRunUntilRecovered(t *testing.T) {
	ctx := context.Background()
	store := memory.NewStore()
	ops := consumer.NewOperations[*memory.Tx](store)
	proj := newProjection("restored")
	// The original cluster's transaction ids are far above the new one's.
	if err := store.SetNextTransactionID(1000); err != nil {
		t.Fatal(err)
	}
	appendEvents(t, store, "Order", "o-1", 3)
	p := newProcessor(t, store, consumer.Config{}, proj)

	// Restored while running: the running processor notices at its next batch.
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()
	proj.waitFor(t, "first events", count(3))
	deadline := time.Now().Add(10 * time.Second)
	for store.SetNextTransactionID(1) != nil { // a batch holds an id: retry between batches
		if time.Now().After(deadline) {
			t.Fatal("the store was never without a transaction holding an id")
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-done:
		var moved *core.TransactionOrderMovedError
		if !errors.Is(err, core.ErrTransactionOrderMoved) || !errors.As(err, &moved) {
			t.Fatalf("Run returned %v, want a *core.TransactionOrderMovedError", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not fail after the restore")
	}

	// A new Run fails at once, as does the check.
	if err := p.Run(ctx); !errors.Is(err, core.ErrTransactionOrderMoved) {
		t.Fatalf("Run on the restored store: %v, want ErrTransactionOrderMoved", err)
	}
	if _, err := ops.CheckTransactionOrder(ctx); !errors.Is(err, core.ErrTransactionOrderMoved) {
		t.Fatalf("CheckTransactionOrder: %v, want ErrTransactionOrderMoved", err)
	}

	st, err := ops.RecoverTransactionOrder(ctx)
	if err != nil || st.Moved() || st.Offset == 0 {
		t.Fatalf("RecoverTransactionOrder: %+v, %v", st, err)
	}
	if _, err := ops.CheckTransactionOrder(ctx); err != nil {
		t.Fatalf("CheckTransactionOrder after the recovery: %v", err)
	}
	stop := run(t, p)
	appendEvents(t, store, "Order", "o-1", 2)
	appendEvents(t, store, "Order", "o-2", 1)
	proj.waitFor(t, "events after the recovery", count(6))
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	assertExactlyOnceInOrder(t, proj.snapshot(), 6)
}

func TestRunLeavesNoGoroutines(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	store := memory.NewStore()
	appendEvents(t, store, "Order", "o-1", 3)
	appendEvents(t, store, "User", "u-1", 2)
	all, orders, broken := newProjection("all"), newProjection("orders", "Order"), newProjection("broken")
	broken.fail = func(core.PersistedEvent) error { return errors.New("always") }
	stopped := make(chan struct{})
	stop := run(t, newProcessor(t, store, consumer.Config{MaxAttempts: 2, OnStop: func(string, error) { close(stopped) }}, all, orders, broken))
	all.waitFor(t, "all", count(5))
	orders.waitFor(t, "orders", count(3))
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("the failing consumer did not stop")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	goleak.VerifyNone(t, ignore)
}

// blocking is a consumer whose Handle blocks on the event of version 2
// until its context ends.
type blocking struct {
	*projection
	returnCtxErr bool
	entered      chan struct{}
}

func (b *blocking) Handle(ctx context.Context, tx *memory.Tx, e core.PersistedEvent) error {
	if err := b.projection.Handle(ctx, tx, e); err != nil {
		return err
	}
	if e.AggregateVersion == 2 {
		close(b.entered)
		<-ctx.Done()
		if b.returnCtxErr {
			return ctx.Err()
		}
	}
	return nil
}

func TestCancelDuringHandleRollsTheBatchBack(t *testing.T) {
	for name, returnCtxErr := range map[string]bool{"handler returns ctx.Err()": true, "handler ignores the cancellation": false} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			store := memory.NewStore()
			appendEvents(t, store, "Order", "o-1", 3)
			c := &blocking{projection: newProjection("blocking"), returnCtxErr: returnCtxErr, entered: make(chan struct{})}
			p := newProcessor(t, store, consumer.Config{}, c)
			runCtx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			go func() { done <- p.Run(runCtx) }()
			select {
			case <-c.entered:
			case <-time.After(10 * time.Second):
				t.Fatal("Handle was not called for version 2")
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Run did not return after cancellation")
			}
			if got := c.snapshot(); len(got) != 0 {
				t.Fatalf("%d events committed by the cancelled batch", len(got))
			}
			st, err := p.Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if s := st[0]; !s.Cursor.Snapshot.IsZero() || s.Cursor.Paging() || s.Behind != 3 || s.FailedAttempts != 0 || s.LastError != "" {
				t.Fatalf("status after the cancelled batch: %+v; want the start, 3 behind, no failure", s)
			}

			// The next Run handles the batch once.
			again := newProjection("blocking")
			run(t, newProcessor(t, store, consumer.Config{}, again))
			again.waitFor(t, "events after the restart", count(3))
			assertExactlyOnceInOrder(t, again.snapshot(), 3)
		})
	}
}

func TestRestartedConsumerGetsAllItsAttemptsAgain(t *testing.T) {
	ctx := context.Background()
	store := memory.NewStore()
	appendEvents(t, store, "Order", "o-1", 1)
	var mu sync.Mutex
	calls := 0
	broken := newProjection("broken")
	broken.fail = func(core.PersistedEvent) error {
		mu.Lock()
		calls++
		mu.Unlock()
		return errors.New("always")
	}
	for round := 1; round <= 2; round++ {
		stopped := make(chan struct{})
		stop := run(t, newProcessor(t, store, consumer.Config{MaxAttempts: 3, OnStop: func(string, error) { close(stopped) }}, broken))
		select {
		case <-stopped:
		case <-time.After(10 * time.Second):
			t.Fatalf("round %d: consumer did not stop", round)
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		got := calls
		mu.Unlock()
		if got != 3*round {
			t.Fatalf("after round %d: %d handler calls, want %d", round, got, 3*round)
		}
	}
	st, err := consumer.NewOperations[*memory.Tx](store).Status(ctx)
	if err != nil || len(st) != 1 || !st[0].Stopped || st[0].FailedAttempts != 3 {
		t.Fatalf("status = %+v, %v", st, err)
	}
}

func TestSetCursorRejectsACursorAfterNow(t *testing.T) {
	ctx := context.Background()
	store := memory.NewStore()
	appendEvents(t, store, "Order", "o-1", 1)
	ops := consumer.NewOperations[*memory.Tx](store)
	err := ops.SetCursor(ctx, "c", core.Cursor{Snapshot: core.Snapshot{Xmin: 1 << 40, Xmax: 1 << 40}})
	if !errors.Is(err, core.ErrInvalidArgument) {
		t.Fatalf("err = %v, want ErrInvalidArgument", err)
	}
	// A snapshot listing a running transaction as visible is after now too.
	open, err := store.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := store.Append(ctx, open, core.Any(), []core.Event{{AggregateType: "Order", AggregateID: "o-2", EventID: uuid.New(), EventType: "E"}})
	if err != nil {
		t.Fatal(err)
	}
	running := res.Events[0].TransactionID
	if err := ops.SetCursor(ctx, "c", core.Cursor{Snapshot: core.Snapshot{Xmin: running + 1, Xmax: running + 1}}); !errors.Is(err, core.ErrInvalidArgument) {
		t.Fatalf("a cursor seeing a running writer: err = %v, want ErrInvalidArgument", err)
	}
	_ = open.Rollback()
	tx, _ := store.Begin(ctx)
	now, err := store.CurrentSnapshot(ctx, tx)
	_ = tx.Rollback()
	if err != nil {
		t.Fatal(err)
	}
	if err := ops.SetCursor(ctx, "c", core.Cursor{Snapshot: now}); err != nil {
		t.Fatal(err)
	}
	st, err := ops.Status(ctx)
	if err != nil || len(st) != 1 || !st[0].Cursor.Snapshot.Contains(now) || st[0].Behind != 0 {
		t.Fatalf("status = %+v, %v", st, err)
	}
}

// silentStore is a memory store whose Listen sends no wakeups, as a
// PostgreSQL store without a notify channel.
type silentStore struct{ *memory.Store }

func (silentStore) Listen(context.Context, func([]int64)) error {
	return core.ErrNotificationsUnsupported
}

// A writer that appended and commits later is noticed without a wakeup and
// without waiting a poll interval: batches see the append in flight
// (ConsumerBatch.Writing) and poll quickly until it commits.
func TestWriterInFlightIsNoticedWithoutAWakeup(t *testing.T) {
	ctx := context.Background()
	store := memory.NewStore()
	late, err := store.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Append(ctx, late, core.NoStream(), []core.Event{{AggregateType: "A", AggregateID: "late", EventID: uuid.New(), EventType: "E"}}); err != nil {
		t.Fatal(err)
	}
	proj := newProjection("late")
	first := make(chan struct{})
	var once sync.Once
	p, err := consumer.NewProcessor[*memory.Tx](silentStore{store}, []consumer.Consumer[*memory.Tx]{proj}, consumer.Config{
		PollInterval: time.Hour,
		OnBatch:      func(consumer.BatchReport) { once.Do(func() { close(first) }) },
	})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(runCtx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	select { // the first batch, which sees the append in flight
	case <-first:
	case <-time.After(10 * time.Second):
		t.Fatal("no first batch")
	}
	if err := late.Commit(); err != nil {
		t.Fatal(err)
	}
	// Far below the hour's poll interval: proj.waitFor gives up after 10s.
	proj.waitFor(t, "the late writer's event", count(1))
}

// OnBatchStart wraps every batch that read events: its context reaches
// Handle, and end reports how the batch ended, a handler's error as
// Handle returned it.
func TestOnBatchStartWrapsEachBatchThatReadEvents(t *testing.T) {
	store := memory.NewStore()
	appendEvents(t, store, "Order", "o-1", 3)
	transient := errors.New("transient")
	type key struct{}
	proj := newProjection("hooked")
	var mu sync.Mutex
	var starts []consumer.BatchStart
	var ends []consumer.BatchEnd
	var unwrapped int // Handle calls whose context lacked the hook's value
	failed := false
	proj.fail = func(e core.PersistedEvent) error {
		if e.AggregateVersion == 2 && !failed {
			failed = true
			return transient
		}
		return nil
	}
	hooked := consumerFunc{proj, func(ctx context.Context) {
		if ctx.Value(key{}) == nil {
			mu.Lock()
			unwrapped++
			mu.Unlock()
		}
	}}
	cfg := consumer.Config{OnBatchStart: func(ctx context.Context, b consumer.BatchStart) (context.Context, func(consumer.BatchEnd)) {
		mu.Lock()
		starts = append(starts, b)
		mu.Unlock()
		return context.WithValue(ctx, key{}, b.Events), func(e consumer.BatchEnd) {
			mu.Lock()
			ends = append(ends, e)
			mu.Unlock()
		}
	}}
	stop := run(t, newProcessor(t, store, cfg, hooked))
	proj.waitFor(t, "three events", count(3))
	if err := stop(); err != nil { // Run returned: every batch has ended
		t.Fatal(err)
	}
	assertExactlyOnceInOrder(t, proj.snapshot(), 3)
	mu.Lock()
	defer mu.Unlock()
	if unwrapped != 0 {
		t.Fatalf("%d Handle calls did not get the hook's context", unwrapped)
	}
	if len(starts) != len(ends) || len(starts) != 3 {
		t.Fatalf("%d starts and %d ends, want 3 each: the failing batch, the event before the failure, the rest", len(starts), len(ends))
	}
	if !ends[0].HandlerFailed || ends[0].Err != transient || starts[0].Events != 3 {
		t.Fatalf("first batch: %+v, %+v; want 3 events and the handler's error", starts[0], ends[0])
	}
	handled := 0
	for i, e := range ends[1:] {
		if e.Err != nil || e.HandlerFailed {
			t.Fatalf("batch %d: %+v, want committed", i+1, e)
		}
		if starts[i+1].Consumer != "hooked" || starts[i+1].Started.IsZero() {
			t.Fatalf("batch %d: %+v", i+1, starts[i+1])
		}
		handled += starts[i+1].Events
	}
	if handled != 3 {
		t.Fatalf("committed batches handled %d events, want 3", handled)
	}
}

// consumerFunc is a projection that also calls check with Handle's context.
type consumerFunc struct {
	*projection
	check func(ctx context.Context)
}

func (c consumerFunc) Handle(ctx context.Context, tx *memory.Tx, e core.PersistedEvent) error {
	c.check(ctx)
	return c.projection.Handle(ctx, tx, e)
}
