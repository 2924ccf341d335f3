package consumer_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chronicle-go/chronicle/adapters/memory"
	"github.com/chronicle-go/chronicle/consumer"
	"github.com/chronicle-go/chronicle/core"
)

// partitionOwners returns, per owner, how many of consumer's partitions
// Status shows it owning, counting only present owners.
func partitionOwners(t *testing.T, store *memory.Store, name string) map[string]int {
	t.Helper()
	st, err := consumer.NewOperations[*memory.Tx](store).Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, s := range st {
		if s.Consumer == name && s.Partition.Partitioned() && s.OwnerPresent {
			out[s.Owner]++
		}
	}
	return out
}

// waitOwners waits until the partitions' owners satisfy cond, polling
// Status after every batch any projection signals, for at most 10s.
func waitOwners(t *testing.T, store *memory.Store, name, what string, cond func(map[string]int) bool) map[string]int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		owners := partitionOwners(t, store, name)
		if cond(owners) {
			return owners
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: timed out; owners %v", what, owners)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition, not timing one
	}
}

func balanced(members, partitions int) func(map[string]int) bool {
	return func(owners map[string]int) bool {
		if len(owners) != members {
			return false
		}
		total, lo, hi := 0, partitions, 0
		for _, n := range owners {
			total += n
			lo, hi = min(lo, n), max(hi, n)
		}
		return total == partitions && hi-lo <= 1
	}
}

func TestPartitionsAreSharedAndTakenOver(t *testing.T) {
	store := memory.NewStore()
	proj := newProjection("totals")
	group := consumer.Partitioned[*memory.Tx](proj, 8)
	cfg := func(owner string) consumer.Config { return consumer.Config{BatchSize: 5, Owner: owner} }
	stopA := run(t, newProcessor(t, store, cfg("a"), group))
	for i := range 40 {
		appendEvents(t, store, "Order", fmt.Sprint("o-", i%13), 3)
	}
	proj.waitFor(t, "one process alone", count(120))
	waitOwners(t, store, "totals", "one process owns all", balanced(1, 8))

	stopB := run(t, newProcessor(t, store, cfg("b"), group))
	stopC := run(t, newProcessor(t, store, cfg("c"), group))
	waitOwners(t, store, "totals", "three processes share 3/3/2", balanced(3, 8))
	for i := range 40 {
		appendEvents(t, store, "Order", fmt.Sprint("o-", i%13), 2)
	}
	proj.waitFor(t, "three processes", count(200))

	// A process that stops hands its partitions over within a poll
	// interval (20ms here) of its presence ending.
	if err := stopB(); err != nil {
		t.Fatal(err)
	}
	stoppedAt := time.Now()
	owners := waitOwners(t, store, "totals", "two processes after one stopped", balanced(2, 8))
	if took := time.Since(stoppedAt); took > 2*time.Second {
		t.Errorf("takeover took %s", took)
	}
	if owners["b"] != 0 {
		t.Errorf("the stopped process still owns %d partitions", owners["b"])
	}
	for i := range 20 {
		appendEvents(t, store, "Order", fmt.Sprint("o-", i%13), 1)
	}
	proj.waitFor(t, "after the takeover", count(220))
	if err := errors.Join(stopA(), stopC()); err != nil {
		t.Fatal(err)
	}
	assertExactlyOnceInOrder(t, proj.snapshot(), 220)
	for _, e := range proj.snapshot() {
		if p := core.PartitionOf(e.AggregateType, e.AggregateID, 8); p < 0 || p >= 8 {
			t.Fatalf("partition %d", p)
		}
	}
}

func TestPartitionsSurviveALostSession(t *testing.T) {
	store := memory.NewStore()
	proj := newProjection("totals")
	group := consumer.Partitioned[*memory.Tx](proj, 4)
	run(t, newProcessor(t, store, consumer.Config{Owner: "a", BatchSize: 3}, group))
	run(t, newProcessor(t, store, consumer.Config{Owner: "b", BatchSize: 3}, group))
	waitOwners(t, store, "totals", "two share", balanced(2, 4))
	for i := range 10 {
		appendEvents(t, store, "Order", fmt.Sprint("o-", i), 2)
	}
	// As when b's connection drops: its presence ends, a may take its
	// partitions over while b's batches still run, and b holds its
	// presence again and takes its share back. No event is lost,
	// repeated or reordered meanwhile.
	store.EndPresence("b")
	for i := range 10 {
		appendEvents(t, store, "Order", fmt.Sprint("o-", i), 2)
	}
	proj.waitFor(t, "every event", count(40))
	waitOwners(t, store, "totals", "two share again", balanced(2, 4))
	assertExactlyOnceInOrder(t, proj.snapshot(), 40)
}

