package integration_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
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
)

// groupProcess is one process of a consumer group: a processor over a
// pool of its own whose sessions carry its owner as application_name, so
// that the test can kill every session of it at once, as a crash does.
type groupProcess struct {
	owner string
	stop  func() error
}

// startGroupProcess runs consumers in a new process named owner.
func startGroupProcess(t *testing.T, ctx context.Context, store *pgxstore.Store, owner string, cfg consumer.Config, consumers ...consumer.Consumer[pgx.Tx]) *groupProcess {
	t.Helper()
	pc, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	pc.MaxConns = 4
	pc.ConnConfig.RuntimeParams["application_name"] = owner
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	cfg.Owner = owner
	return &groupProcess{owner: owner, stop: startProcessor(t, newProcessor(t, pool, store, cfg, consumers...))}
}

// kill ends every session of the process on the server, as when the
// process crashes or its host goes away, and then stops what is left of it
// in this test process. Its batches in flight roll back with the sessions.
func (g *groupProcess) kill(t *testing.T, ctx context.Context, admin *pgxpool.Pool) {
	t.Helper()
	if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", g.owner); err != nil {
		t.Fatalf("killing %s: %v", g.owner, err)
	}
	_ = g.stop() // its Run may fail on the lost connections; the kill is the point
}

// groupOwners returns how many of the consumer's partitions each present
// owner holds, and how many partitions no present owner holds.
func groupOwners(t *testing.T, ctx context.Context, ops *consumer.Operations[pgx.Tx], name string) (owners map[string]int, unowned int) {
	t.Helper()
	st, err := ops.Status(ctx)
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	owners = map[string]int{}
	for _, s := range st {
		if s.Consumer != name || !s.Partition.Partitioned() {
			continue
		}
		if s.OwnerPresent {
			owners[s.Owner]++
		} else {
			unowned++
		}
	}
	return owners, unowned
}

