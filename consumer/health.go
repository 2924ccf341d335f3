package consumer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chronicle-go/chronicle/core"
)

// HealthState is what a consumer of a running Processor is doing, as its
// loop last saw it.
type HealthState string

// The states of ConsumerHealth.State, in the order Health decides them: the
// first that applies is reported.
const (
	// HealthStopped: the consumer's loop has ended — it failed MaxAttempts
	// times (here or in another process), the log's transaction order moved,
	// or the Processor is not running (before Run, after it returned).
	HealthStopped HealthState = "stopped"
	// HealthStuck: no progress for Config.StuckAfter while something holds
	// the consumer back — a batch that has run that long (a slow or hung
	// Handle, a statement waiting for a lock), or batches that delivered
	// nothing while a writer had appended and not committed (WaitingFor
	// names the running transactions the cursor waits for).
	HealthStuck HealthState = "stuck"
	// HealthFailing: the last batch failed and the consumer is retrying
	// with backoff (FailedAttempts, LastError).
	HealthFailing HealthState = "failing"
	// HealthStandby: another process held the consumer's lease at the last
	// attempt, or runs the partition: the consumer runs there meanwhile.
	HealthStandby HealthState = "standby"
	// HealthStarting: Run started and no batch of the consumer has ended
	// yet.
	HealthStarting HealthState = "starting"
	// HealthProgressing: the last batch handled events.
	HealthProgressing HealthState = "progressing"
	// HealthIdle: caught up — the last batch found nothing to deliver.
	HealthIdle HealthState = "idle"
)

// ConsumerHealth is one consumer's health in a HealthReport. Times are this
// process's clock (not the database's: no round trip is made).
type ConsumerHealth struct {
	// Consumer is the consumer's Name(), or the checkpoint name of one
	// partition of a partitioned consumer ("orders[3/8]": Health reports
	// each partition).
	Consumer string
	// State is what the consumer does; Reason says why in a sentence.
	State  HealthState
	Reason string
	// Cursor is the cursor the last batch reached (zero before the first).
	Cursor core.Cursor
	// Events counts the events handled since Run started.
	Events int64
	// LastBatchAt is when the last batch ended well, LastEventsAt when the
	// last one that handled events did; zero when none has yet.
	LastBatchAt, LastEventsAt time.Time
	// BatchStartedAt is when the batch in flight started; zero between
	// batches.
	BatchStartedAt time.Time
	// FailedAttempts counts the consecutive failed batches of this Run (0
	// after a success); LastError, LastErrorPosition (0: not tied to an
	// event) and LastErrorAt describe the latest failure of this Run.
	FailedAttempts    int
	LastError         string
	LastErrorPosition int64
	LastErrorAt       time.Time
	// WaitingSince is when the batches began to deliver nothing while a
	// writer was in flight (zero otherwise). Once that lasts StuckAfter,
	// WaitingFor lists the running transactions the consumer's snapshot
	// still counts as not visible — those a wakeup named as appenders when
	// known — refreshed at most every few seconds; their events are
	// delivered when they commit.
	WaitingSince time.Time
	WaitingFor   []core.Writer
}

// HealthReport is a Processor's health: Health's result.
type HealthReport struct {
	// Live reports that Run is running.
	Live bool
	// Ready reports that Run is running and no consumer is stopped.
	Ready bool
	// Owner is the processor's Config.Owner; Present reports that it holds
	// its presence (core.ConsumerStore.HoldPresence), so that Status shows
	// it as the consumers' owner rather than as gone.
	Owner   string
	Present bool
	// StartedAt is when the running Run started; zero when none runs.
	StartedAt time.Time
	// Consumers holds each consumer's health, in the order given to
	// NewProcessor.
	Consumers []ConsumerHealth
}

// Health reports, without a database round trip, whether the processor
// runs and what each consumer does: progressing, idle (caught up), standby
// (another process holds its lease), stuck (see Config.StuckAfter),
// failing (retrying after errors) or stopped. It is safe to call from any
// goroutine, while Run runs or not; a nil Processor reports nothing live.
func (p *Processor[TX]) Health() HealthReport {
	if p == nil {
		return HealthReport{}
	}
	p.state.mu.Lock()
	r := HealthReport{Live: p.state.live, Owner: p.cfg.Owner, Present: p.state.present, StartedAt: p.state.startedAt}
	p.state.mu.Unlock()
	now := time.Now()
	r.Ready = r.Live
	for _, l := range p.consumers {
		h := l.health.report(l.name, r.Live, now, p.cfg.StuckAfter)
		if h.State == HealthStopped {
			r.Ready = false
		}
		r.Consumers = append(r.Consumers, h)
	}
	return r
}