func TestAProcessNeverHoldsMoreThanItsShare(t *testing.T) {
	store := memory.NewStore()
	proj := newProjection("totals")
	group := consumer.Partitioned[*memory.Tx](proj, 5)
	var stops []func() error
	for _, owner := range []string{"a", "b", "c", "d"} {
		stops = append(stops, run(t, newProcessor(t, store, consumer.Config{Owner: owner}, group)))
		members := len(stops)
		waitOwners(t, store, "totals", fmt.Sprintf("%d processes", members), balanced(members, 5))
	}
	// Five partitions, four processes: 2/1/1/1, whoever joined first.
	owners := partitionOwners(t, store, "totals")
	counts := slices.Sorted(maps.Values(owners))
	if !slices.Equal(counts, []int{1, 1, 1, 2}) {
		t.Errorf("4 processes over 5 partitions: %v", owners)
	}
	for _, stop := range stops {
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestChangingPartitionsIsRefused(t *testing.T) {
	store := memory.NewStore()
	ctx := context.Background()
	proj := newProjection("totals")
	appendEvents(t, store, "Order", "o-1", 3)
	p4 := newProcessor(t, store, consumer.Config{}, consumer.Partitioned[*memory.Tx](proj, 4))
	stop := run(t, p4)
	proj.waitFor(t, "4 partitions", count(3))
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what     string
		consumer consumer.Consumer[*memory.Tx]
		declared int
	}{
		{"8 partitions", consumer.Partitioned[*memory.Tx](proj, 8), 8},
		{"no partitions", proj, 0},
	} {
		err := newProcessor(t, store, consumer.Config{}, c.consumer).Run(ctx)
		var changed *consumer.PartitionsChangedError
		if !errors.Is(err, consumer.ErrPartitionsChanged) || !errors.As(err, &changed) || changed.Stored != 4 || changed.Declared != c.declared {
			t.Fatalf("%s over 4 stored: %v, want ErrPartitionsChanged stored 4 declared %d", c.what, err, c.declared)
		}
		if !strings.Contains(err.Error(), "new name") {
			t.Errorf("the error does not say the way out: %v", err)
		}
	}
	// The documented path: a new name catches up from the start.
	v2 := newProjection("totals.v2")
	p8 := newProcessor(t, store, consumer.Config{}, consumer.Partitioned[*memory.Tx](v2, 8))
	run(t, p8)
	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p8.WaitCaughtUp(waitCtx, "totals.v2"); err != nil {
		t.Fatal(err)
	}
	if got := len(v2.snapshot()); got != 3 {
		t.Errorf("the new version caught up with %d events, want 3", got)
	}
	if deleted, err := consumer.NewOperations[*memory.Tx](store).Delete(ctx, "totals"); err != nil || !deleted {
		t.Fatalf("deleting the old version's partitions: %v, %v", deleted, err)
	}
	st, _ := consumer.NewOperations[*memory.Tx](store).Status(ctx)
	for _, s := range st {
		if s.Consumer == "totals" {
			t.Errorf("checkpoint %s of the deleted version is left", s.ConsumerName)
		}
	}
	// An unpartitioned consumer may not have a partition's name.
	if _, err := consumer.NewProcessor[*memory.Tx](store, []consumer.Consumer[*memory.Tx]{newProjection("x[1/2]")}, consumer.Config{}); !errors.Is(err, consumer.ErrInvalidConfig) {
		t.Errorf("a consumer named like a partition: %v", err)
	}
	if _, err := consumer.NewProcessor[*memory.Tx](store, []consumer.Consumer[*memory.Tx]{consumer.Partitioned[*memory.Tx](nil, 4)}, consumer.Config{}); !errors.Is(err, consumer.ErrInvalidConfig) {
		t.Errorf("a nil consumer partitioned: %v, want ErrInvalidConfig", err)
	}
	var nilProcessor *consumer.Processor[*memory.Tx]
	if err := nilProcessor.WaitCaughtUp(ctx, "totals"); !errors.Is(err, core.ErrInvalidArgument) {
		t.Errorf("WaitCaughtUp on a nil processor: %v, want ErrInvalidArgument", err)
	}
	for _, n := range []int{0, -1, core.MaxPartitions + 1} {
		if _, err := consumer.NewProcessor[*memory.Tx](store, []consumer.Consumer[*memory.Tx]{consumer.Partitioned[*memory.Tx](proj, n)}, consumer.Config{}); !errors.Is(err, consumer.ErrInvalidConfig) {
			t.Errorf("%d partitions: %v, want ErrInvalidConfig", n, err)
		}
	}
}

// gate blocks Handle until released, to hold a rebuild back.
type gate struct {
	*projection
	mu      sync.Mutex
	release chan struct{}
}

func (g *gate) Handle(ctx context.Context, tx *memory.Tx, e core.PersistedEvent) error {
	g.mu.Lock()
	ch := g.release
	g.mu.Unlock()
	select {
	case <-ch:
	case <-ctx.Done():
		return ctx.Err()
	}
	return g.projection.Handle(ctx, tx, e)
}

func TestWaitCaughtUpWaitsForEveryPartition(t *testing.T) {
	store := memory.NewStore()
	ctx := context.Background()
	for i := range 12 {
		appendEvents(t, store, "Order", fmt.Sprint("o-", i), 2)
	}
	g := &gate{projection: newProjection("rebuild"), release: make(chan struct{})}
	p := newProcessor(t, store, consumer.Config{BatchSize: 4}, consumer.Partitioned[*memory.Tx](g, 3))
	if err := p.WaitCaughtUp(ctx, "nope"); !errors.Is(err, core.ErrInvalidArgument) {
		t.Errorf("an unknown consumer: %v", err)
	}
	run(t, p)
	done := make(chan error, 1)
	go func() { done <- p.WaitCaughtUp(ctx, "rebuild") }()
	select {
	case err := <-done:
		t.Fatalf("WaitCaughtUp returned %v before any event was handled", err)
	case <-time.After(50 * time.Millisecond): // it must still be waiting
	}
	close(g.release)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("WaitCaughtUp did not return")
	}
	if n := len(g.snapshot()); n != 24 {
		t.Errorf("WaitCaughtUp returned with %d of 24 events handled", n)
	}
	st, err := p.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var delivered int64
	for _, s := range st {
		delivered += s.Delivered
		if s.Behind != 0 || s.ETA != 0 {
			t.Errorf("%s after catching up: behind %d, ETA %s", s.ConsumerName, s.Behind, s.ETA)
		}
		if s.Consumer != "rebuild" || !s.Partition.Partitioned() {
			t.Errorf("status of %s names consumer %q partition %s", s.ConsumerName, s.Consumer, s.Partition)
		}
	}
	if delivered != 24 || len(st) != 3 {
		t.Errorf("%d checkpoints delivered %d events, want 3 and 24", len(st), delivered)
	}
	// A reset of the consumer's name restarts every partition's progress.
	if err := consumer.NewOperations[*memory.Tx](store).Reset(ctx, "rebuild"); err != nil {
		t.Fatal(err)
	}
}

