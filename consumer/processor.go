package consumer

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/chronicle-go/chronicle/core"
)

// Processor runs consumers off the global log: one loop per consumer, each
// batch one transaction (see the package documentation). Create it with
// NewProcessor and start it with Run. The same consumers may run in any
// number of processes at once; each batch runs in exactly one.
type Processor[TX any] struct {
	store core.ConsumerStore[TX]
	cfg   Config
	// consumers holds a loop per checkpoint: one per unpartitioned
	// consumer, one per partition of a partitioned one, in the order given
	// to NewProcessor. groups holds them per consumer.
	consumers []*loop[TX]
	groups    []*group[TX]
	running   sync.Mutex
	// state is what Health reports of the processor as a whole.
	state runState
}

// loop is the state of one checkpoint — a consumer, or one partition of
// a partitioned consumer — within a Processor.
type loop[TX any] struct {
	consumer Consumer[TX]
	// name is the checkpoint's name, scope what its batches read.
	name  string
	scope core.ConsumerScope
	group *group[TX]

	// due is when the loop's next batch is to run; backoff reports that
	// due is a retry's backoff, which a wakeup does not cut short. stopped:
	// the loop runs no more batches in this Run. owned: the loop is this
	// process's to run (always, for an unpartitioned consumer; for a
	// partition, as balancing decides). Only the group's goroutine uses
	// them.
	due     time.Time
	backoff bool
	stopped bool
	owned   bool
	// unrecorded counts failures whose recording failed too, for the
	// backoff.
	unrecorded int

	// retryLimit, when > 0, caps the next batch after a handler failed on
	// the event at that index of its batch: the events before the failing
	// one then commit on their own (keeping the failure count), and the
	// batch after starts with the failing event. Only the consumer's
	// goroutine uses it.
	retryLimit int

	// ahead is a cursor the loop reached without saving it: batches that
	// delivered nothing move the cursor only in memory, so that an idle
	// consumer writes nothing. aheadOf is the stored checkpoint it moved on
	// from (cursor and UpdatedAt): the loop uses ahead only while the
	// stored checkpoint is still that one, so that a batch of another
	// process, or an operation, always wins. Only the consumer's goroutine
	// uses them.
	ahead, aheadOf core.Cursor
	aheadOfSaved   time.Time
	hasAhead       bool

	// fastUntil and fastDelay drive the quick polls after a wakeup: a
	// notification comes from one append per notify interval, so the
	// appends committed just after it are found by polling soon. pending
	// holds writer ids a wakeup named that the last batch's snapshot still
	// listed as running: the loop polls until they end.
	fastUntil time.Time
	fastDelay time.Duration
	pending   map[int64]time.Time
	// wakeMu guards wokenBy, the writer ids of wakeups not yet taken by
	// the loop.
	wakeMu  sync.Mutex
	wokenBy []int64

	// health is the loop's record for Processor.Health.
	health loopHealth
}

