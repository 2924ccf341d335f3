package main

import "time"

// options size the run. The full run follows the workloads of
// BENCHMARKS.md; quick shrinks every workload to a smoke run of a few
// seconds that only shows the command still works.
type options struct {
	// runs is how many times each workload runs; the table reports the
	// median and the range.
	runs int
	// duration bounds each run of a time-based workload (W1, W2, W6, W8
	// and their references).
	duration time.Duration
	// slices is how many interleaved pieces a timed run is cut into (see
	// measure).
	slices int
	// streamEvents is the length of W4's aggregate.
	streamEvents int
	// longEvents is the length of W11's aggregate.
	longEvents int
	// logEvents is the length of the log W5 and W7 read.
	logEvents int
	// page is W5's page size, batch W7's batch size.
	page, batch int
	// contentionWriters × contentionAppends is W3's size.
	contentionWriters, contentionAppends int
	// liveRate is W8's appends per second.
	liveRate int
	// slowHandle is how long W8h's second consumer spends per event.
	slowHandle time.Duration
	// millionEvents is the length of the large log of W7s and W10.
	millionEvents int
	// statusConsumers is how many consumers W10's status reports on,
	// statusCalls how many calls one run makes.
	statusConsumers, statusCalls int
	// groupEvents over groupAggregates is W9's backlog, groupHandle the
	// time its Handle spends per event.
	groupEvents, groupAggregates int
	groupHandle                  time.Duration
	// only, when not "", keeps the workloads whose id (e.g. "W1", "L2")
	// or group matches it as a regular expression.
	only string
	// ownCluster starts a cluster for the run instead of finding one.
	ownCluster bool
	// adapters are the store configurations measured.
	adapters []string
}

func fullOptions() options {
	return options{
		runs: 3, duration: 5 * time.Second, slices: 5,
		streamEvents: 1000,
		longEvents:   50_000,
		logEvents:    100_000, page: 500, batch: 500,
		contentionWriters: 8, contentionAppends: 200,
		liveRate: 200, slowHandle: time.Second,
		millionEvents:   1_000_000,
		statusConsumers: 20, statusCalls: 20,
		groupEvents: 20_000, groupAggregates: 1_000, groupHandle: 2 * time.Millisecond,
		adapters: []string{adapterPgx, adapterPq},
	}
}

// quickOptions keep every workload and every check, at sizes that finish
// in seconds, even under the race detector.
func quickOptions() options {
	o := fullOptions()
	o.runs = 1
	o.duration = 300 * time.Millisecond
	o.slices = 1
	o.streamEvents = 100
	o.longEvents = 1_000
	o.logEvents = 2_000
	o.contentionAppends = 10
	o.millionEvents = 20_000
	o.statusCalls = 3
	o.groupEvents, o.groupAggregates, o.groupHandle = 400, 50, 200*time.Microsecond
	return o
}