func TestStatusShowsRateAndETAWhileBehind(t *testing.T) {
	store := memory.NewStore()
	ctx := context.Background()
	for i := range 30 {
		appendEvents(t, store, "Order", fmt.Sprint("o-", i), 1)
	}
	g := &gate{projection: newProjection("slow"), release: make(chan struct{})}
	p := newProcessor(t, store, consumer.Config{BatchSize: 10}, g)
	run(t, p)
	// Let one batch of 10 through, then hold the next.
	go func() {
		for range 10 {
			g.release <- struct{}{}
		}
	}()
	g.waitFor(t, "the first batch", count(10))
	var st []consumer.Status
	deadline := time.Now().Add(10 * time.Second)
	for {
		var err error
		if st, err = p.Status(ctx); err != nil {
			t.Fatal(err)
		}
		if st[0].Delivered == 10 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if st[0].Delivered != 10 || st[0].Behind != 20 {
		t.Fatalf("status after one batch: delivered %d behind %d", st[0].Delivered, st[0].Behind)
	}
	if st[0].DeliveredSince.IsZero() || st[0].Rate <= 0 || st[0].ETA <= 0 {
		t.Errorf("rate %f, ETA %s since %s: want both positive while behind", st[0].Rate, st[0].ETA, st[0].DeliveredSince)
	}
	if want := time.Duration(float64(20) / st[0].Rate * float64(time.Second)); st[0].ETA != want {
		t.Errorf("ETA %s, want behind/rate %s", st[0].ETA, want)
	}
	close(g.release)
}
