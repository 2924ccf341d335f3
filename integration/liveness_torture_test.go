package integration_test

import (
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chronicle-go/chronicle/consumer"
	"github.com/chronicle-go/chronicle/core"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// TestLivenessTorture: writers as in W6 (sleeps inside their
// transactions, ~10% rollbacks, some taking their id before they append)
// for a few seconds while a session in another database holds a
// transaction id for the whole run and one consumer's batch blocks until
// the end. Every other consumer (batch sizes 7, 50 and 500) delivers every
// committed event exactly once, in each aggregate's order, nothing rolled
// back, and keeps up: no committed event waits long for delivery, and all
// are delivered shortly after the writers stop. (Batches of one event
// would measure this small machine's commit rate, not liveness.)
func TestLivenessTorture(t *testing.T) {
	needDatabase(t)
	ctx := testContext(t)
	r := newLvRig(t, 16)
	holderXID, _ := holdID(t, ctx, otherDatabase(t, ctx))

	slow := newLvConsumer("slow")
	slow.gate = make(chan struct{})
	fast := []*lvConsumer{newLvConsumer("batch-7"), newLvConsumer("batch-50"), newLvConsumer("batch-500")}
	sizes := []int{7, 50, 500}
	for i, c := range fast {
		// Each consumer its own processor, for its batch size; the slow
		// one shares the first.
		consumers := []*lvConsumer{c}
		if i == 0 {
			consumers = append(consumers, slow)
		}
		r.run(t, consumer.Config{BatchSize: sizes[i], PollInterval: 10 * time.Second}, consumers...)
	}
	t.Cleanup(func() { close(slow.gate) })

	const (
		writers    = 6
		hot        = 12 // aggregates, so that writers contend
		runFor     = 6 * time.Second
		keepUpTime = 3 * time.Second // the most a committed event may wait for delivery
	)
	aggregates := make([]string, hot)
	for i := range aggregates {
		aggregates[i] = uuid.NewString()
	}
	var (
		mu          sync.Mutex
		committedAt = map[uuid.UUID]time.Time{}
		rolledBack  = map[uuid.UUID]bool{}
		appendErrs  atomic.Int64
		wg          sync.WaitGroup
	)
	errRollback := errors.New("rolled back on purpose")
	deadline := time.Now().Add(runFor)
	for w := range writers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			for time.Now().Before(deadline) && ctx.Err() == nil {
				agg := aggregates[rng.IntN(hot)]
				events := moreEvents(core.Event{AggregateType: "Order", AggregateID: agg}, 1+rng.IntN(3))
				rollback := rng.IntN(10) == 0
				early := rng.IntN(4) == 0
				err := pgx.BeginFunc(ctx, r.pool, func(tx pgx.Tx) error {
					if early {
						// The id first, the events later: the writer sits
						// in snapshots' running lists meanwhile.
						if _, err := tx.Exec(ctx, "SELECT pg_current_xact_id()"); err != nil {
							return err
						}
						time.Sleep(time.Duration(rng.IntN(21)) * time.Millisecond)
					}
					if _, err := r.store.Append(ctx, tx, core.Any(), events); err != nil {
						return err
					}
					time.Sleep(time.Duration(rng.IntN(21)) * time.Millisecond)
					if rollback {
						return errRollback
					}
					return nil
				})
				now := time.Now()
				mu.Lock()
				switch {
				case err == nil:
					for _, e := range events {
						committedAt[e.EventID] = now
					}
				case errors.Is(err, errRollback):
					for _, e := range events {
						rolledBack[e.EventID] = true
					}
				default:
					appendErrs.Add(1)
					t.Errorf("append: %v", err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	assertFrontierHeld(t, ctx, r.pool, holderXID)
	mu.Lock()
	want := len(committedAt)
	mu.Unlock()
	t.Logf("%d events committed by %d writers in %s, %d rolled back", want, writers, runFor, len(rolledBack))
	if want == 0 {
		t.Fatal("nothing committed")
	}

	// Everything is delivered soon after the writers stop: a signal per
	// delivered event, not a sleep.
	for _, c := range fast {
		timeout := time.After(keepUpTime)
		for len(c.events()) < want {
			select {
			case <-c.notify:
			case <-timeout:
				t.Fatalf("consumer %s delivered %d of %d events within %s of the writers' end", c.name, len(c.events()), want, keepUpTime)
			}
		}
	}
	for _, c := range fast {
		got := c.events()
		seen := map[uuid.UUID]int{}
		version := map[string]int64{}
		var worst time.Duration
		var lat []time.Duration
		for _, h := range got {
			e := h.event
			seen[e.EventID]++
			if rolledBack[e.EventID] {
				t.Errorf("%s delivered rolled-back event %s", c.name, e.EventID)
			}
			if e.AggregateVersion != version[e.AggregateID]+1 {
				t.Errorf("%s: aggregate %s version %d after %d", c.name, e.AggregateID, e.AggregateVersion, version[e.AggregateID])
			}
			version[e.AggregateID] = max(version[e.AggregateID], e.AggregateVersion)
			if at, ok := committedAt[e.EventID]; ok {
				d := max(h.at.Sub(at), 0)
				lat = append(lat, d)
				worst = max(worst, d)
			}
		}
		for id, n := range seen {
			if n > 1 {
				t.Errorf("%s delivered event %s %d times", c.name, id, n)
			}
		}
		for id := range committedAt {
			if seen[id] == 0 {
				t.Errorf("%s never delivered committed event %s", c.name, id)
			}
		}
		slices.Sort(lat)
		t.Logf("%s: %d events, commit → Handle p50 %s, p99 %s, worst %s", c.name, len(got), lat[len(lat)/2], lat[len(lat)*99/100], worst)
		if worst > keepUpTime {
			t.Errorf("%s: a committed event waited %s for delivery, want at most %s", c.name, worst, keepUpTime)
		}
	}
	if n := len(slow.events()); n != 0 {
		t.Errorf("the blocked consumer committed %d events", n)
	}
}
