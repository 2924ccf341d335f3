package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chronicle-go/chronicle/consumer"
	"github.com/chronicle-go/chronicle/core"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// recorder is a consumer that only records what it was handed. Handle
// runs inside the batch's transaction, which may roll back; only batches
// reported by OnBatch (committed) count as delivered.
type recorder[TX any] struct {
	name    string
	mu      sync.Mutex
	pending []core.PersistedEvent
	// onEvent, when set, sees each delivered (committed) event.
	onEvent func(e core.PersistedEvent, handled time.Time)
	// afterBatch, when set, sees each committed batch's report, after
	// onEvent saw its events.
	afterBatch func(report consumer.BatchReport)
	handled    []time.Time
	total      atomic.Int64
	// keep retains delivered events; off for the catch-up, where only the
	// count matters.
	keep bool
	// slow, when set, is how long Handle takes per event (a sleep standing
	// for slow work; it returns early when the processor stops).
	slow time.Duration
	// calls counts Handle calls, committed or not.
	calls atomic.Int64
}

func (r *recorder[TX]) Name() string { return r.name }

func (r *recorder[TX]) Handle(ctx context.Context, _ TX, e core.PersistedEvent) error {
	r.calls.Add(1)
	if r.slow > 0 && !sleep(ctx, r.slow) {
		return ctx.Err()
	}
	if !r.keep {
		return nil
	}
	r.mu.Lock()
	r.pending = append(r.pending, e)
	r.handled = append(r.handled, time.Now())
	r.mu.Unlock()
	return nil
}

func (r *recorder[TX]) recorded() *recorder[TX] { return r }

// committed is the processor's OnBatch: the batch's events were the last
// report.Events handed over (earlier ones belong to rolled-back tries).
func (r *recorder[TX]) committed(report consumer.BatchReport) {
	r.total.Add(int64(report.Events))
	if r.keep {
		r.mu.Lock()
		first := len(r.pending) - report.Events
		for i := first; i < len(r.pending); i++ {
			if r.onEvent != nil {
				r.onEvent(r.pending[i], r.handled[i])
			}
		}
		r.pending, r.handled = r.pending[:0], r.handled[:0]
		r.mu.Unlock()
	}
	if r.afterBatch != nil {
		r.afterBatch(report)
	}
}

// scopedRecorder is a recorder that consumes only some aggregate types.
type scopedRecorder[TX any] struct {
	*recorder[TX]
	types []string
}

func (s *scopedRecorder[TX]) AggregateTypes() []string { return s.types }

// recording is a recorder or a scopedRecorder.
type recording[TX any] interface {
	consumer.Consumer[TX]
	recorded() *recorder[TX]
}

// runProcessor starts a processor for c over cs and returns a function
// that stops it and returns Run's error.
func runProcessor[TX any](ctx context.Context, cs core.ConsumerStore[TX], c *recorder[TX], batch int) (stop func() error, err error) {
	return startProcessor(ctx, cs, consumer.Config{BatchSize: batch}, c)
}

