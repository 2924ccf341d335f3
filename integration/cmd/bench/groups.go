package main

import "context"

// The groups, in the order the table shows them. Each group holds a
// workload's raw references and its entries for every adapter.
const (
	groupAppend1 = iota
	groupAppend8
	groupBatch1
	groupBatch4
	groupContention
	groupStream
	groupLong
	groupLog
	groupScoped
	groupStatus
	groupCorrectness
	groupLive
	groupPartitioned
)

func referenceGroups(env *environment) []group {
	o, pool := env.opts, env.raw
	q := logQueries()
	g := []group{
		groupAppend1:     {name: "append"},
		groupAppend8:     {name: "append"},
		groupBatch1:      {name: "batch"},
		groupBatch4:      {name: "batch"},
		groupContention:  {name: "contention"},
		groupStream:      {name: "stream"},
		groupLong:        {name: "long"},
		groupLog:         {name: "log"},
		groupScoped:      {name: "scoped"},
		groupStatus:      {name: "status"},
		groupCorrectness: {name: "correctness"},
		groupLive:        {name: "live"},
		groupPartitioned: {name: "partitioned"},
	}
	for i, w := range map[int]int{groupAppend1: 1, groupAppend8: 8} {
		g[i].entries = append(g[i].entries,
			timedEntry("L1", "raw", w, "", o.duration, l1(pool, false)),
			timedEntry("L1a", "raw", w, "", o.duration, l1(pool, true)))
	}
	for i, w := range map[int]int{groupBatch1: 1, groupBatch4: 4} {
		g[i].entries = append(g[i].entries,
			timedEntry("L2", "raw", w, "", o.duration, l2(pool, 100)),
			timedEntry("L3", "raw", w, "", o.duration, l3(pool, 100)))
	}
	g[groupStream].entries = append(g[groupStream].entries, timedEntry("R4", "raw", 1, "", o.duration, r4(pool, q)))
	r11 := timedEntry("R11", "raw", 1, "", o.duration, r11(pool, o.longEvents))
	r11.warm = warmLong(env, r11.warm)
	g[groupLong].entries = append(g[groupLong].entries, r11)
	g[groupLog].entries = append(g[groupLog].entries, timedEntry("R5", "raw", 1, "", o.duration, r5(pool, q, o.logEvents, o.page)))
	return g
}

// warmLong seeds the long aggregate before warm runs.
func warmLong(env *environment, warm func(ctx context.Context) error) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		if err := env.long.ensure(ctx, env); err != nil {
			return err
		}
		return warm(ctx)
	}
}

