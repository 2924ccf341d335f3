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
	handled []time.Time
	total   atomic.Int64
	// keep retains delivered events; off for the catch-up, where only the
	// count matters.
	keep bool
}

func (r *recorder[TX]) Name() string { return r.name }

func (r *recorder[TX]) Handle(_ context.Context, _ TX, e core.PersistedEvent) error {
	if !r.keep {
		return nil
	}
	r.mu.Lock()
	r.pending = append(r.pending, e)
	r.handled = append(r.handled, time.Now())
	r.mu.Unlock()
	return nil
}

// committed is the processor's OnBatch: the batch's events were the last
// report.Events handed over (earlier ones belong to rolled-back tries).
func (r *recorder[TX]) committed(report consumer.BatchReport) {
	r.total.Add(int64(report.Events))
	if !r.keep {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	first := len(r.pending) - report.Events
	for i := first; i < len(r.pending); i++ {
		if r.onEvent != nil {
			r.onEvent(r.pending[i], r.handled[i])
		}
	}
	r.pending, r.handled = r.pending[:0], r.handled[:0]
}

// runProcessor starts a processor for c over cs and returns a function
// that stops it and returns Run's error.
func runProcessor[TX any](ctx context.Context, cs core.ConsumerStore[TX], c *recorder[TX], batch int) (stop func() error, err error) {
	p, err := consumer.NewProcessor(cs, []consumer.Consumer[TX]{c}, consumer.Config{
		BatchSize: batch, OnBatch: c.committed, MaxAttempts: -1,
	})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	return func() error { cancel(); return <-done }, nil
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

// catchUp is W7: a processor with a no-op handler over the seeded log,
// from the start, timed until it has handled every event.
func catchUp[TX any](ctx context.Context, a *adapter[TX], total, batch int) (sample, error) {
	store, err := a.newStore(namesIn(logSchema), "")
	if err != nil {
		return sample{}, err
	}
	cs, err := a.newConsumers(store)
	if err != nil {
		return sample{}, err
	}
	c := &recorder[TX]{name: "w7-" + uuid.NewString()}
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
	return s, nil
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
func live[TX any](ctx context.Context, env *environment, a *adapter[TX], d time.Duration, rate int) (sample, error) {
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
	stop, err := runProcessor(ctx, cs, c, 100)
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
	if err := stop(); err != nil {
		return sample{}, err
	}
	s := sample{events: n, elapsed: elapsed, checks: map[string]int64{}}
	for id, t0 := range committed {
		t1, ok := handled[id]
		if !ok {
			s.checks["not_handled"]++
			continue
		}
		s.latencies = append(s.latencies, max(t1.Sub(t0), 0))
	}
	return s, nil
}
