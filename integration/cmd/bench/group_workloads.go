package main

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/chronicle-go/chronicle/consumer"
	"github.com/chronicle-go/chronicle/core"
	"github.com/google/uuid"
)

// The consumer groups of W9 and W7p (BENCHMARKS.md): a consumer of
// groupPartitions partitions; the processes balance them every groupPoll,
// short enough that they settle within a few hundred milliseconds. W9
// handles batches of groupBatch, so that a partition moves between
// processes without waiting long for a batch's lease.
const (
	groupPartitions = 8
	groupBatch      = 20
	groupPoll       = 100 * time.Millisecond
)

// partitionedRecorder is a recorder run as consumer.Partitioned.
type partitionedRecorder[TX any] struct {
	consumer.PartitionedConsumer[TX]
	r *recorder[TX]
}

func (p partitionedRecorder[TX]) recorded() *recorder[TX] { return p.r }

// processGroup is one partitioned consumer run by several processors, each
// standing for a process of its own: its own pool, consumer store, owner
// and recorder (a recorder's pending batch is one processor's).
type processGroup[TX any] struct {
	owners    []string
	recorders []*recorder[TX]
	stops     []func() error
}

// startGroup starts processes processors of the consumer name, partitioned
// into groupPartitions, over schema's tables, each with a recorder from
// newRecorder (named name) and cfg with an owner of its own.
func startGroup[TX any](ctx context.Context, a *adapter[TX], schema, name string, processes int, cfg consumer.Config, newRecorder func() *recorder[TX]) (*processGroup[TX], error) {
	g := &processGroup[TX]{}
	for i := range processes {
		cs, closePool, err := a.newProcess(ctx, namesIn(schema))
		if err != nil {
			_ = g.stop()
			return nil, err
		}
		r := newRecorder()
		r.name = name
		cfg.Owner = fmt.Sprintf("%s/%d", name, i+1)
		stop, err := startProcessor(ctx, cs, cfg, partitionedRecorder[TX]{consumer.Partitioned[TX](r, groupPartitions), r})
		if err != nil {
			closePool()
			_ = g.stop()
			return nil, err
		}
		g.owners, g.recorders = append(g.owners, cfg.Owner), append(g.recorders, r)
		g.stops = append(g.stops, func() error { err := stop(); closePool(); return err })
	}
	return g, nil
}

// handled is how many events the processes' committed batches handled.
func (g *processGroup[TX]) handled() int64 {
	var n int64
	for _, r := range g.recorders {
		n += r.total.Load()
	}
	return n
}

// stop stops every process, closes its pool and returns the first error.
func (g *processGroup[TX]) stop() error {
	var first error
	for _, stop := range g.stops {
		if err := stop(); err != nil && first == nil {
			first = err
		}
	}
	g.stops = nil
	return first
}

// balanced reports whether, in st, every partition of the consumer name
// has a present owner among owners and each owner holds its share
// (groupPartitions / len(owners), rounded down or up).
func balanced(st []consumer.Status, name string, owners []string) bool {
	held, n := map[string]int{}, 0
	for _, s := range st {
		if s.Consumer != name || !s.Partition.Partitioned() {
			continue
		}
		if !s.OwnerPresent || !slices.Contains(owners, s.Owner) {
			return false
		}
		held[s.Owner]++
		n++
	}
	floor, ceil := groupPartitions/len(owners), (groupPartitions+len(owners)-1)/len(owners)
	for _, o := range owners {
		if held[o] < floor || held[o] > ceil {
			return false
		}
	}
	return n == groupPartitions
}

// waitBalanced polls ops.Status every 20ms until the partitions of the
// consumer name are balanced between owners, or d passes (an error).
func waitBalanced[TX any](ctx context.Context, ops *consumer.Operations[TX], name string, owners []string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		st, err := ops.Status(ctx)
		if err != nil {
			return err
		}
		if balanced(st, name, owners) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the partitions of %s were not balanced between %d processes within %s", name, len(owners), d)
		}
		if !sleep(ctx, 20*time.Millisecond) {
			return ctx.Err()
		}
	}
}

// deliveries collects the committed deliveries of a consumer's processes,
// so that exactly-once and per-aggregate order are checked after the run.
type deliveries struct {
	mu          sync.Mutex
	byAggregate map[string][]delivery
	// first is when the first committed event was handled.
	first time.Time
}

// delivery is one committed event: its version, its id and when Handle
// finished with it.
type delivery struct {
	version int64
	id      uuid.UUID
	at      time.Time
}

// add is a recorder's onEvent.
func (d *deliveries) add(e core.PersistedEvent, at time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.first.IsZero() || at.Before(d.first) {
		d.first = at
	}
	d.byAggregate[e.AggregateID] = append(d.byAggregate[e.AggregateID], delivery{e.AggregateVersion, e.EventID, at})
}

