package integration_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	pgxstore "github.com/chronicle-go/chronicle/adapters/postgres-pgx"
	"github.com/chronicle-go/chronicle/consumer"
	"github.com/chronicle-go/chronicle/core"
	"github.com/chronicle-go/chronicle/internal/pgstore"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Liveness (DESIGN §6): what holds a consumer back is only the uncommitted
// writers of the events it waits for. A transaction holding an id in
// another database, one holding an id in this database without appending,
// or another consumer's slow batch delays nothing; a writer that commits
// late is delivered when it commits. Revision 1's frontier (the oldest
// running id of the cluster) stalled every consumer behind each of them,
// so every bound below fails there.

// lvWorstDelivery bounds one committed event's commit → Handle latency: far
// above what a woken processor needs (milliseconds), far below the holds
// the tests set up. lvMedianDelivery bounds the median.
const (
	lvWorstDelivery  = 2 * time.Second
	lvMedianDelivery = 250 * time.Millisecond
)

// lvConsumer records the events of its committed batches. Handle runs in
// the batch transaction; the processor's OnBatch reports the commit.
type lvConsumer struct {
	name string
	// gate, when set, makes Handle block until it is closed (or the
	// processor stops): a consumer whose batch takes as long as the test.
	gate chan struct{}
	// entered is closed when Handle is first called.
	entered     chan struct{}
	enteredOnce sync.Once

	mu      sync.Mutex
	pending []lvHandled
	// delivered holds the committed events in delivery order.
	delivered []lvHandled
	// notify, when set, gets each committed event (without blocking the
	// processor for long: buffer it).
	notify chan lvHandled
}

type lvHandled struct {
	event core.PersistedEvent
	at    time.Time
}

func newLvConsumer(name string) *lvConsumer {
	return &lvConsumer{name: name, entered: make(chan struct{}), notify: make(chan lvHandled, 10_000)}
}

func (c *lvConsumer) Name() string { return c.name }

func (c *lvConsumer) Handle(ctx context.Context, _ pgx.Tx, e core.PersistedEvent) error {
	c.enteredOnce.Do(func() { close(c.entered) })
	if c.gate != nil {
		select {
		case <-c.gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	c.mu.Lock()
	c.pending = append(c.pending, lvHandled{event: e, at: time.Now()})
	c.mu.Unlock()
	return nil
}

// committed takes the batch's events: the last report.Events handled.
func (c *lvConsumer) committed(report consumer.BatchReport) {
	c.mu.Lock()
	batch := slices.Clone(c.pending[len(c.pending)-report.Events:])
	c.pending = c.pending[:0]
	c.delivered = append(c.delivered, batch...)
	c.mu.Unlock()
	for _, h := range batch {
		select {
		case c.notify <- h:
		default:
		}
	}
}

func (c *lvConsumer) events() []lvHandled {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.delivered)
}

// lvRig is a pgx store with a notify channel in a fresh schema, and its
// consumer port.
type lvRig struct {
	pool  *pgxpool.Pool
	store *pgxstore.Store
	cs    *pgxstore.ConsumerStore
}

func newLvRig(t *testing.T, maxConns int32) lvRig {
	t.Helper()
	pool := newPool(t, 0, maxConns)
	store, _ := newPgxStore(t, pgxstore.WithNotifyChannel("lv_"+strings.ReplaceAll(uuid.NewString(), "-", "")[:12]))
	cs, err := pgxstore.NewConsumerStore(pool, store)
	if err != nil {
		t.Fatal(err)
	}
	return lvRig{pool: pool, store: store, cs: cs}
}

// run starts a processor for consumers; it stops when t ends, and its Run
// must return nil.
func (r lvRig) run(t *testing.T, cfg consumer.Config, consumers ...*lvConsumer) *consumer.Processor[pgx.Tx] {
	t.Helper()
	byName := map[string]*lvConsumer{}
	list := make([]consumer.Consumer[pgx.Tx], len(consumers))
	for i, c := range consumers {
		byName[c.name], list[i] = c, c
	}
	cfg.OnBatch = func(report consumer.BatchReport) { byName[report.Consumer].committed(report) }
	cfg.MaxAttempts = -1
	p, err := consumer.NewProcessor[pgx.Tx](r.cs, list, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("processor: %v", err)
		}
	})
	return p
}

