package main

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"
)

// sample is what one run of a workload measured.
type sample struct {
	events    int
	elapsed   time.Duration
	latencies []time.Duration
	// checks are correctness counts (errors, skipped events, …) that must
	// be zero; they add up over runs.
	checks map[string]int64
	// metrics are further measurements; the report shows their median.
	metrics map[string]float64
}

func (s sample) rate() float64 {
	if s.elapsed <= 0 {
		return 0
	}
	return float64(s.events) / s.elapsed.Seconds()
}

// timed runs op in writers goroutines until d has passed, each call timed
// as one latency. op returns how many events it wrote or read. The first
// error stops every writer and is returned.
func timed(ctx context.Context, d time.Duration, writers int, op func(ctx context.Context) (int, error)) (sample, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		wg   sync.WaitGroup
		s    sample
		lats = make([][]time.Duration, writers)
		n    = make([]int, writers)
	)
	start := time.Now()
	deadline := start.Add(d)
	for w := range writers {
		wg.Go(func() {
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t0 := time.Now()
				k, err := op(ctx)
				if err != nil {
					cancel(err)
					return
				}
				lats[w] = append(lats[w], time.Since(t0))
				n[w] += k
			}
		})
	}
	wg.Wait()
	s.elapsed = time.Since(start)
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return s, err
	}
	if err := ctx.Err(); err != nil {
		return s, context.Cause(ctx)
	}
	for w := range writers {
		s.events += n[w]
		s.latencies = append(s.latencies, lats[w]...)
	}
	return s, nil
}

// percentile returns the p-th percentile (0 < p <= 100) of sorted
// latencies, 0 when there are none.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func sortedCopy(d []time.Duration) []time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s
}