// addAdapter adds a's entries to every group.
func addAdapter[TX any](env *environment, g []group, a *adapter[TX]) error {
	o := env.opts
	// Stores notify unless a workload says otherwise (BENCHMARKS.md).
	store, err := a.newStore(namesIn(storeSchema), "bench_store")
	if err != nil {
		return err
	}
	quiet, err := a.newStore(namesIn(storeSchema), "")
	if err != nil {
		return err
	}
	logStore, err := a.newStore(namesIn(logSchema), "")
	if err != nil {
		return err
	}
	for i, w := range map[int]int{groupAppend1: 1, groupAppend8: 8} {
		w1 := timedEntry("W1", a.name, w, ref("L1", w), o.duration, appendNew(a, store, 1))
		if w == 8 {
			w1.peer = ref("W1n", w)
		}
		g[i].entries = append(g[i].entries, w1)
	}
	// W1n: W1 at 8 writers with the notify channel off, in the slices of
	// W1 and L1, so that W1 / W1n is what notifying costs.
	g[groupAppend8].entries = append(g[groupAppend8].entries, timedEntry("W1n", a.name, 8, ref("L1", 8), o.duration, appendNew(a, quiet, 1)))
	for i, w := range map[int]int{groupBatch1: 1, groupBatch4: 4} {
		g[i].entries = append(g[i].entries, timedEntry("W2", a.name, w, ref("L2", w), o.duration, appendNew(a, store, 100)))
	}
	// W1e and W2e: W1 and W2 sealing one personal field per event, in the
	// slices of W1 and W2, so that W1e / W1 is what shredding costs.
	shredder, err := newShredder(a, store)
	if err != nil {
		return err
	}
	var keysReady bool
	sealed := func(id string, w int, reference, peer string, size int) entry {
		e := timedEntry(id, a.name, w, ref(reference, w), o.duration, appendSealed(a, store, shredder, size))
		e.peer = ref(peer, w)
		warm := e.warm
		e.warm = func(ctx context.Context) error {
			if !keysReady {
				if err := warmShredder(ctx, a, shredder); err != nil {
					return err
				}
				keysReady = true
			}
			return warm(ctx)
		}
		return e
	}
	for i, w := range map[int]int{groupAppend1: 1, groupAppend8: 8} {
		g[i].entries = append(g[i].entries, sealed("W1e", w, "L1", "W1", 1))
	}
	for i, w := range map[int]int{groupBatch1: 1, groupBatch4: 4} {
		g[i].entries = append(g[i].entries, sealed("W2e", w, "L2", "W2", 100))
	}
	g[groupContention].entries = append(g[groupContention].entries, entry{id: "W3", adapter: a.name, writers: o.contentionWriters,
		run: func(ctx context.Context) (sample, error) {
			return contention(ctx, a, store, o.contentionWriters, o.contentionAppends)
		}})
	g[groupStream].entries = append(g[groupStream].entries, timedEntry("W4", a.name, 1, ref("R4", 1), o.duration, readStream(a, logStore)))
	// W11 and W11s: the long aggregate loaded without and with its
	// snapshot, in R11's slices; W11s's peer is W11, so the table shows
	// the speed-up.
	longStore, err := a.newStore(namesIn(longSchema), "")
	if err != nil {
		return err
	}
	w11 := timedEntry("W11", a.name, 1, ref("R11", 1), o.duration, loadLong(a, longStore, 2, o.longEvents))
	w11.warm = warmLong(env, w11.warm)
	w11s := timedEntry("W11s", a.name, 1, ref("R11", 1), o.duration, loadLong(a, longStore, 1, o.longEvents))
	w11s.warm, w11s.peer = warmLong(env, w11s.warm), ref("W11", 1)
	g[groupLong].entries = append(g[groupLong].entries, w11, w11s)
	g[groupLog].entries = append(g[groupLog].entries, timedEntry("W5", a.name, 1, ref("R5", 1), o.duration, readLog(a, logStore, o.logEvents, o.page)))
	// W7 is measured in the log's group, each run right after R5 and W5,
	// so that its ratio to R5 is taken under the same load.
	g[groupLog].entries = append(g[groupLog].entries, entry{id: "W7", adapter: a.name, writers: 1, ref: ref("R5", 1),
		run: func(ctx context.Context) (sample, error) { return catchUp(ctx, a, o.logEvents, o.batch) }})
	// W7p: W7 by a consumer of 8 partitions in one process and in four,
	// measured with W7 (its peer) and R5.
	for _, processes := range []int{1, 4} {
		g[groupLog].entries = append(g[groupLog].entries, entry{id: "W7p", adapter: a.name, writers: processes, ref: ref("R5", 1), peer: ref("W7", 1),
			run: func(ctx context.Context) (sample, error) {
				return partitionedCatchUp(ctx, a, processes, o.logEvents, o.batch)
			}})
	}
	g[groupScoped].entries = append(g[groupScoped].entries, entry{id: "W7s", adapter: a.name, writers: 1,
		warm: func(ctx context.Context) error { return env.million.ensure(ctx, env) },
		run:  func(ctx context.Context) (sample, error) { return scopedCatchUp(ctx, a, o.millionEvents, o.batch) }})
	g[groupStatus].entries = append(g[groupStatus].entries, entry{id: "W10", adapter: a.name, writers: 1,
		warm: func(ctx context.Context) error { return env.million.ensure(ctx, env) },
		run: func(ctx context.Context) (sample, error) {
			return status(ctx, a, o.millionEvents, o.statusConsumers, o.statusCalls)
		}})
	g[groupCorrectness].entries = append(g[groupCorrectness].entries, entry{id: "W6", adapter: a.name, writers: 8,
		run: func(ctx context.Context) (sample, error) { return correctness(ctx, env, a, o.duration, 8) }})
	g[groupLive].entries = append(g[groupLive].entries, entry{id: "W8", adapter: a.name, writers: 1,
		run: func(ctx context.Context) (sample, error) { return live(ctx, env, a, o.duration, o.liveRate, false, 0) }})
	g[groupLive].entries = append(g[groupLive].entries, entry{id: "W8h", adapter: a.name, writers: 1,
		run: func(ctx context.Context) (sample, error) {
			return live(ctx, env, a, o.duration, o.liveRate, true, o.slowHandle)
		}})
	// W9: a handler-bound consumer of 8 partitions in 1, 2 and 4 processes
	// (writers), each run of every count in turn; ×2 and ×4 against ×1.
	for _, processes := range []int{1, 2, 4} {
		e := entry{id: "W9", adapter: a.name, writers: processes,
			run: func(ctx context.Context) (sample, error) {
				return groupThroughput(ctx, a, processes, o.groupEvents, o.groupHandle)
			}}
		if processes > 1 {
			e.peer = ref("W9", 1)
		}
		g[groupPartitioned].entries = append(g[groupPartitioned].entries, e)
	}
	return nil
}