// appendOne appends one event to a new aggregate and commits; it returns
// the event id and when COMMIT returned.
func (r lvRig) appendOne(t *testing.T, ctx context.Context) (uuid.UUID, time.Time) {
	t.Helper()
	events := newEvents("Order", 1)
	err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
		_, err := r.store.Append(ctx, tx, core.NoStream(), events)
		return err
	})
	if err != nil {
		t.Fatalf("append: %v", err)
	}
	return events[0].EventID, time.Now()
}

// awaitEvent waits for c to deliver the event id, at most d; it returns
// when Handle ran, or fails t.
func awaitEvent(t *testing.T, c *lvConsumer, id uuid.UUID, d time.Duration) time.Time {
	t.Helper()
	timeout := time.NewTimer(d)
	defer timeout.Stop()
	for {
		select {
		case h := <-c.notify:
			if h.event.EventID == id {
				return h.at
			}
		case <-timeout.C:
			t.Fatalf("consumer %s did not deliver event %s within %s", c.name, id, d)
			return time.Time{}
		}
	}
}

// holdID opens a session on dbURL that takes a transaction id and stays
// idle in transaction until t ends; it returns the id and the backend pid.
func holdID(t *testing.T, ctx context.Context, dbURL string) (xid int64, pid int) {
	t.Helper()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("connecting the holder: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	if _, err := conn.Exec(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, "SELECT pg_current_xact_id()::text::bigint, pg_backend_pid()").Scan(&xid, &pid); err != nil {
		t.Fatal(err)
	}
	return xid, pid
}

