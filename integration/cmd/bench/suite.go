package main

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// environment is what the workloads share during a run.
type environment struct {
	opts options
	// raw is the references' pool, also used to create schemas.
	raw *pgxpool.Pool
	// otherURL is a second database of the same server, for the sessions
	// that must be in another database (W8h's holder).
	otherURL   string
	nextSchema atomic.Int64
	// million is the large log of W7s and W10, seeded on first use.
	million millionLog
	// long is the long aggregate of W11, W11s and R11, seeded on first use.
	long longLog
}

// entry is one line of the table: a workload on an adapter, or a raw
// reference (adapter "raw").
type entry struct {
	id, adapter string
	writers     int
	// ref is the key (id/writers) of the reference the ratio is taken to.
	ref string
	// peer is the key of a workload on the same adapter the rate is
	// compared with (see result.Peer).
	peer string
	run  func(ctx context.Context) (sample, error)
	// op and d, when op is set, make a timed entry: measure runs it in
	// slices of d interleaved with the group's other timed entries.
	op func(ctx context.Context) (int, error)
	d  time.Duration
	// warm, when set, runs before the first run: it fills the pools and
	// the statement caches, which the first run would otherwise pay for.
	warm func(ctx context.Context) error
}

// group is a set of entries that are measured together: each run goes
// through every entry once, so that the store and its reference see the
// same state of the server and the machine (interleaved, not one after
// the other).
type group struct {
	name    string
	entries []entry
}

func timedEntry(id, adapter string, writers int, ref string, d time.Duration, op func(ctx context.Context) (int, error)) entry {
	return entry{id: id, adapter: adapter, writers: writers, ref: ref, op: op, d: d,
		warm: func(ctx context.Context) error {
			_, err := timed(ctx, min(d/10, 500*time.Millisecond), writers, op)
			return err
		}}
}

func ref(id string, writers int) string { return fmt.Sprintf("%s/%d", id, writers) }

// measure runs every group's entries runs times and returns one result
// per entry in group order. A run of the timed entries is cut into slices
// taken in turn (L1, W1 pgx, W1 lib/pq, L1, …), so that a burst of noise
// on this small shared machine — a slow fsync, a neighbour's load — falls
// on all of them alike rather than on one. Progress goes to log.
func measure(ctx context.Context, groups []group, runs, pieces int, only string, log io.Writer) ([]*result, error) {
	var filter *regexp.Regexp
	if only != "" {
		var err error
		if filter, err = regexp.Compile(only); err != nil {
			return nil, fmt.Errorf("bad -only: %w", err)
		}
	}
	var results []*result
	for _, g := range groups {
		entries := slices.DeleteFunc(slices.Clone(g.entries), func(e entry) bool {
			return filter != nil && !filter.MatchString(e.id) && !filter.MatchString(g.name)
		})
		// References first (L…, R…), then each workload on every adapter.
		slices.SortStableFunc(entries, func(a, b entry) int { return strings.Compare(a.id, b.id) })
		if len(entries) == 0 {
			continue
		}
		samples := make([][]sample, len(entries))
		for _, e := range entries {
			if e.warm == nil {
				continue
			}
			if err := e.warm(ctx); err != nil {
				return nil, fmt.Errorf("%s on %s with %d writer(s), warming up: %w", e.id, e.adapter, e.writers, err)
			}
		}
		for run := range runs {
			sliced := make([]sample, len(entries))
			for range pieces {
				for i, e := range entries {
					if e.op == nil {
						continue
					}
					s, err := timed(ctx, e.d/time.Duration(pieces), e.writers, e.op)
					if err != nil {
						return nil, fmt.Errorf("%s on %s with %d writer(s), run %d: %w", e.id, e.adapter, e.writers, run+1, err)
					}
					sliced[i].events += s.events
					sliced[i].elapsed += s.elapsed
					sliced[i].latencies = append(sliced[i].latencies, s.latencies...)
				}
			}
			for i, e := range entries {
				s := sliced[i]
				if e.op == nil {
					var err error
					if s, err = e.run(ctx); err != nil {
						return nil, fmt.Errorf("%s on %s with %d writer(s), run %d: %w", e.id, e.adapter, e.writers, run+1, err)
					}
				}
				samples[i] = append(samples[i], s)
				fmt.Fprintf(log, "  %-4s %-7s ×%d run %d: %8.0f events/s in %s\n", e.id, e.adapter, e.writers, run+1, s.rate(),
					s.elapsed.Round(time.Millisecond))
			}
		}
		for i, e := range entries {
			r := summarize(e.id, e.adapter, e.writers, samples[i])
			r.Ref, r.Peer = e.ref, e.peer
			results = append(results, r)
		}
	}
	return results, nil
}
