package main

import (
	"fmt"
	"strings"
	"time"
)

// report is the run's figures and verdict.
type report struct {
	duration, catchUp                                        time.Duration
	appends, conflicts, failedAppends, rollbacks, bigBatches int64
	eventsCommitted, ambiguous, ambiguousCommitted           int64
	reads, readViolations                                    int64
	kills, killsInTransaction, batchErrors                   int64
	stored, aggregates                                       int64
	projectedAll, projectedOrders, projectedVersions         int64
	handled                                                  map[string]int64
	lost, phantom, rolledBackStored, orderViolations         int64
	goroutines, baseGoroutines                               int
	connections, baseConnections                             int
	invariants                                               []invariantResult
	failures                                                 []error
}

type invariantResult struct {
	name       string
	violations int64
}

func (r *report) fill(s *stats, l *ledger, ps *processors) {
	r.appends, r.conflicts, r.failedAppends = s.appends.Load(), s.conflicts.Load(), s.failedAppends.Load()
	r.rollbacks, r.bigBatches, r.eventsCommitted = s.rollbacks.Load(), s.bigBatches.Load(), s.eventsCommitted.Load()
	r.reads, r.readViolations, r.orderViolations = s.reads.Load(), s.readViolations.Load(), s.orderViolations.Load()
	r.kills, r.killsInTransaction = s.kills.Load(), s.killsInTransaction.Load()
	r.ambiguous = int64(len(l.ambiguous))
	if ps != nil {
		r.batchErrors = ps.batchErrors.Load()
		ps.mu.Lock()
		r.handled = ps.handled
		ps.mu.Unlock()
	}
}

func (r *report) String() string {
	if r == nil {
		return "soak: no report"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "soak: %s of load, consumers caught up %s after it\n", r.duration.Round(time.Second), r.catchUp.Round(time.Millisecond))
	fmt.Fprintf(&b, "  appends committed    %d (%d events; %d batches of 200)\n", r.appends, r.eventsCommitted, r.bigBatches)
	fmt.Fprintf(&b, "  conflicts            %d\n", r.conflicts)
	fmt.Fprintf(&b, "  rolled back          %d (on purpose)\n", r.rollbacks)
	fmt.Fprintf(&b, "  failed by faults     %d appends (commit outcome unknown: %d events, of which %d were stored)\n", r.failedAppends, r.ambiguous, r.ambiguousCommitted)
	fmt.Fprintf(&b, "  reads                %d (violations %d)\n", r.reads, r.readViolations)
	fmt.Fprintf(&b, "  faults injected      %d connections terminated (%d inside a statement or transaction); %d failed batches logged by the processors\n",
		r.kills, r.killsInTransaction, r.batchErrors)
	fmt.Fprintf(&b, "  stored               %d events in %d aggregates\n", r.stored, r.aggregates)
	fmt.Fprintf(&b, "  consumed             all %d, orders %d, versions %d (events handled in committed batches: %v)\n",
		r.projectedAll, r.projectedOrders, r.projectedVersions, r.handled)
	fmt.Fprintf(&b, "  lost %d, phantom %d, rolled-back stored %d, out of order %d\n", r.lost, r.phantom, r.rolledBackStored, r.orderViolations)
	for _, inv := range r.invariants {
		fmt.Fprintf(&b, "  %-70s %d\n", inv.name, inv.violations)
	}
	fmt.Fprintf(&b, "  goroutines           %d (before: %d)\n", r.goroutines, r.baseGoroutines)
	fmt.Fprintf(&b, "  connections          %d (before: %d)\n", r.connections, r.baseConnections)
	if len(r.failures) == 0 {
		b.WriteString("  PASS: every invariant holds\n")
	} else {
		for _, err := range r.failures {
			fmt.Fprintf(&b, "  FAIL: %v\n", err)
		}
	}
	return b.String()
}