// NewProcessor returns a Processor for consumers over store, an adapter's
// consumer storage port (memory.Store, or the PostgreSQL adapters' consumer
// runtime). Consumer names must be non-empty, unique, valid UTF-8 and free
// of NUL bytes (they are stored as PostgreSQL text; see
// core.ValidateConsumerName). A bad store, consumer list or Config is a
// *ConfigError (ErrInvalidConfig).
func NewProcessor[TX any](store core.ConsumerStore[TX], consumers []Consumer[TX], cfg Config) (*Processor[TX], error) {
	if store == nil {
		return nil, &ConfigError{Field: "store", Reason: "must not be nil"}
	}
	if len(consumers) == 0 {
		return nil, &ConfigError{Field: "consumers", Reason: "at least one consumer is required"}
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	p := &Processor[TX]{store: store, cfg: cfg}
	seen := make(map[string]bool, len(consumers))
	for i, c := range consumers {
		if c == nil {
			return nil, &ConfigError{Field: "consumers", Reason: fmt.Sprintf("consumer %d is nil", i)}
		}
		name := c.Name()
		if name == "" {
			return nil, &ConfigError{Field: "consumers", Reason: fmt.Sprintf("consumer %d (%T) has an empty Name()", i, c)}
		}
		var invalid *core.InvalidArgumentError
		if err := core.ValidateConsumerName(name); errors.As(err, &invalid) {
			return nil, &ConfigError{Field: "consumers", Reason: fmt.Sprintf("consumer %d (%T): %s", i, c, invalid.Reason)}
		}
		if seen[name] {
			return nil, &ConfigError{Field: "consumers", Reason: fmt.Sprintf("two consumers are named %q; names identify checkpoints and must be unique", name)}
		}
		seen[name] = true
		if _, _, ok := core.ParsePartitionCheckpointName(name); ok {
			return nil, &ConfigError{Field: "consumers", Reason: fmt.Sprintf("consumer %d (%T) is named %q, the name of a partition's checkpoint; "+
				"declare partitions with PartitionedConsumer instead", i, c, name)}
		}
		partitions, err := partitionsOf(c)
		if err != nil {
			return nil, &ConfigError{Field: "consumers", Reason: fmt.Sprintf("consumer %d (%T) %q: %s", i, c, name, err)}
		}
		g := &group[TX]{name: name, partitions: partitions, wake: make(chan struct{}, 1)}
		types := aggregateTypesOf(c)
		for part := range max(partitions, 1) {
			scope := core.ConsumerScope{AggregateTypes: types}
			if partitions > 0 {
				scope.Partition = core.Partition{Index: part, Count: partitions}
			}
			l := &loop[TX]{consumer: c, name: core.PartitionCheckpointName(name, scope.Partition), scope: scope, group: g}
			g.loops = append(g.loops, l)
			p.consumers = append(p.consumers, l)
		}
		p.groups = append(p.groups, g)
	}
	return p, nil
}

// Run processes events until ctx ends, then stops every consumer after
// rolling back any batch in flight, and returns nil. It returns an error
// early only when the processor cannot work at all: the log's transaction
// order is ahead of the database's (a restored database; see
// core.ErrTransactionOrderMoved), which stops every consumer. A consumer that
// fails MaxAttempts times stops alone and Run goes on. Run may be called
// again after it returns, but not concurrently.
func (p *Processor[TX]) Run(ctx context.Context) error {
	if !p.running.TryLock() {
		return errors.New("processor is already running")
	}
	defer p.running.Unlock()
	started, err := p.checkTransactionOrder(ctx)
	if err == nil {
		err = p.checkPartitionLayout(ctx)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	for _, g := range p.groups {
		g.begin()
	}
	p.state.setLive(true)
	defer p.state.setLive(false)

	var wg sync.WaitGroup
	wg.Go(func() { p.listen(ctx) })
	wg.Go(func() { p.holdPresence(ctx) })
	for _, g := range p.groups {
		wg.Go(func() {
			if err := p.runGroup(ctx, g, started); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// checkTransactionOrder fails when the log was moved into another cluster,
// and returns the database's clock otherwise: the Run's start, which
// stop decisions compare with StoppedAt, both on the database's clock.
func (p *Processor[TX]) checkTransactionOrder(ctx context.Context) (started time.Time, err error) {
	err = inTx(ctx, p.store, func(tx TX) error {
		st, err := p.store.TransactionOrder(ctx, tx)
		if err != nil {
			return fmt.Errorf("error checking the transaction order: %w", err)
		}
		if st.Moved() {
			return &core.TransactionOrderMovedError{Status: st}
		}
		started = st.CheckedAt
		return nil
	})
	return started, err
}

// listen turns the store's notifications into wakeups for every loop. When
// listening fails it retries with backoff; polling covers the gap.
func (p *Processor[TX]) listen(ctx context.Context) {
	failures := 0
	for {
		err := p.store.Listen(ctx, p.wakeAll)
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, core.ErrNotificationsUnsupported) {
			p.cfg.Logger.DebugContext(ctx, "consumer wakeups by polling only", "poll_interval", p.cfg.PollInterval)
			return
		}
		failures++
		p.cfg.Logger.ErrorContext(ctx, "listening for event notifications failed; polling until it is back", "error", err, "failures", failures)
		if !sleep(ctx, p.cfg.backoff(failures)) {
			return
		}
		p.wakeAll(nil)
	}
}

// wakeAll wakes every group; writers are the ids the wakeup named.
func (p *Processor[TX]) wakeAll(writers []int64) {
	for _, l := range p.consumers {
		if len(writers) > 0 {
			l.wakeMu.Lock()
			l.wokenBy = append(l.wokenBy, writers...)
			l.wakeMu.Unlock()
		}
	}
	for _, g := range p.groups {
		select {
		case g.wake <- struct{}{}:
		default:
		}
	}
}

// errNotClaimed: another transaction holds the consumer's checkpoint.
var errNotClaimed = errors.New("checkpoint held by another process")

// errStoppedElsewhere: the consumer was stopped after this Run started.
var errStoppedElsewhere = errors.New("consumer stopped")

// handlerError is a failure of the consumer's own code. Like every other
// failure of a batch it counts towards MaxAttempts; its index lets the
// next attempt commit the events before the failing one.
type handlerError struct {
	position int64
	// index is the failing event's index in its batch.
	index int
	err   error
}

func (e *handlerError) Error() string { return e.err.Error() }
func (e *handlerError) Unwrap() error { return e.err }

// step runs one batch of l and decides when l's next one is due (l.due),
// or that l stops. It returns an error only for a failure that must stop
// the whole processor.
func (p *Processor[TX]) step(ctx context.Context, l *loop[TX], started time.Time) error {
	log := p.cfg.Logger
	retrying := l.retryLimit > 0
	l.health.batchStarted()
	report, err := p.processBatch(ctx, l, started)
	now := time.Now()
	l.due, l.backoff = now, false
	switch {
	case ctx.Err() != nil:
		return nil
	case err == nil:
		l.unrecorded = 0
		p.observeBatch(ctx, l, report, retrying)
		if (report.Events > 0 || !report.From.Equal(report.To)) && p.cfg.OnBatch != nil {
			p.cfg.OnBatch(report.BatchReport)
		}
		l.group.batchCommitted()
		if report.Events == report.limit || report.From.Paging() {
			// Catching up, past events before a failure, or the end of a
			// step read page by page (an old snapshot's, not a look at
			// the log now): the next batch at once.
			return nil
		}
		l.due = now.Add(p.idle(l, report.Events > 0, report.writing))
	case errors.Is(err, errNotClaimed):
		l.health.setNotClaimed()
		l.due = now.Add(p.cfg.PollInterval)
	case errors.Is(err, errNotOwned):
		// Balancing gave the partition to another process, which took it
		// over since this one's last look.
		l.owned = false
		l.health.setAssignment(false, report.owner)
		log.InfoContext(ctx, "partition taken over by another process", "consumer", l.name, "owner", report.owner)
	case errors.Is(err, errStoppedElsewhere):
		log.InfoContext(ctx, "consumer was stopped by another process after repeated failures", "consumer", l.name)
		l.health.stop("stopped by another process after repeated failures")
		l.stopped = true
	case errors.Is(err, core.ErrTransactionOrderMoved):
		log.ErrorContext(ctx, "stopping: the event log's transaction order is ahead of the database's", "consumer", l.name, "error", err)
		for _, other := range l.group.loops {
			other.health.stop(err.Error())
		}
		return err
	default:
		f := failure{err: err}
		var he *handlerError
		if errors.As(err, &he) {
			// The next attempt first commits the events before the
			// failing one, so that a consumer stopped by one event has
			// handled everything before it, and its cursor points there.
			l.retryLimit = he.index
			f = failure{err: he.err, position: he.position, handler: true}
		}
		attempts, stopped, rerr := p.recordFailure(ctx, l, f, started)
		if rerr != nil {
			l.unrecorded++
			attempts = l.unrecorded
			log.ErrorContext(ctx, "recording a consumer failure failed", "consumer", l.name, "error", rerr)
		}
		l.health.failed(attempts, f)
		if f.handler {
			log.ErrorContext(ctx, "consumer handler failed; batch rolled back", "consumer", l.name,
				"position", f.position, "attempt", attempts, "error", f.err)
		} else {
			log.ErrorContext(ctx, "consumer batch failed; rolled back", "consumer", l.name, "attempt", attempts, "error", f.err)
		}
		if stopped {
			log.ErrorContext(ctx, "consumer stopped after repeated failures; the next Run retries it", "consumer", l.name,
				"attempts", attempts, "error", f.err)
			l.health.stop(fmt.Sprintf("stopped after %d failed attempts; the next Run retries it", attempts))
			l.stopped = true
			if p.cfg.OnStop != nil {
				p.cfg.OnStop(l.name, f.err)
			}
			return nil
		}
		l.due, l.backoff = now.Add(p.cfg.backoff(max(attempts, 1))), true
	}
	return nil
}

// Quick polls after a wakeup: the first at once, then at doubling delays
// from fastFirst, within fastWindow of the wakeup; and while a writer a
// wakeup named still runs, at delays up to fastMax.
const (
	fastWindow = 40 * time.Millisecond
	fastFirst  = time.Millisecond
	fastMax    = 100 * time.Millisecond
)

// idle returns the wait after a batch that did not fill: a quick poll while
// the fast window of the last wakeup lasts, a writer a wakeup named still
// runs, or the batch saw an append in flight (writing), else the poll
// interval (a wakeup cuts it short). delivered restarts the quick polls of a wakeup's window:
// a batch with events suggests more follow. The delays grow to fastMax, so
// a long transaction that appended costs a poll every fastMax while it
// runs, and its commit is noticed within that.
func (p *Processor[TX]) idle(l *loop[TX], delivered, writing bool) time.Duration {
	now := time.Now()
	if delivered && now.Before(l.fastUntil) {
		l.fastDelay = fastFirst
	}
	if l.fastDelay == 0 {
		l.fastDelay = fastFirst
	}
	if now.Before(l.fastUntil) || len(l.pending) > 0 || writing {
		d := min(l.fastDelay, p.cfg.PollInterval)
		l.fastDelay = min(2*l.fastDelay, fastMax)
		return d
	}
	return p.cfg.PollInterval
}

// processBatch runs one batch transaction for l.
func (p *Processor[TX]) processBatch(ctx context.Context, l *loop[TX], started time.Time) (report batchReport, err error) {
	report.Consumer = l.name
	report.limit = p.cfg.BatchSize
	afterFailure := l.retryLimit > 0
	if afterFailure {
		report.limit = min(l.retryLimit, p.cfg.BatchSize)
	}
	began := time.Now()
	var end func(BatchEnd) // Config.OnBatchStart's, for a batch that read events
	defer func() {
		if end != nil {
			be := BatchEnd{Err: err}
			if he := (*handlerError)(nil); errors.As(err, &he) {
				be.Err, be.HandlerFailed = he.err, true
			}
			end(be)
		}
	}()
	err = inTx(ctx, p.store, func(tx TX) error {
		// The claim gives tx no transaction id, which the batch statement's
		// snapshot needs (see core.ConsumerStore).
		cp, claimed, err := p.store.ClaimCheckpoint(ctx, tx, l.name)
		if err != nil {
			return err // the store's error names the consumer and the claim
		}
		if !claimed {
			return errNotClaimed
		}
		if !cp.StoppedAt.IsZero() && cp.StoppedAt.After(started) {
			return errStoppedElsewhere
		}
		if l.takenOver(cp, p.cfg.Owner) {
			report.owner = cp.Owner
			return errNotOwned
		}
		from := cp.Cursor
		if l.hasAhead && cp.Cursor.Equal(l.aheadOf) && cp.UpdatedAt.Equal(l.aheadOfSaved) {
			from = l.ahead
		}
		batch, err := p.store.ReadConsumerBatch(ctx, tx, from, l.scope, report.limit)
		if err != nil {
			return fmt.Errorf("consumer %q: %w", l.name, err)
		}
		if len(batch.Events) > 0 && p.cfg.OnBatchStart != nil {
			// From here on the batch runs with the hook's context: its
			// Handle calls and the checkpoint save.
			hctx, hend := p.cfg.OnBatchStart(ctx, BatchStart{Consumer: l.name, Events: len(batch.Events), From: from, Started: began})
			if hctx != nil {
				ctx = hctx
			}
			end = hend
		}
		for i, e := range batch.Events {
			if err := safeHandle(ctx, l.consumer, tx, e); err != nil {
				return &handlerError{position: e.GlobalPosition, index: i, err: err}
			}
		}
		p.settle(l, batch.Next)
		report.From, report.To, report.Events, report.writing = from, batch.Next, len(batch.Events), batch.Writing
		failed := cp.FailedAttempts != 0 || !cp.StoppedAt.IsZero()
		stale := cp.ClaimedAt.Sub(cp.UpdatedAt) >= idleSaveInterval && !batch.Next.Equal(cp.Cursor)
		if len(batch.Events) == 0 && !cp.UpdatedAt.IsZero() && !failed && !stale {
			// Nothing delivered: move on in memory only, so that an idle
			// consumer writes nothing.
			l.ahead, l.aheadOf, l.aheadOfSaved, l.hasAhead = batch.Next, cp.Cursor, cp.UpdatedAt, true
			return nil
		}
		cp.Cursor, cp.StoppedAt, cp.Owner = batch.Next, time.Time{}, p.cfg.Owner
		cp.Delivered += int64(len(batch.Events))
		if cp.DeliveredSince.IsZero() {
			// The progress of a new checkpoint starts with its first batch,
			// by the database's clock, so that its rate counts that batch's
			// time too.
			cp.DeliveredSince = cp.ClaimedAt
		}
		if !afterFailure {
			// The events before a failing one succeeding is no success of
			// the failing one: its attempts keep counting.
			cp.FailedAttempts = 0
		}
		if err := p.store.SaveCheckpoint(ctx, tx, cp); err != nil {
			return err // the store's error names the consumer and the save
		}
		l.hasAhead = false
		return nil
	})
	l.retryLimit = 0 // runLoop sets it again after a handler failure
	return report, err
}

// idleSaveInterval is how long a consumer that delivers nothing goes
// without saving the cursor it moved on to. Saving it now and then keeps
// the stored snapshot recent for other processes taking over and for lag,
// while an idle consumer stays almost silent.
const idleSaveInterval = time.Minute

// settle drops the pending writers that next's snapshot no longer lists as
// running: they committed or rolled back, and the batch saw their events.
// A writer pending for longer than pendingFor is dropped too: a payload
// may name ids of another store on the same channel, which this one never
// sees end; the poll interval covers those.
func (p *Processor[TX]) settle(l *loop[TX], next core.Cursor) {
	l.wakeMu.Lock()
	woken := l.wokenBy
	l.wokenBy = nil
	l.wakeMu.Unlock()
	now := time.Now()
	for _, id := range woken {
		if l.pending == nil {
			l.pending = make(map[int64]time.Time)
		}
		if _, ok := l.pending[id]; !ok {
			l.pending[id] = now
		}
	}
	snap := next.Snapshot
	if next.Paging() {
		snap = next.Upper
	}
	for id, since := range l.pending {
		if snap.Visible(id) || now.Sub(since) > pendingFor {
			delete(l.pending, id)
		}
	}
}

// pendingFor bounds how long a loop polls quickly for a writer a wakeup
// named.
const pendingFor = time.Minute

// batchReport is a BatchReport, the batch size it was read with, and
// whether the batch saw an append in flight (core.ConsumerBatch.Writing);
// owner names the process a partition was found taken over by.
type batchReport struct {
	BatchReport
	limit   int
	writing bool
	owner   string
}

// errNotOwned: a partition's checkpoint names another owner: balancing
// gave it to another process.
var errNotOwned = errors.New("partition owned by another process")

// failure is a failed batch: the handler's error (handler true, position
// the failing event's) or any other (a claim, read, save or commit that
// failed, also one failing because the handler swallowed an SQL error and
// left the transaction aborted).
type failure struct {
	err      error
	position int64
	handler  bool
}

// recordFailure stores a failed attempt with the consumer's checkpoint, in
// its own transaction since the batch's was rolled back, dated by the
// database's clock.
func (p *Processor[TX]) recordFailure(ctx context.Context, l *loop[TX], f failure, started time.Time) (attempts int, stopped bool, err error) {
	err = inTx(ctx, p.store, func(tx TX) error {
		cp, claimed, err := p.store.ClaimCheckpoint(ctx, tx, l.name)
		if err != nil {
			return err
		}
		if !claimed || l.takenOver(cp, p.cfg.Owner) {
			return nil // another process has it now, and counts its own attempts
		}
		if !cp.StoppedAt.IsZero() && !cp.StoppedAt.After(started) {
			// Stopped before this Run: the restart grants a fresh set of attempts.
			cp.FailedAttempts, cp.StoppedAt = 0, time.Time{}
		}
		if l.hasAhead && cp.Cursor.Equal(l.aheadOf) && cp.UpdatedAt.Equal(l.aheadOfSaved) {
			cp.Cursor = l.ahead // keep what the idle batches reached
		}
		cp.FailedAttempts++
		cp.LastError, cp.LastErrorPosition, cp.LastErrorAt = f.err.Error(), f.position, cp.ClaimedAt
		cp.Owner = p.cfg.Owner
		if p.cfg.MaxAttempts > 0 && cp.FailedAttempts >= p.cfg.MaxAttempts {
			cp.StoppedAt = cp.ClaimedAt
			stopped = true
		}
		attempts = cp.FailedAttempts
		if err := p.store.SaveCheckpoint(ctx, tx, cp); err != nil {
			return err
		}
		l.hasAhead = false
		return nil
	})
	return attempts, stopped, err
}

// safeHandle turns a panic in Handle into an error, so one consumer's bug
// does not crash the process.
func safeHandle[TX any](ctx context.Context, c Consumer[TX], tx TX, e core.PersistedEvent) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic handling event at position %d: %v\n%s", e.GlobalPosition, r, debug.Stack())
		}
	}()
	return c.Handle(ctx, tx, e)
}

// inTx runs fn in a transaction of store, committing when fn returns nil
// and rolling back otherwise (also when ctx was cancelled).
func inTx[TX any](ctx context.Context, store core.ConsumerStore[TX], fn func(tx TX) error) error {
	tx, err := store.Begin(ctx)
	if err != nil {
		return err // the store's errors name the operation
	}
	if err := fn(tx); err != nil {
		_ = store.Rollback(context.WithoutCancel(ctx), tx)
		return err
	}
	if err := store.Commit(ctx, tx); err != nil {
		_ = store.Rollback(context.WithoutCancel(ctx), tx)
		return err
	}
	return nil
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