// otherDatabase returns the URL of a database of the same server other
// than the package's: a fresh one dropped when t ends, or, when this role
// may not create databases, the server's "postgres" database.
func otherDatabase(t *testing.T, ctx context.Context) string {
	t.Helper()
	needDatabase(t)
	u, err := url.Parse(databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	name := "chronicle_lv_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12]
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Logf("cannot create a database (%v): using the database postgres", err)
		u.Path = "/postgres"
		return u.String()
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), databaseURL)
		if err != nil {
			t.Errorf("dropping database %s: %v", name, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("dropping database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// assertFrontierHeld fails t unless xid is still running and at or below
// the cluster's xmin: the hold is in force, so revision 1 would stall.
func assertFrontierHeld(t *testing.T, ctx context.Context, pool *pgxpool.Pool, xid int64) {
	t.Helper()
	var held bool
	err := pool.QueryRow(ctx, "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint <= $1 AND pg_xact_status($1::text::xid8) = 'in progress'", xid).Scan(&held)
	if err != nil {
		t.Fatal(err)
	}
	if !held {
		t.Fatalf("transaction %d no longer holds the cluster's oldest running id back: the test proves nothing", xid)
	}
}

// deliverEach appends n events one by one, each awaited on c, and returns
// the commit → Handle latencies.
func deliverEach(t *testing.T, ctx context.Context, r lvRig, c *lvConsumer, n int) []time.Duration {
	t.Helper()
	lat := make([]time.Duration, 0, n)
	for range n {
		id, committed := r.appendOne(t, ctx)
		at := awaitEvent(t, c, id, lvWorstDelivery)
		lat = append(lat, max(at.Sub(committed), 0))
	}
	return lat
}

// assertLatencies checks the median and worst latency.
func assertLatencies(t *testing.T, lat []time.Duration) {
	t.Helper()
	s := slices.Clone(lat)
	slices.Sort(s)
	p50, worst := s[len(s)/2], s[len(s)-1]
	t.Logf("commit → Handle over %d events: p50 %s, worst %s", len(s), p50, worst)
	if p50 > lvMedianDelivery {
		t.Errorf("median commit → Handle latency %s, want at most %s", p50, lvMedianDelivery)
	}
	if worst > lvWorstDelivery {
		t.Errorf("worst commit → Handle latency %s, want at most %s", worst, lvWorstDelivery)
	}
}

// TestLivenessDeliveryIsNotHeldBack: with each of the holds in place
// (and all of them at once), a fast consumer delivers every committed
// event within a small bound. PollInterval is long, so delivery comes
// from the wakeups, not from polling.
func TestLivenessDeliveryIsNotHeldBack(t *testing.T) {
	needDatabase(t)
	holds := []struct {
		name                     string
		otherDB, sameDB, laggard bool
	}{
		{name: "id held in another database", otherDB: true},
		{name: "slow consumer in the same processor", laggard: true},
		{name: "id held in the same database", sameDB: true},
		{name: "all at once", otherDB: true, sameDB: true, laggard: true},
	}
	for _, h := range holds {
		t.Run(h.name, func(t *testing.T) {
			ctx := testContext(t)
			r := newLvRig(t, 8)
			fast := newLvConsumer("fast")
			consumers := []*lvConsumer{fast}
			var slow *lvConsumer
			if h.laggard {
				slow = newLvConsumer("slow")
				slow.gate = make(chan struct{})
				consumers = append(consumers, slow)
				t.Cleanup(func() { close(slow.gate) })
			}
			var held []int64
			if h.otherDB {
				xid, _ := holdID(t, ctx, otherDatabase(t, ctx))
				held = append(held, xid)
			}
			if h.sameDB {
				xid, _ := holdID(t, ctx, databaseURL)
				held = append(held, xid)
			}
			r.run(t, consumer.Config{BatchSize: 10, PollInterval: 10 * time.Second}, consumers...)
			// The first event proves the listener and both loops are up;
			// the slow consumer then sits inside its batch.
			id, _ := r.appendOne(t, ctx)
			awaitEvent(t, fast, id, 10*time.Second)
			if slow != nil {
				select {
				case <-slow.entered:
				case <-time.After(10 * time.Second):
					t.Fatal("the slow consumer never entered Handle")
				}
			}
			lat := deliverEach(t, ctx, r, fast, 30)
			for _, xid := range held {
				assertFrontierHeld(t, ctx, r.pool, xid)
			}
			if slow != nil && len(slow.events()) != 0 {
				t.Errorf("the slow consumer committed %d events while blocked", len(slow.events()))
			}
			assertLatencies(t, lat)
		})
	}
}

// TestLivenessLateCommitIsDeliveredAtCommit: a writer appends, and commits
// seconds later; meanwhile other events are delivered, and the consumer's
// status names the writer it waits for (its pid). Its commit is delivered
// well within the poll interval: the wakeup comes with the commit.
func TestLivenessLateCommitIsDeliveredAtCommit(t *testing.T) {
	needDatabase(t)
	ctx := testContext(t)
	r := newLvRig(t, 8)
	fast := newLvConsumer("fast")
	const poll = 5 * time.Second
	p := r.run(t, consumer.Config{BatchSize: 10, PollInterval: poll}, fast)
	id, _ := r.appendOne(t, ctx)
	awaitEvent(t, fast, id, 10*time.Second)
	// Past the store's notify interval, so that the late writer's append
	// is the one that notifies, at its commit.
	time.Sleep(2 * pgstore.NotifyInterval)

	late, err := r.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = late.Rollback(context.WithoutCancel(ctx)) }()
	lateEvents := newEvents("Order", 1)
	if _, err := r.store.Append(ctx, late, core.NoStream(), lateEvents); err != nil {
		t.Fatal(err)
	}
	var pid int
	if err := late.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
		t.Fatal(err)
	}
	// Other writers commit and are delivered while the late one runs.
	lat := deliverEach(t, ctx, r, fast, 10)
	assertLatencies(t, lat)
	// The stored cursor lists the late writer as running: status names it.
	st, err := p.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 1 || !slices.ContainsFunc(st[0].WaitingFor, func(w core.Writer) bool { return w.PID == pid }) {
		t.Fatalf("status does not name the late writer (pid %d) among those waited for: %+v", pid, st)
	}
	for _, e := range fast.events() {
		if e.event.EventID == lateEvents[0].EventID {
			t.Fatal("the late writer's event was delivered before its commit")
		}
	}
	if err := late.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	committed := time.Now()
	at := awaitEvent(t, fast, lateEvents[0].EventID, poll/2)
	t.Logf("the late writer's event came %s after its commit (poll interval %s)", max(at.Sub(committed), 0), poll)
	if d := at.Sub(committed); d > poll/5 {
		t.Errorf("the late writer's event came %s after its commit, want well under the poll interval %s", d, poll)
	}
	// Its status no longer waits for it.
	st, err = p.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(st[0].WaitingFor, func(w core.Writer) bool { return w.PID == pid }) {
		t.Errorf("status still names the committed writer: %+v", st[0].WaitingFor)
	}
}