// check counts, for a backlog of total events: events delivered more than
// once (duplicated), events never delivered (skipped) and deliveries that
// are not the next version of their aggregate (out_of_order). An
// aggregate's deliveries are taken in the order they were handled: a
// process that took a partition over handles its events only after the
// previous owner's batch committed, so handling times order them across
// processes too (commit reports may race).
func (d *deliveries) check(total int) map[string]int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	seen := map[uuid.UUID]bool{}
	var duplicated, outOfOrder int64
	for _, ds := range d.byAggregate {
		slices.SortStableFunc(ds, func(a, b delivery) int { return a.at.Compare(b.at) })
		var last int64
		for _, x := range ds {
			if seen[x.id] {
				duplicated++
			}
			seen[x.id] = true
			if x.version != last+1 {
				outOfOrder++
			}
			last = max(last, x.version)
		}
	}
	return map[string]int64{"duplicated": duplicated, "skipped": int64(max(total-len(seen), 0)), "out_of_order": outOfOrder}
}

// groupThroughput is W9: processes processors, each a process of its own,
// run one consumer of groupPartitions partitions over the backlog of total
// events in groupSchema, Handle spending handle per event. events/s is
// timed from the first handled event to the last; balanced_s is the time
// from the processes' start until the partitions were balanced between
// them (measured apart, and waited for even when the backlog is done
// first), from_start_events_per_s the rate from the start. Every event
// must be delivered once, in its aggregate's order: a violation fails the
// run.
func groupThroughput[TX any](ctx context.Context, a *adapter[TX], processes, total int, handle time.Duration) (sample, error) {
	cs, err := consumersIn(a, groupSchema)
	if err != nil {
		return sample{}, err
	}
	name := "w9-" + uuid.NewString()
	got := &deliveries{byAggregate: map[string][]delivery{}}
	start := time.Now()
	g, err := startGroup(ctx, a, groupSchema, name, processes, consumer.Config{BatchSize: groupBatch, PollInterval: groupPoll},
		func() *recorder[TX] { return &recorder[TX]{keep: true, slow: handle, onEvent: got.add} })
	if err != nil {
		return sample{}, err
	}
	watch, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	var took time.Duration
	balancedIn := make(chan error, 1)
	go func() {
		err := waitBalanced(watch, consumer.NewOperations(cs), name, g.owners, 30*time.Second)
		took = time.Since(start)
		balancedIn <- err
	}()
	ok := waitFor(ctx, 10*time.Minute, func() bool { return g.handled() >= int64(total) })
	end := time.Now()
	if !ok {
		stopWatch()
	}
	berr := <-balancedIn
	if err := g.stop(); err != nil {
		return sample{}, err
	}
	if !ok {
		return sample{}, fmt.Errorf("the processes handled %d of %d events", g.handled(), total)
	}
	if berr != nil {
		return sample{}, berr
	}
	got.mu.Lock()
	first := got.first
	got.mu.Unlock()
	s := sample{events: int(g.handled()), elapsed: end.Sub(first), checks: got.check(total), metrics: map[string]float64{
		"balanced_s": took.Seconds(), "from_start_events_per_s": float64(total) / end.Sub(start).Seconds()}}
	for _, v := range s.checks {
		if v != 0 {
			return s, fmt.Errorf("%d processes delivered the backlog wrongly: %s", processes, checksText(s.checks))
		}
	}
	return s, deleteCheckpoint(ctx, cs, name)
}

// partitionedCatchUp is W7p: W7's catch-up (a no-op handler over the
// seeded log of total events, batches of batch) by a consumer of
// groupPartitions partitions run by processes processors, each a process
// of its own, timed like W7 from their start until they have handled every
// event, balancing included.
func partitionedCatchUp[TX any](ctx context.Context, a *adapter[TX], processes, total, batch int) (sample, error) {
	cs, err := consumersIn(a, logSchema)
	if err != nil {
		return sample{}, err
	}
	name := "w7p-" + uuid.NewString()
	start := time.Now()
	g, err := startGroup(ctx, a, logSchema, name, processes, consumer.Config{BatchSize: batch, PollInterval: groupPoll},
		func() *recorder[TX] { return &recorder[TX]{} })
	if err != nil {
		return sample{}, err
	}
	ok := waitFor(ctx, 10*time.Minute, func() bool { return g.handled() >= int64(total) })
	s := sample{events: int(g.handled()), elapsed: time.Since(start)}
	if err := g.stop(); err != nil {
		return s, err
	}
	if !ok {
		return s, fmt.Errorf("the processes handled %d of %d events", g.handled(), total)
	}
	return s, deleteCheckpoint(ctx, cs, name)
}
