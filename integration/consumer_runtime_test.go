package integration_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pgxstore "github.com/chronicle-go/chronicle/adapters/postgres-pgx"
	"github.com/chronicle-go/chronicle/consumer"
	"github.com/chronicle-go/chronicle/core"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/goleak"
)

// appendN commits n single-event appends to aggregate agg of type typ and
// returns the stored events.
func appendN(t testing.TB, ctx context.Context, pool *pgxpool.Pool, store *pgxstore.Store, typ, agg string, n int) []core.PersistedEvent {
	t.Helper()
	var out []core.PersistedEvent
	for range n {
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		res, err := store.Append(ctx, tx, core.Any(), []core.Event{{AggregateType: typ, AggregateID: agg, EventID: uuid.New(), EventType: "Happened"}})
		if err != nil {
			_ = tx.Rollback(ctx)
			t.Fatal(err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		out = append(out, res.Events...)
	}
	return out
}

// waitRows waits until table holds at least n rows.
func waitRows(t testing.TB, ctx context.Context, pool *pgxpool.Pool, table string, n int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var got int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has %d rows after %s, want %d", table, got, within, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func committedIDs(events []core.PersistedEvent) map[string]bool {
	m := make(map[string]bool, len(events))
	for _, e := range events {
		m[e.EventID.String()] = true
	}
	return m
}

var fastRetries = consumer.Config{PollInterval: 50 * time.Millisecond, InitialBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond}

// TestConsumerFailover kills the connection of the processor inside a batch;
// the other processor takes the consumer over and nothing is lost or
// repeated.
func TestConsumerFailover(t *testing.T) {
	ctx := testContext(t)
	store, names := newPgxStore(t)
	pool := newPool(t, 0, 8)
	table := createProjection(t, ctx, pool, names.Schema, "failover_projection")
	events := appendN(t, ctx, pool, store, "Order", "o-1", 30)

	victim := make(chan int32, 1)
	release := make(chan struct{})
	var hung atomic.Bool
	proj := &rowProjector{name: "failover", table: table}
	proj.hook = func(ctx context.Context, tx pgx.Tx, e core.PersistedEvent) error {
		if e.AggregateVersion != 10 || !hung.CompareAndSwap(false, true) {
			return nil
		}
		var pid int32
		if err := tx.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
			return err
		}
		victim <- pid
		<-release // hang mid-batch, as a stuck process would
		return nil
	}
	cfg := fastRetries
	cfg.BatchSize = 4
	stopA := runProcessor(t, store, cfg, proj)
	stopB := runProcessor(t, store, cfg, proj)

	var pid int32
	select {
	case pid = <-victim:
	case <-ctx.Done():
		t.Fatal("no batch reached event 10")
	}
	var killed bool
	if err := pool.QueryRow(ctx, "SELECT pg_terminate_backend($1)", pid).Scan(&killed); err != nil || !killed {
		t.Fatalf("terminating backend %d: %v, %v", pid, killed, err)
	}
	// The other processor finishes the log while the victim still hangs.
	waitRows(t, ctx, pool, table, len(events), time.Minute)
	close(release)
	if err := errors.Join(stopA(), stopB()); err != nil {
		t.Fatal(err)
	}
	if v := judge(committedIDs(events), projectionRows(t, ctx, pool, table)); v != (verdict{}) {
		t.Fatalf("projection after failover: %+v", v)
	}
	if proj.calls.Load() <= int64(len(events)) {
		t.Fatalf("%d handler calls for %d events: the killed batch was not redone", proj.calls.Load(), len(events))
	}
}

// TestConsumerRetriesAndStops: a handler failing twice then succeeding has
// its effect once; one always failing stops with its error recorded while
// another consumer carries on.
func TestConsumerRetriesAndStops(t *testing.T) {
	ctx := testContext(t)
	store, names := newPgxStore(t)
	pool := newPool(t, 0, 8)
	events := appendN(t, ctx, pool, store, "Order", "o-1", 5)

	flakyTable := createProjection(t, ctx, pool, names.Schema, "flaky_projection")
	var flakyFailures atomic.Int32
	flaky := &rowProjector{name: "flaky", table: flakyTable, hook: func(_ context.Context, _ pgx.Tx, e core.PersistedEvent) error {
		if e.AggregateVersion == 3 && flakyFailures.Add(1) <= 2 {
			return errors.New("transient failure")
		}
		return nil
	}}
	brokenTable := createProjection(t, ctx, pool, names.Schema, "broken_projection")
	broken := &rowProjector{name: "broken", table: brokenTable, hook: func(_ context.Context, _ pgx.Tx, e core.PersistedEvent) error {
		if e.AggregateVersion == 4 {
			return errors.New("poison event")
		}
		return nil
	}}
	stopped := make(chan string, 1)
	cfg := fastRetries
	cfg.MaxAttempts = 3
	cfg.OnStop = func(name string, _ error) { stopped <- name }
	p := newProcessor(t, newPool(t, 0, 4), store, cfg, flaky, broken)
	stop := startProcessor(t, p)
	defer func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	}()

	select {
	case name := <-stopped:
		if name != "broken" {
			t.Fatalf("stopped %q, want broken", name)
		}
	case <-ctx.Done():
		t.Fatal("the broken consumer never stopped")
	}
	waitRows(t, ctx, pool, flakyTable, len(events), time.Minute)
	if v := judge(committedIDs(events), projectionRows(t, ctx, pool, flakyTable)); v != (verdict{}) {
		t.Fatalf("flaky projection: %+v", v)
	}
	if n := flakyFailures.Load(); n < 2 {
		t.Fatalf("flaky handler failed %d times, want 2", n)
	}
	st, err := p.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	b := st[1]
	if b.ConsumerName != "broken" || !b.Stopped || b.FailedAttempts != 3 || !strings.Contains(b.LastError, "poison event") ||
		b.LastErrorPosition != events[3].GlobalPosition || b.LastErrorAt.IsZero() {
		t.Fatalf("broken consumer status = %+v", b)
	}
	if got := len(projectionRows(t, ctx, pool, brokenTable)); got != 3 {
		t.Fatalf("broken consumer projected %d events, want the 3 before the poison event", got)
	}
	if b.Behind != 2 {
		t.Fatalf("broken consumer is %d events behind, want 2", b.Behind)
	}
	if f := st[0]; f.Stopped || f.Behind != 0 || f.FailedAttempts != 0 {
		t.Fatalf("flaky consumer status = %+v", f)
	}
}