// TestConsumerGroupUnderLoadWithKills runs a consumer of 8 partitions in 3
// processes while 6 writers append (sleeping inside their transactions,
// rolling back one in ten, W6-style), and kills a process and starts a new
// one every second. The projection must hold every committed event exactly
// once, each aggregate in version order; after each kill the dead
// process's partitions must be taken over within a poll interval (plus
// the batch in flight, on a busy machine); at the end the 3 processes must
// hold 3, 3 and 2 partitions.
func TestConsumerGroupUnderLoadWithKills(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	store, names := newPgxStore(t, pgxstore.WithNotifyChannel("group_"+uuid.NewString()[:8]))
	admin := newPool(t, 0, 12)
	table := createProjection(t, ctx, admin, names.Schema, "group_projection")
	ops := consumer.NewOperations[pgx.Tx](newConsumerStore(t, admin, store))

	const (
		partitions = 8
		poll       = 200 * time.Millisecond
		writeFor   = 6 * time.Second
	)
	group := consumer.Partitioned[pgx.Tx](&rowProjector{name: "group", table: table}, partitions)
	cfg := consumer.Config{BatchSize: 20, PollInterval: poll, InitialBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond}
	var procs []*groupProcess
	started := 0
	start := func() {
		started++
		procs = append(procs, startGroupProcess(t, ctx, store, fmt.Sprintf("group-process-%d", started), cfg, group))
	}
	for range 3 {
		start()
	}

	var (
		mu        sync.Mutex
		committed = map[string]bool{}
		rollbacks atomic.Int64
	)
	aggregates := make([]string, 60)
	for i := range aggregates {
		aggregates[i] = fmt.Sprintf("g-%02d-%s", i, uuid.NewString()[:8])
	}
	deadline := time.Now().Add(writeFor)
	writeErr := make(chan error, 8)
	var writers sync.WaitGroup
	for w := range 6 {
		writers.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			for time.Now().Before(deadline) {
				if err := pgx.BeginFunc(ctx, admin, func(tx pgx.Tx) error {
					agg := aggregates[rng.IntN(len(aggregates))]
					events := make([]core.Event, 1+rng.IntN(3))
					for i := range events {
						events[i] = core.Event{AggregateType: "Group", AggregateID: agg, EventID: uuid.New(), EventType: "Bumped", Payload: []byte(`{}`)}
					}
					res, err := store.Append(ctx, tx, core.Any(), events)
					if err != nil {
						return err
					}
					time.Sleep(time.Duration(rng.IntN(20)) * time.Millisecond) // a writer's work inside its transaction
					if rng.IntN(10) == 0 {
						rollbacks.Add(1)
						return errRolledBack
					}
					// Recorded before the commit: a commit that fails
					// below fails the test.
					mu.Lock()
					for _, e := range res.Events {
						committed[e.EventID.String()] = true
					}
					mu.Unlock()
					return nil
				}); err != nil && !errors.Is(err, errRolledBack) {
					writeErr <- fmt.Errorf("writer %d: %w", w, err)
					return
				}
			}
		})
	}

	// Kill a process and start another, every second while the writers
	// run, and measure how long its partitions stay without a present
	// owner.
	var takeovers []time.Duration
	for k := 0; time.Now().Add(time.Second).Before(deadline); k++ {
		time.Sleep(time.Second) // the schedule of the kills, not a wait for a condition
		victim := procs[k%len(procs)]
		killedAt := time.Now()
		victim.kill(t, ctx, admin)
		for {
			if _, unowned := groupOwners(t, ctx, ops, "group"); unowned == 0 {
				break
			}
			if time.Since(killedAt) > 30*time.Second {
				t.Fatalf("the partitions of %s were not taken over within 30s", victim.owner)
			}
			time.Sleep(10 * time.Millisecond) // polling Status for the takeover
		}
		takeovers = append(takeovers, time.Since(killedAt))
		procs = append(procs[:k%len(procs)], procs[k%len(procs)+1:]...)
		start()
	}
	writers.Wait()
	close(writeErr)
	for err := range writeErr {
		t.Fatal(err)
	}

	want := len(committed)
	waitProjected(t, ctx, admin, table, want)
	// Balanced: 3, 3 and 2 among the 3 running processes.
	var owners map[string]int
	for {
		var unowned int
		owners, unowned = groupOwners(t, ctx, ops, "group")
		counts := make([]int, 0, len(owners))
		for _, n := range owners {
			counts = append(counts, n)
		}
		sort.Ints(counts)
		if unowned == 0 && fmt.Sprint(counts) == "[2 3 3]" {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the partitions did not settle at 3/3/2: %v, %d without an owner", owners, unowned)
		}
		time.Sleep(20 * time.Millisecond) // polling Status for the balance
	}
	for _, p := range procs {
		if err := p.stop(); err != nil {
			t.Errorf("stopping %s: %v", p.owner, err)
		}
	}
	v := judge(committed, projectionRows(t, ctx, admin, table))
	worst := time.Duration(0)
	for _, d := range takeovers {
		worst = max(worst, d)
	}
	t.Logf("%d events committed, %d rollbacks; %d kills, takeover worst %s (%v); final owners %v; verdict %+v",
		want, rollbacks.Load(), len(takeovers), worst.Round(time.Millisecond), takeovers, owners, v)
	if v != (verdict{}) {
		t.Fatalf("projection differs from the committed events: %+v", v)
	}
	if len(takeovers) < 3 {
		t.Fatalf("only %d kills ran", len(takeovers))
	}
	// One poll interval for the survivors to look, a batch in flight (20
	// events) to end, and the statements of a busy 2-core machine.
	if limit := poll + 2*time.Second; worst > limit {
		t.Errorf("a takeover took %s, want within %s", worst, limit)
	}
}

// errRolledBack makes pgx.BeginFunc roll back a writer's transaction on
// purpose.
var errRolledBack = errors.New("rolled back on purpose")

// newConsumerStore returns the pgx consumer store over pool and store.
func newConsumerStore(t testing.TB, pool *pgxpool.Pool, store *pgxstore.Store) *pgxstore.ConsumerStore {
	t.Helper()
	cs, err := pgxstore.NewConsumerStore(pool, store)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}