// runState is what Health reports of the processor as a whole.
type runState struct {
	mu        sync.Mutex
	live      bool
	present   bool
	startedAt time.Time
}

func (s *runState) setLive(live bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.live = live
	s.startedAt = time.Time{}
	if live {
		s.startedAt = time.Now()
	}
}

func (s *runState) isPresent() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.present
}

func (s *runState) setPresent(present bool) {
	s.mu.Lock()
	s.present = present
	s.mu.Unlock()
}

// loopHealth is one loop's record for Health: written by the loop's
// goroutine, read by any.
type loopHealth struct {
	mu sync.Mutex
	loopRecord
}

// loopRecord is what loopHealth guards.
type loopRecord struct {
	cursor                    core.Cursor
	events                    int64
	lastBatchAt, lastEventsAt time.Time
	lastEvents                int
	batchStartedAt            time.Time
	notClaimed                bool
	failures                  int
	lastError                 string
	lastErrorPosition         int64
	lastErrorAt               time.Time
	waitingSince              time.Time
	waitingFor                []core.Writer
	writersAt                 time.Time
	stopped                   string
	// unassigned: a partition this process does not run now; ownedBy
	// names the process that does, "" when none is known yet.
	unassigned bool
	ownedBy    string
}

// begin resets the record at the start of a Run.
func (h *loopHealth) begin() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.loopRecord = loopRecord{}
}

func (h *loopHealth) batchStarted() {
	h.mu.Lock()
	h.batchStartedAt = time.Now()
	h.mu.Unlock()
}

// batchDone records a batch that ended well. retrying: it only committed
// the events before a failing one, which is no success of the failing one.
// waiting: it delivered nothing while a writer was in flight. It returns
// whether the writers waited for are due to be looked up.
func (h *loopHealth) batchDone(events int, to core.Cursor, retrying, waiting bool, stuckAfter time.Duration) bool {
	now := time.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	h.batchStartedAt, h.notClaimed = time.Time{}, false
	h.cursor, h.lastBatchAt, h.lastEvents = to, now, events
	h.events += int64(events)
	if events > 0 {
		h.lastEventsAt = now
	}
	if !retrying {
		h.failures = 0
	}
	if !waiting {
		h.waitingSince, h.waitingFor, h.writersAt = time.Time{}, nil, time.Time{}
		return false
	}
	if h.waitingSince.IsZero() {
		h.waitingSince = now
	}
	return now.Sub(h.waitingSince) >= stuckAfter && now.Sub(h.writersAt) >= writersRefresh
}

// writersRefresh is how often a stuck consumer's writers are looked up
// again: one query per that interval, only while it is stuck.
const writersRefresh = 5 * time.Second

func (h *loopHealth) setWriters(ws []core.Writer) {
	h.mu.Lock()
	h.waitingFor, h.writersAt = ws, time.Now()
	h.mu.Unlock()
}

// setAssignment records whether this process runs the partition, and if
// not, which owner does ("" when none is known).
func (h *loopHealth) setAssignment(owned bool, owner string) {
	h.mu.Lock()
	h.unassigned, h.ownedBy = !owned, owner
	h.mu.Unlock()
}

func (h *loopHealth) setNotClaimed() {
	h.mu.Lock()
	h.batchStartedAt, h.notClaimed = time.Time{}, true
	h.mu.Unlock()
}

func (h *loopHealth) failed(attempts int, f failure) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.batchStartedAt, h.notClaimed = time.Time{}, false
	h.failures = max(attempts, 1)
	h.lastError, h.lastErrorPosition, h.lastErrorAt = f.err.Error(), f.position, time.Now()
}

func (h *loopHealth) stop(reason string) {
	h.mu.Lock()
	h.batchStartedAt, h.stopped = time.Time{}, reason
	h.mu.Unlock()
}