// startProcessor starts one processor for every consumer over cs, each
// recorder seeing its own committed batches (those of all its partitions,
// for a partitioned one), and returns a function that stops it and
// returns Run's error. Consumers never stop on failures.
func startProcessor[TX any](ctx context.Context, cs core.ConsumerStore[TX], cfg consumer.Config, cs2 ...recording[TX]) (stop func() error, err error) {
	byName := make(map[string]*recorder[TX], len(cs2))
	consumers := make([]consumer.Consumer[TX], len(cs2))
	for i, c := range cs2 {
		byName[c.Name()], consumers[i] = c.recorded(), c
	}
	cfg.OnBatch = func(report consumer.BatchReport) {
		// A partition reports its checkpoint's name, "name[3/8]".
		name, _, _ := core.ParsePartitionCheckpointName(report.Consumer)
		byName[name].committed(report)
	}
	cfg.MaxAttempts = -1
	p, err := consumer.NewProcessor(cs, consumers, cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	return func() error { cancel(); return <-done }, nil
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// waitFor polls cond every few milliseconds until it holds or d passes.
func waitFor(ctx context.Context, d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
	return true
}

// consumersIn returns a's consumer store over the store tables of schema,
// without notifications.
func consumersIn[TX any](a *adapter[TX], schema string) (core.ConsumerStore[TX], error) {
	store, err := a.newStore(namesIn(schema), "")
	if err != nil {
		return nil, err
	}
	return a.newConsumers(store)
}

// catchUp is W7: a processor with a no-op handler over the seeded log,
// from the start, timed until it has handled every event. Where the
// driver counts round trips it also reports the round trips per batch,
// counted from the first committed batch that delivered events to the
// last.
func catchUp[TX any](ctx context.Context, a *adapter[TX], total, batch int) (sample, error) {
	cs, err := consumersIn(a, logSchema)
	if err != nil {
		return sample{}, err
	}
	c := &recorder[TX]{name: "w7-" + uuid.NewString()}
	var (
		batches             atomic.Int64
		firstSent, lastSent atomic.Int64
	)
	if a.statements != nil {
		c.afterBatch = func(r consumer.BatchReport) {
			if r.Events == 0 {
				// Only the cursor moved (the step's end): that batch
				// saves nothing and is no catch-up batch.
				return
			}
			n := a.statements()
			if batches.Add(1) == 1 {
				firstSent.Store(n)
			}
			lastSent.Store(n)
		}
	}
	start := time.Now()
	stop, err := runProcessor(ctx, cs, c, batch)
	if err != nil {
		return sample{}, err
	}
	ok := waitFor(ctx, 10*time.Minute, func() bool { return c.total.Load() >= int64(total) })
	s := sample{events: int(c.total.Load()), elapsed: time.Since(start)}
	if err := stop(); err != nil {
		return s, err
	}
	if !ok {
		return s, fmt.Errorf("the processor handled %d of %d events", c.total.Load(), total)
	}
	if n := batches.Load(); n > 1 {
		s.metrics = map[string]float64{"round_trips_per_batch": float64(lastSent.Load()-firstSent.Load()) / float64(n-1)}
	}
	return s, deleteCheckpoint(ctx, cs, c.name)
}

// deleteCheckpoint removes a finished run's consumer, so that the
// checkpoints of one run do not weigh on the next (or on W10's status).
func deleteCheckpoint[TX any](ctx context.Context, cs core.ConsumerStore[TX], name string) error {
	_, err := consumer.NewOperations(cs).Delete(ctx, name)
	return err
}

// freshSchema makes an empty store schema for one run of W6 or W8, with a
// notify channel, and a function dropping it.
func freshSchema[TX any](ctx context.Context, env *environment, a *adapter[TX], prefix string) (core.Store[TX], core.ConsumerStore[TX], func(), error) {
	schema := fmt.Sprintf("%s_%d", prefix, env.nextSchema.Add(1))
	if err := migrate(ctx, env.raw, schema); err != nil {
		return nil, nil, nil, err
	}
	drop := func() { _ = dropSchema(context.WithoutCancel(ctx), env.raw, schema) }
	store, err := a.newStore(namesIn(schema), schema)
	if err != nil {
		drop()
		return nil, nil, nil, err
	}
	cs, err := a.newConsumers(store)
	if err != nil {
		drop()
		return nil, nil, nil, err
	}
	return store, cs, drop, nil
}

// correctness is W6: writers append to a few hot aggregates with sleeps
// inside their transactions and ~10% rollbacks while a consumer runs.
// Every committed event must be delivered once, in its aggregate's order.
func correctness[TX any](ctx context.Context, env *environment, a *adapter[TX], d time.Duration, writers int) (sample, error) {
	store, cs, drop, err := freshSchema(ctx, env, a, "bench_w6")
	if err != nil {
		return sample{}, err
	}
	defer drop()
	const hot = 20
	aggregates := make([]string, hot)
	for i := range aggregates {
		aggregates[i] = uuid.NewString()
	}
	var (
		mu         sync.Mutex
		committed  = map[uuid.UUID]bool{}
		delivered  = map[uuid.UUID]int{}
		lastSeen   = map[string]int64{}
		outOfOrder int64
		errs       atomic.Int64
	)
	c := &recorder[TX]{name: "w6", keep: true, onEvent: func(e core.PersistedEvent, _ time.Time) {
		mu.Lock()
		defer mu.Unlock()
		delivered[e.EventID]++
		if e.AggregateVersion != lastSeen[e.AggregateID]+1 {
			outOfOrder++
		}
		lastSeen[e.AggregateID] = max(lastSeen[e.AggregateID], e.AggregateVersion)
	}}
	stop, err := runProcessor(ctx, cs, c, 100)
	if err != nil {
		return sample{}, err
	}
	write := func(ctx context.Context) (int, error) {
		events := moreOrderEvents(aggregates[rand.IntN(hot)], 1+rand.IntN(3))
		rollback := rand.IntN(10) == 0
		err := a.inTx(ctx, func(tx TX) error {
			if _, err := store.Append(ctx, tx, core.Any(), events); err != nil {
				return err
			}
			time.Sleep(time.Duration(rand.IntN(21)) * time.Millisecond)
			if rollback {
				return errRollback
			}
			return nil
		})
		switch {
		case errors.Is(err, errRollback):
			return 0, nil
		case err != nil:
			errs.Add(1)
			return 0, nil
		}
		mu.Lock()
		for _, e := range events {
			committed[e.EventID] = true
		}
		mu.Unlock()
		return len(events), nil
	}
	s, err := timed(ctx, d, writers, write)
	if err != nil {
		_ = stop()
		return s, err
	}
	mu.Lock()
	want := len(committed)
	mu.Unlock()
	waitFor(ctx, 30*time.Second, func() bool { return c.total.Load() >= int64(want) })
	if err := stop(); err != nil {
		return s, err
	}
	s.latencies = nil // the sleeps make append latency meaningless here
	var skipped, duplicated, unknown int64
	for id := range committed {
		if delivered[id] == 0 {
			skipped++
		}
	}
	for id, n := range delivered {
		if n > 1 {
			duplicated += int64(n - 1)
		}
		if !committed[id] {
			unknown++
		}
	}
	s.checks = map[string]int64{"skipped": skipped, "duplicated": duplicated, "out_of_order": outOfOrder,
		"rolled_back_delivered": unknown, "errors": errs.Load()}
	return s, nil
}

var errRollback = errors.New("rolled back on purpose")

// live is W8: one writer appends rate single-event transactions per
// second while a processor woken by LISTEN/NOTIFY handles them; latency
// is from the writer's COMMIT returning to Handle (0 when Handle came
// first, the notification racing the commit's reply).
//
// hostile makes it W8h: for the whole run a session in another database
// holds a transaction id idle in transaction (the oldest running id of the
// cluster, which held every revision-1 consumer back), and a second
// consumer in the same processor spends slow in Handle per event. The
// latency is still the first consumer's.
func live[TX any](ctx context.Context, env *environment, a *adapter[TX], d time.Duration, rate int, hostile bool, slow time.Duration) (sample, error) {
	store, cs, drop, err := freshSchema(ctx, env, a, "bench_w8")
	if err != nil {
		return sample{}, err
	}
	defer drop()
	var (
		mu        sync.Mutex
		committed = map[uuid.UUID]time.Time{}
		handled   = map[uuid.UUID]time.Time{}
	)
	c := &recorder[TX]{name: "w8", keep: true, onEvent: func(e core.PersistedEvent, at time.Time) {
		mu.Lock()
		handled[e.EventID] = at
		mu.Unlock()
	}}
	consumers := []recording[TX]{c}
	checks := map[string]int64{}
	var (
		holder    *pgx.Conn
		holderXID int64
		laggard   *recorder[TX]
	)
	if hostile {
		if holder, holderXID, err = holdTransactionID(ctx, env.otherURL); err != nil {
			return sample{}, err
		}
		defer func() { _ = holder.Close(context.WithoutCancel(ctx)) }() // ends its transaction
		laggard = &recorder[TX]{name: "w8h-slow", slow: slow}
		consumers = append(consumers, laggard)
	}
	stop, err := startProcessor(ctx, cs, consumer.Config{BatchSize: 100}, consumers...)
	if err != nil {
		return sample{}, err
	}
	appendOne := func() (uuid.UUID, error) {
		events := orderEvents(1)
		err := a.inTx(ctx, func(tx TX) error {
			_, err := store.Append(ctx, tx, core.NoStream(), events)
			return err
		})
		return events[0].EventID, err
	}
	// Warm up: the first event proves the listener is up.
	if _, err := appendOne(); err != nil {
		_ = stop()
		return sample{}, err
	}
	if !waitFor(ctx, 10*time.Second, func() bool { return c.total.Load() >= 1 }) {
		_ = stop()
		return sample{}, errors.New("the processor handled no event within 10s")
	}
	start := time.Now()
	tick := time.NewTicker(time.Second / time.Duration(rate))
	n := 0
	for time.Since(start) < d {
		<-tick.C
		id, err := appendOne()
		if err != nil {
			tick.Stop()
			_ = stop()
			return sample{}, err
		}
		mu.Lock()
		committed[id] = time.Now()
		mu.Unlock()
		n++
	}
	tick.Stop()
	elapsed := time.Since(start)
	waitFor(ctx, 10*time.Second, func() bool { return c.total.Load() >= int64(n+1) })
	if hostile {
		// The holder must have been the cluster's oldest running id all
		// along, and the slow consumer inside its batch: otherwise the run
		// measured nothing hostile.
		var held bool
		if err := env.raw.QueryRow(ctx, "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint <= $1", holderXID).Scan(&held); err != nil {
			_ = stop()
			return sample{}, err
		}
		checks["holder_gone"], checks["slow_consumer_idle"] = 0, 0
		if !held {
			checks["holder_gone"] = 1
		}
		if laggard.calls.Load() == 0 {
			checks["slow_consumer_idle"] = 1
		}
	}
	if err := stop(); err != nil {
		return sample{}, err
	}
	s := sample{events: n, elapsed: elapsed, checks: checks}
	for id, t0 := range committed {
		t1, ok := handled[id]
		if !ok {
			s.checks["not_handled"]++
			continue
		}
		s.latencies = append(s.latencies, max(t1.Sub(t0), 0))
	}
	if _, ok := s.checks["not_handled"]; !ok {
		s.checks["not_handled"] = 0
	}
	return s, nil
}

// holdTransactionID opens a session on url (another database), takes a
// transaction id and leaves the transaction idle; closing the connection
// ends it.
func holdTransactionID(ctx context.Context, url string) (*pgx.Conn, int64, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, 0, fmt.Errorf("error connecting to the other database: %w", err)
	}
	var xid int64
	if _, err = conn.Exec(ctx, "BEGIN"); err == nil {
		err = conn.QueryRow(ctx, "SELECT pg_current_xact_id()::text::bigint").Scan(&xid)
	}
	if err != nil {
		_ = conn.Close(ctx)
		return nil, 0, fmt.Errorf("error taking a transaction id in the other database: %w", err)
	}
	return conn, xid, nil
}
