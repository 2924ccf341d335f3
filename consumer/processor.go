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

	// next is what the loop knows of its stored checkpoint, when hasNext
	// is set: the cursor it last saved (next.Expect, From the same), or
	// the stored cursor and UpdatedAt it last claimed with the cursor it
	// moved on to without saving (next.From: batches that deliver nothing
	// move the cursor only in memory, so that an idle consumer writes
	// nothing). The loop reads from next.From only while the stored
	// checkpoint is still next's (core.BatchRead), so that a batch of
	// another process, or an operation, always wins; while its last claim
	// got the lease (claimed), the claim reads that batch in its own round
	// trip. A standby, refused by another process's lease, reads nothing it
	// would discard. Only the consumer's goroutine uses them.
	next             core.BatchRead
	hasNext, claimed bool
	// carried is the next batch's transaction and claim, begun with the
	// last batch's commit (core.ConsumerStore.CommitAndBegin) when that
	// batch was full and the loop is its group's only one, so that its next
	// step runs it; runGroup rolls back one left when it returns. Only the
	// consumer's goroutine uses it.
	carried *carriedBatch[TX]

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
	started, err := p.checkStart(ctx)
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
	batchCtx, endBatches := afterGrace(ctx, stopGrace)
	defer endBatches()

	var wg sync.WaitGroup
	wg.Go(func() { p.listen(ctx) })
	wg.Go(func() { p.holdPresence(ctx) })
	for _, g := range p.groups {
		wg.Go(func() {
			if err := p.runGroup(ctx, batchCtx, g, started); err != nil {
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

// checkStart runs the checks before the first batch, in one transaction:
// it fails when the log was moved into another cluster, or when a
// consumer's stored checkpoints have another partition count than it
// declares, and returns the database's clock otherwise: the Run's start,
// which stop decisions compare with StoppedAt, both on the database's
// clock. Each loop learns its stored checkpoint, so that its first claim
// reads its first batch in the same round trip.
func (p *Processor[TX]) checkStart(ctx context.Context) (started time.Time, err error) {
	err = inTx(ctx, p.store, func(tx TX) error {
		st, err := p.store.TransactionOrder(ctx, tx)
		if err != nil {
			return fmt.Errorf("error checking the transaction order: %w", err)
		}
		if st.Moved() {
			return &core.TransactionOrderMovedError{Status: st}
		}
		started = st.CheckedAt
		cps, _, err := p.store.Checkpoints(ctx, tx)
		if err != nil {
			return fmt.Errorf("error checking the consumers' partitions: %w", err)
		}
		stored := make(map[string]core.Checkpoint, len(cps))
		for _, cp := range cps {
			for _, g := range p.groups {
				if err := g.layout(cp.ConsumerName); err != nil {
					return err
				}
			}
			stored[cp.ConsumerName] = cp
		}
		for _, l := range p.consumers {
			// A consumer never saved expects the zero cursor, which a
			// never-saved checkpoint has.
			cp := stored[l.name]
			l.next = core.BatchRead{Expect: cp.Cursor, ExpectSaved: cp.UpdatedAt, From: cp.Cursor}
			l.hasNext, l.claimed, l.carried = true, true, nil
		}
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
func (p *Processor[TX]) step(ctx, batchCtx context.Context, l *loop[TX], started time.Time) error {
	log := p.cfg.Logger
	retrying := l.retryLimit > 0
	l.health.batchStarted()
	report, err := p.processBatch(ctx, batchCtx, l, started)
	now := time.Now()
	l.due, l.backoff = now, false
	switch {
	case err == nil:
		// Also a batch that committed while Run was stopping: it counts.
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
	case ctx.Err() != nil:
		return nil
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

// stopGrace is how long the store's statements of a batch in flight may
// take once Run's context has ended. Cancelling a statement makes the
// driver close its connection: a stop would cost the pool a connection per
// running consumer, and the next Run a new server session, slow to warm.
// Handle sees Run's context itself, and no batch starts after it ended.
const stopGrace = 5 * time.Second

// afterGrace returns a context with ctx's values that ends grace after
// ctx does, and a function ending it at once.
func afterGrace(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	graced, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(grace, cancel)
		context.AfterFunc(graced, func() { t.Stop() })
	})
	return graced, func() { stop(); cancel() }
}

// withValues is a context ending as its Context does, with the values of
// values: a batch's store statements run with the hook's values (its
// span) and the stop grace of the Run's batchCtx.
type withValues struct {
	context.Context
	values context.Context
}

func (c withValues) Value(key any) any { return c.values.Value(key) }

// processBatch runs one batch transaction for l: its store statements
// with batchCtx (see stopGrace), Handle with ctx.
func (p *Processor[TX]) processBatch(ctx, batchCtx context.Context, l *loop[TX], started time.Time) (report batchReport, err error) {
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
	var (
		saved   core.Cursor
		didSave bool
	)
	saveCtx := batchCtx // the save's: the hook's values, batchCtx's end
	// The claim gives the transaction no transaction id, which the batch
	// statement's snapshot needs (see core.ConsumerStore). While the last
	// claim got the lease, the claim reads the batch after the cursor the
	// loop expects, in the same round trip.
	var read *core.BatchRead
	if l.hasNext && l.claimed {
		read = &core.BatchRead{Expect: l.next.Expect, ExpectSaved: l.next.ExpectSaved, From: l.next.From, Scope: l.scope, Limit: report.limit}
	}
	err = p.inBatchTx(ctx, batchCtx, &saveCtx, l, read, afterFailure, func(tx TX, cb core.ClaimedBatch) (*core.Checkpoint, error) {
		l.claimed = cb.Claimed
		if !cb.Claimed {
			return nil, errNotClaimed
		}
		cp := cb.Checkpoint
		if !cp.StoppedAt.IsZero() && cp.StoppedAt.After(started) {
			return nil, errStoppedElsewhere
		}
		if l.takenOver(cp, p.cfg.Owner) {
			report.owner = cp.Owner
			return nil, errNotOwned
		}
		from, batch := cp.Cursor, cb.Batch
		if l.hasNext && l.next.Expects(cp) {
			from = l.next.From
		}
		if !cb.Read {
			if batch, err = p.store.ReadConsumerBatch(batchCtx, tx, from, l.scope, report.limit); err != nil {
				return nil, fmt.Errorf("consumer %q: %w", l.name, err)
			}
		}
		if len(batch.Events) > 0 && p.cfg.OnBatchStart != nil {
			// From here on the batch runs with the hook's context: its
			// Handle calls and the checkpoint save.
			hctx, hend := p.cfg.OnBatchStart(ctx, BatchStart{Consumer: l.name, Events: len(batch.Events), From: from, Started: began})
			if hctx != nil {
				ctx, saveCtx = hctx, withValues{Context: batchCtx, values: hctx}
			}
			end = hend
		}
		for i, e := range batch.Events {
			if err := safeHandle(ctx, l.consumer, tx, e); err != nil {
				return nil, &handlerError{position: e.GlobalPosition, index: i, err: err}
			}
		}
		p.settle(l, batch.Next)
		report.From, report.To, report.Events, report.writing = from, batch.Next, len(batch.Events), batch.Writing
		failed := cp.FailedAttempts != 0 || !cp.StoppedAt.IsZero()
		stale := cp.ClaimedAt.Sub(cp.UpdatedAt) >= idleSaveInterval && !batch.Next.Equal(cp.Cursor)
		if len(batch.Events) == 0 && !cp.UpdatedAt.IsZero() && !failed && !stale {
			// Nothing delivered: move on in memory only, so that an idle
			// consumer writes nothing.
			l.next = core.BatchRead{Expect: cp.Cursor, ExpectSaved: cp.UpdatedAt, From: batch.Next}
			l.hasNext = true
			return nil, nil
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
		l.hasNext, saved, didSave = false, cp.Cursor, true
		return &cp, nil // the store's error names the consumer and the save
	})
	if err == nil && didSave {
		l.next, l.hasNext = core.BatchRead{Expect: saved, From: saved}, true
	}
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
		if l.hasNext && l.next.Expects(cp) {
			cp.Cursor = l.next.From // keep what the idle batches reached
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
		l.hasNext = false
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

// carriedBatch is a batch begun with the previous one's commit.
type carriedBatch[TX any] struct {
	tx TX
	cb core.ClaimedBatch
}

// inBatchTx is inTx for a batch of l: it begins with the consumer's claim
// and read (core.ConsumerStore's BeginBatch), or takes the batch carried
// over from the last one, fn returns the checkpoint to save, if any, and
// the save goes with the commit (CommitCheckpoint), each one round trip
// where the store can. A full batch of its group's only loop, whose next
// batch is due at once, commits with CommitAndBegin instead: the next
// batch's claim and read go in the same round trip, and l carries its
// transaction. The store's statements run with ctx and the save with the
// context *saveCtx holds once fn returned (see stopGrace); a batch whose
// Run ended (runCtx) before the save is rolled back, even if its Handle
// calls ignored that.
func (p *Processor[TX]) inBatchTx(runCtx, ctx context.Context, saveCtx *context.Context, l *loop[TX], read *core.BatchRead, afterFailure bool,
	fn func(tx TX, cb core.ClaimedBatch) (*core.Checkpoint, error)) error {
	var (
		tx  TX
		cb  core.ClaimedBatch
		err error
	)
	if c := l.carried; c != nil {
		l.carried = nil
		tx, cb = c.tx, c.cb
	} else if tx, cb, err = p.store.BeginBatch(ctx, l.name, read); err != nil {
		return err // the store's errors name the consumer and the claim
	}
	save, err := fn(tx, cb)
	if err == nil && runCtx.Err() != nil {
		err = runCtx.Err()
	}
	if err == nil {
		switch {
		case save != nil && p.chains(l, save, afterFailure):
			next := &core.BatchRead{Expect: save.Cursor, From: save.Cursor, Scope: l.scope, Limit: p.cfg.BatchSize}
			ntx, ncb, committed, cerr := p.store.CommitAndBegin(*saveCtx, tx, *save, l.name, next)
			switch {
			case !committed:
				err = cerr
			case cerr == nil:
				l.carried = &carriedBatch[TX]{tx: ntx, cb: ncb}
			default:
				// Committed; the next batch begins on its own, and meets
				// the failure itself if it lasts.
				p.cfg.Logger.DebugContext(ctx, "beginning the next batch with the commit failed", "consumer", l.name, "error", cerr)
			}
		case save != nil:
			err = p.store.CommitCheckpoint(*saveCtx, tx, *save)
		default:
			err = p.store.Commit(*saveCtx, tx)
		}
	}
	if err != nil {
		_ = p.store.Rollback(context.WithoutCancel(ctx), tx)
		return err
	}
	return nil
}

// chains reports whether l's batch saving cp begins the next one with its
// commit: a full batch, or a page of a step, whose next batch is due at
// once, of an unpartitioned consumer (the only loop of its group, so that
// the next step is its own) not retrying after a failure.
func (p *Processor[TX]) chains(l *loop[TX], cp *core.Checkpoint, afterFailure bool) bool {
	return !afterFailure && l.group.partitions == 0 && len(l.group.loops) == 1 && cp.Cursor.Paging()
}

// dropCarried rolls back a batch l carries and will not run.
func (p *Processor[TX]) dropCarried(ctx context.Context, l *loop[TX]) {
	if c := l.carried; c != nil {
		l.carried = nil
		_ = p.store.Rollback(context.WithoutCancel(ctx), c.tx)
	}
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