// scoped narrows a rowProjector to some aggregate types.
type scoped struct {
	*rowProjector
	types []string
}

func (s scoped) AggregateTypes() []string { return s.types }

// TestScopedConsumerOnPostgreSQL: a scoped consumer gets only its types
// and its cursor passes the others; a consumer with nothing to do still
// advances.
func TestScopedConsumerOnPostgreSQL(t *testing.T) {
	ctx := testContext(t)
	store, names := newPgxStore(t)
	pool := newPool(t, 0, 8)
	orders := appendN(t, ctx, pool, store, "Order", "o-1", 3)
	appendN(t, ctx, pool, store, "User", "u-1", 4)
	orders = append(orders, appendN(t, ctx, pool, store, "Order", "o-2", 2)...)
	last := appendN(t, ctx, pool, store, "User", "u-2", 3)

	table := createProjection(t, ctx, pool, names.Schema, "orders_projection")
	ordersOnly := scoped{&rowProjector{name: "orders", table: table}, []string{"Order"}}
	idleTable := createProjection(t, ctx, pool, names.Schema, "idle_projection")
	idle := scoped{&rowProjector{name: "invoices", table: idleTable}, []string{"Invoice"}}

	p := newProcessor(t, newPool(t, 0, 4), store, fastRetries, ordersOnly, idle)
	stop := startProcessor(t, p)
	defer func() {
		if err := stop(); err != nil {
			t.Error(err)
		}
	}()

	waitRows(t, ctx, pool, table, len(orders), time.Minute)
	lastEvent := last[len(last)-1]
	deadline := time.Now().Add(time.Minute)
	for {
		st, err := p.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st[0].Cursor.Delivered(lastEvent) && st[1].Cursor.Delivered(lastEvent) {
			if st[0].Behind != 0 || st[1].Behind != 0 {
				t.Fatalf("scoped consumers behind: %d, %d", st[0].Behind, st[1].Behind)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("scoped consumers did not pass the last event (writer %d): %s, %s", lastEvent.TransactionID, st[0].Cursor, st[1].Cursor)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if v := judge(committedIDs(orders), projectionRows(t, ctx, pool, table)); v != (verdict{}) {
		t.Fatalf("orders projection: %+v", v)
	}
	if n := len(projectionRows(t, ctx, pool, idleTable)); n != 0 {
		t.Fatalf("the idle consumer handled %d events", n)
	}
}

// TestOpenTransactionHoldsBackOnlyItsOwnEvents: a transaction that holds
// an id and stays open holds back no consumer: events committed by others
// meanwhile are delivered. Its own append waits until it commits; status
// names it, from the consumer's stored snapshot, as the writer waited for;
// it is delivered within a poll interval of the commit.
func TestOpenTransactionHoldsBackOnlyItsOwnEvents(t *testing.T) {
	ctx := testContext(t)
	store, names := newPgxStore(t)
	pool := newPool(t, 0, 8)
	table := createProjection(t, ctx, pool, names.Schema, "stall_projection")
	proj := &rowProjector{name: "stalled", table: table}
	cfg := fastRetries
	cfg.PollInterval = 200 * time.Millisecond
	batches := &countingBatches{ConsumerStore: mustConsumerStore(t, newPool(t, 0, 4), store)}
	p, err := consumer.NewProcessor[pgx.Tx](batches, []consumer.Consumer[pgx.Tx]{proj}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	stop := startProcessor(t, p)
	all := appendN(t, ctx, pool, store, "Order", "before", 1)
	waitRows(t, ctx, pool, table, 1, time.Minute)

	holder, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback(context.Background())
	var holderPID int32
	var holderID int64
	if err := holder.QueryRow(ctx, "SELECT pg_backend_pid(), pg_current_xact_id()::text::bigint + (SELECT order_offset FROM "+
		qualified(names.Schema, names.OrderOffsetTable)+")").Scan(&holderPID, &holderID); err != nil {
		t.Fatal(err)
	}
	all = append(all, appendN(t, ctx, pool, store, "Order", "during", 3)...)
	waitRows(t, ctx, pool, table, 4, time.Minute)

	held, err := store.Append(ctx, holder, core.Any(), newEvents("Order", 1))
	if err != nil {
		t.Fatal(err)
	}
	if got := held.Events[0].TransactionID; got != holderID {
		t.Fatalf("the open transaction's event has writer id %d, want its own %d", got, holderID)
	}
	// Batches read after the append do not deliver it: the processor is
	// seen reading three, rather than given time.
	batches.await(t, batches.count()+3)
	if n := len(projectionRows(t, ctx, pool, table)); n != 4 {
		t.Fatalf("%d events delivered, want the 4 committed ones", n)
	}
	ops := consumer.NewOperations[pgx.Tx](mustConsumerStore(t, pool, store))
	st, err := ops.Status(ctx)
	if err != nil || len(st) != 1 || st[0].Behind != 0 {
		t.Fatalf("status while the writer is open = %+v, %v; want nothing committed behind", st, err)
	}
	found := false
	for _, w := range st[0].WaitingFor {
		if w.PID == int(holderPID) {
			found = true
			if !strings.HasPrefix(w.State, "idle in transaction") || w.Started.IsZero() || w.TransactionID != holderID {
				t.Fatalf("the open writer reported as %+v, want id %d idle in transaction", w, holderID)
			}
		}
	}
	if !found {
		t.Fatalf("WaitingFor = %+v, want backend %d", st[0].WaitingFor, holderPID)
	}

	if err := holder.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	all = append(all, held.Events...)
	committed := time.Now()
	waitRows(t, ctx, pool, table, 5, cfg.PollInterval+5*time.Second)
	t.Logf("delivered %s after the writer committed (poll interval %s)", time.Since(committed).Round(time.Millisecond), cfg.PollInterval)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if v := judge(committedIDs(all), projectionRows(t, ctx, pool, table)); v != (verdict{}) {
		t.Fatalf("projection: %+v", v)
	}
}

func mustConsumerStore(t testing.TB, pool *pgxpool.Pool, store *pgxstore.Store) *pgxstore.ConsumerStore {
	t.Helper()
	cs, err := pgxstore.NewConsumerStore(pool, store)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// TestProcessorLeavesNoGoroutines runs a processor with LISTEN on its own
// pool and checks that nothing is left running once Run has returned and
// the pool is closed.
func TestProcessorLeavesNoGoroutines(t *testing.T) {
	needDatabase(t)
	ctx := testContext(t)
	store, names := newPgxStore(t, pgxstore.WithNotifyChannel("leak_"+uuid.NewString()[:8]))
	helperPool := newPool(t, 0, 4)
	table := createProjection(t, ctx, helperPool, names.Schema, "leak_projection")
	appendN(t, ctx, helperPool, store, "Order", "o-1", 3)

	ignore := goleak.IgnoreCurrent()
	func() {
		pool, err := pgxpool.New(ctx, databaseURL)
		if err != nil {
			t.Fatal(err)
		}
		defer pool.Close()
		stop := startProcessor(t, newProcessor(t, pool, store, fastRetries, &rowProjector{name: "leak", table: table}))
		waitRows(t, ctx, helperPool, table, 3, time.Minute)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	}()
	goleak.VerifyNone(t, ignore)
}

// countingBatches is a consumer store that counts the batches read through
// it, so that a test can wait for the processor to have polled.
type countingBatches struct {
	core.ConsumerStore[pgx.Tx]
	mu   sync.Mutex
	n    int
	read chan struct{} // closed and replaced at every batch read
}

func (c *countingBatches) ReadConsumerBatch(ctx context.Context, tx pgx.Tx, after core.Cursor, scope core.ConsumerScope, limit int) (core.ConsumerBatch, error) {
	b, err := c.ConsumerStore.ReadConsumerBatch(ctx, tx, after, scope, limit)
	c.counted()
	return b, err
}

// BeginBatch counts the batches read with the claim; the processor reads
// the others with ReadConsumerBatch.
func (c *countingBatches) BeginBatch(ctx context.Context, consumer string, read *core.BatchRead) (pgx.Tx, core.ClaimedBatch, error) {
	tx, cb, err := c.ConsumerStore.BeginBatch(ctx, consumer, read)
	if err == nil && cb.Read {
		c.counted()
	}
	return tx, cb, err
}

func (c *countingBatches) counted() {
	c.mu.Lock()
	c.n++
	if c.read != nil {
		close(c.read)
		c.read = nil
	}
	c.mu.Unlock()
}

func (c *countingBatches) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// await returns once n batches have been read, failing t after a minute.
func (c *countingBatches) await(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(time.Minute)
	for {
		c.mu.Lock()
		if c.n >= n {
			c.mu.Unlock()
			return
		}
		if c.read == nil {
			c.read = make(chan struct{})
		}
		read := c.read
		c.mu.Unlock()
		select {
		case <-read:
		case <-deadline:
			t.Fatalf("the processor read %d batches in a minute, want %d", c.count(), n)
		}
	}
}
