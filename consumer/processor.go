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
	store     core.ConsumerStore[TX]
	cfg       Config
	consumers []*loop[TX]
	running   sync.Mutex
}

// loop is one consumer's state within a Processor.
type loop[TX any] struct {
	consumer Consumer[TX]
	name     string
	types    []string
	wake     chan struct{}
	// retryLimit, when > 0, caps the next batch after a handler failed on
	// the event at that index of its batch: the events before the failing
	// one then commit on their own (keeping the failure count), and the
	// batch after starts with the failing event. Only the consumer's
	// goroutine uses it.
	retryLimit int
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
		p.consumers = append(p.consumers, &loop[TX]{consumer: c, name: name, types: aggregateTypesOf(c), wake: make(chan struct{}, 1)})
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
	if err := p.checkTransactionOrder(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	started := time.Now()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	var wg sync.WaitGroup
	wg.Go(func() { p.listen(ctx) })
	for _, l := range p.consumers {
		wg.Go(func() {
			if err := p.runLoop(ctx, l, started); err != nil {
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

func (p *Processor[TX]) checkTransactionOrder(ctx context.Context) error {
	return inTx(ctx, p.store, func(tx TX) error {
		st, err := p.store.TransactionOrder(ctx, tx)
		if err != nil {
			return fmt.Errorf("error checking the transaction order: %w", err)
		}
		if st.Moved() {
			return &core.TransactionOrderMovedError{Status: st}
		}
		return nil
	})
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
		p.wakeAll()
	}
}

func (p *Processor[TX]) wakeAll() {
	for _, l := range p.consumers {
		select {
		case l.wake <- struct{}{}:
		default:
		}
	}
}

// errNotClaimed: another transaction holds the consumer's checkpoint.
var errNotClaimed = errors.New("checkpoint held by another process")

// errStoppedElsewhere: the consumer was stopped after this Run started.
var errStoppedElsewhere = errors.New("consumer stopped")

// handlerError is a failure of the consumer's own code, which counts
// towards MaxAttempts (infrastructure errors do not).
type handlerError struct {
	position int64
	// index is the failing event's index in its batch.
	index int
	err   error
}

func (e *handlerError) Error() string { return e.err.Error() }
func (e *handlerError) Unwrap() error { return e.err }

// runLoop runs one consumer until ctx ends or it stops. It returns an error
// only for a failure that must stop the whole processor.
func (p *Processor[TX]) runLoop(ctx context.Context, l *loop[TX], started time.Time) error {
	log := p.cfg.Logger
	infraFailures := 0
	for ctx.Err() == nil {
		report, err := p.processBatch(ctx, l, started)
		switch {
		case ctx.Err() != nil:
			return nil
		case err == nil:
			infraFailures = 0
			if report.Events > 0 || report.From != report.To {
				if p.cfg.OnBatch != nil {
					p.cfg.OnBatch(report.BatchReport)
				}
			}
			if report.Events == report.limit {
				continue // catching up, or past events before a failure: the next batch at once
			}
			p.wait(ctx, l, p.cfg.PollInterval)
		case errors.Is(err, errNotClaimed):
			p.wait(ctx, l, p.cfg.PollInterval)
		case errors.Is(err, errStoppedElsewhere):
			log.InfoContext(ctx, "consumer was stopped by another process after repeated failures", "consumer", l.name)
			return nil
		case errors.Is(err, core.ErrTransactionOrderMoved):
			log.ErrorContext(ctx, "stopping: the event log's transaction order is ahead of the database's", "consumer", l.name, "error", err)
			return err
		default:
			var he *handlerError
			if !errors.As(err, &he) {
				infraFailures++
				log.ErrorContext(ctx, "consumer batch failed; retrying", "consumer", l.name, "error", err, "failures", infraFailures)
				sleep(ctx, p.cfg.backoff(infraFailures))
				continue
			}
			// The next attempt first commits the events before the failing
			// one, so that a consumer stopped by one event has handled
			// everything before it, and its cursor points at that event.
			l.retryLimit = he.index
			attempts, stopped, rerr := p.recordFailure(ctx, l, he, started)
			if rerr != nil {
				log.ErrorContext(ctx, "recording a consumer failure failed", "consumer", l.name, "error", rerr)
			}
			log.ErrorContext(ctx, "consumer handler failed; batch rolled back", "consumer", l.name,
				"position", he.position, "attempt", attempts, "error", he.err)
			if stopped {
				log.ErrorContext(ctx, "consumer stopped after repeated failures; the next Run retries it", "consumer", l.name,
					"attempts", attempts, "error", he.err)
				if p.cfg.OnStop != nil {
					p.cfg.OnStop(l.name, he.err)
				}
				return nil
			}
			sleep(ctx, p.cfg.backoff(max(attempts, 1)))
		}
	}
	return nil
}

// processBatch runs one batch transaction for l.
func (p *Processor[TX]) processBatch(ctx context.Context, l *loop[TX], started time.Time) (report batchReport, err error) {
	report.Consumer = l.name
	report.limit = p.cfg.BatchSize
	afterFailure := l.retryLimit > 0
	if afterFailure {
		report.limit = min(l.retryLimit, p.cfg.BatchSize)
	}
	err = inTx(ctx, p.store, func(tx TX) error {
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
		batch, err := p.store.ReadConsumerBatch(ctx, tx, cp.Cursor, l.types, report.limit)
		if err != nil {
			return fmt.Errorf("consumer %q: %w", l.name, err)
		}
		if batch.Frontier < cp.Cursor.TransactionOrder {
			return &core.TransactionOrderMovedError{Status: core.OrderStatus{StoredMax: cp.Cursor.TransactionOrder, Current: batch.Frontier}}
		}
		for i, e := range batch.Events {
			if err := safeHandle(ctx, l.consumer, tx, e); err != nil {
				return &handlerError{position: e.GlobalPosition, index: i, err: err}
			}
		}
		report.From, report.Events = cp.Cursor, len(batch.Events)
		next := cp.Cursor
		if n := len(batch.Events); n > 0 {
			next = core.CursorOf(batch.Events[n-1])
		}
		if len(batch.Events) < report.limit {
			// Every event below the frontier after the cursor was in this
			// batch, and none can appear there later.
			if f := (core.Cursor{TransactionOrder: batch.Frontier}); next.Compare(f) < 0 {
				next = f
			}
		}
		report.To = next
		if next == cp.Cursor && cp.FailedAttempts == 0 && cp.StoppedAt.IsZero() && cp.Owner == p.cfg.Owner {
			return nil
		}
		cp.Cursor, cp.StoppedAt, cp.Owner = next, time.Time{}, p.cfg.Owner
		if !afterFailure {
			// The events before a failing one succeeding is no success of
			// the failing one: its attempts keep counting.
			cp.FailedAttempts = 0
		}
		if err := p.store.SaveCheckpoint(ctx, tx, cp); err != nil {
			return err // the store's error names the consumer and the save
		}
		return nil
	})
	l.retryLimit = 0 // runLoop sets it again after a handler failure
	return report, err
}

// batchReport is a BatchReport and the batch size it was read with.
type batchReport struct {
	BatchReport
	limit int
}

// recordFailure stores a failed attempt with the consumer's checkpoint, in
// its own transaction since the batch's was rolled back.
func (p *Processor[TX]) recordFailure(ctx context.Context, l *loop[TX], he *handlerError, started time.Time) (attempts int, stopped bool, err error) {
	err = inTx(ctx, p.store, func(tx TX) error {
		cp, claimed, err := p.store.ClaimCheckpoint(ctx, tx, l.name)
		if err != nil {
			return err
		}
		if !claimed {
			return nil // another process has it now, and counts its own attempts
		}
		now := time.Now().UTC()
		if !cp.StoppedAt.IsZero() && !cp.StoppedAt.After(started) {
			// Stopped before this Run: the restart grants a fresh set of attempts.
			cp.FailedAttempts, cp.StoppedAt = 0, time.Time{}
		}
		cp.FailedAttempts++
		cp.LastError, cp.LastErrorPosition, cp.LastErrorAt = he.err.Error(), he.position, now
		cp.Owner = p.cfg.Owner
		if p.cfg.MaxAttempts > 0 && cp.FailedAttempts >= p.cfg.MaxAttempts {
			cp.StoppedAt = now
			stopped = true
		}
		attempts = cp.FailedAttempts
		return p.store.SaveCheckpoint(ctx, tx, cp)
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

func (p *Processor[TX]) wait(ctx context.Context, l *loop[TX], d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-l.wake:
	case <-t.C:
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