// report decides the consumer's state now; see the HealthState constants.
func (h *loopHealth) report(name string, live bool, now time.Time, stuckAfter time.Duration) ConsumerHealth {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := ConsumerHealth{Consumer: name, Cursor: h.cursor, Events: h.events, LastBatchAt: h.lastBatchAt,
		LastEventsAt: h.lastEventsAt, BatchStartedAt: h.batchStartedAt, FailedAttempts: h.failures,
		LastError: h.lastError, LastErrorPosition: h.lastErrorPosition, LastErrorAt: h.lastErrorAt,
		WaitingSince: h.waitingSince, WaitingFor: slices.Clone(h.waitingFor)}
	switch {
	case h.stopped != "":
		c.State, c.Reason = HealthStopped, h.stopped
	case !live:
		c.State, c.Reason = HealthStopped, "the processor is not running"
	case !h.batchStartedAt.IsZero() && now.Sub(h.batchStartedAt) >= stuckAfter:
		c.State, c.Reason = HealthStuck, fmt.Sprintf("a batch has run for %s", now.Sub(h.batchStartedAt).Round(time.Second))
	case h.failures > 0:
		c.State, c.Reason = HealthFailing, fmt.Sprintf("retrying after %d failed attempt(s): %s", h.failures, firstLine(h.lastError))
	case !h.waitingSince.IsZero() && now.Sub(h.waitingSince) >= stuckAfter:
		c.State, c.Reason = HealthStuck, fmt.Sprintf("no event delivered for %s while a writer has appended and not committed%s",
			now.Sub(h.waitingSince).Round(time.Second), writersText(h.waitingFor, now))
	case h.unassigned && h.ownedBy != "":
		c.State, c.Reason = HealthStandby, fmt.Sprintf("the partition runs in process %q", h.ownedBy)
	case h.unassigned:
		c.State, c.Reason = HealthStandby, "the partition is not assigned to this process"
	case h.notClaimed:
		c.State, c.Reason = HealthStandby, "another process held the consumer's lease at the last attempt"
	case h.lastBatchAt.IsZero():
		c.State, c.Reason = HealthStarting, "no batch has ended yet"
	case h.lastEvents > 0:
		c.State, c.Reason = HealthProgressing, fmt.Sprintf("the last batch handled %d event(s)", h.lastEvents)
	default:
		c.State, c.Reason = HealthIdle, "caught up"
	}
	return c
}

// writersText names the first writer waited for, for a Reason.
func writersText(ws []core.Writer, now time.Time) string {
	if len(ws) == 0 {
		return ""
	}
	w := ws[0]
	s := fmt.Sprintf(": pid %d", w.PID)
	if !w.Started.IsZero() {
		s += fmt.Sprintf(", running for %s", now.Sub(w.Started).Round(time.Second))
	}
	if len(ws) > 1 {
		s += fmt.Sprintf(", and %d more", len(ws)-1)
	}
	return s
}

// firstLine is s up to its first line break: a panic's error carries its
// stack.
func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// observeBatch records a batch that ended well for Health and, once the
// consumer is stuck waiting on writers, looks them up (one query every
// writersRefresh, only then). retrying: see loopHealth.batchDone.
func (p *Processor[TX]) observeBatch(ctx context.Context, l *loop[TX], report batchReport, retrying bool) {
	waiting := report.Events == 0 && (report.writing || len(l.pending) > 0)
	if !l.health.batchDone(report.Events, report.To, retrying, waiting, p.cfg.StuckAfter) {
		return
	}
	ids := make([]int64, 0, len(l.pending))
	for id := range l.pending {
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		// No wakeup named the appenders: every transaction the cursor still
		// counts as running, as Status's WaitingFor.
		ids = append(slices.Clone(report.To.Snapshot.Xip), report.To.Upper.Xip...)
	}
	slices.Sort(ids)
	var ws []core.Writer
	err := inTx(ctx, p.store, func(tx TX) error {
		var err error
		ws, err = p.store.Writers(ctx, tx, ids)
		return err
	})
	if err != nil {
		if ctx.Err() == nil {
			p.cfg.Logger.DebugContext(ctx, "looking up the writers a stuck consumer waits for failed", "consumer", l.name, "error", err)
		}
		return
	}
	l.health.setWriters(ws)
}

// holdPresence holds the owner's presence while Run runs (see
// core.ConsumerStore.HoldPresence), so that Status shows this process as
// the owner of the checkpoints it wrote, and gone once it stops or loses
// its connection. When holding fails it retries with backoff.
func (p *Processor[TX]) holdPresence(ctx context.Context) {
	failures := 0
	for {
		err := p.store.HoldPresence(ctx, p.cfg.Owner, func() {
			failures = 0
			p.state.setPresent(true)
		})
		p.state.setPresent(false)
		if ctx.Err() != nil {
			return
		}
		var invalid *core.InvalidArgumentError
		if errors.As(err, &invalid) {
			p.cfg.Logger.ErrorContext(ctx, "the owner cannot be held as present; status shows it as gone", "owner", p.cfg.Owner, "error", err)
			return
		}
		failures++
		p.cfg.Logger.ErrorContext(ctx, "holding the owner's presence failed; retrying (status shows the owner as gone meanwhile)",
			"owner", p.cfg.Owner, "error", err, "failures", failures)
		if !sleep(ctx, p.cfg.backoff(failures)) {
			return
		}
	}
}
