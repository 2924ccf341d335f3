package consumer

import (
	"context"
	"fmt"

	"github.com/chronicle-go/chronicle/core"
)

// Operations inspects and steers consumers through their checkpoints. It
// works whether or not a Processor runs, in this or another process.
//
// Every method that takes a consumer name rejects, before any I/O, a name
// PostgreSQL cannot store (empty, with a NUL byte, invalid UTF-8) with a
// *core.InvalidArgumentError; see core.ValidateConsumerName.
type Operations[TX any] struct {
	store core.ConsumerStore[TX]
}

// NewOperations returns Operations over an adapter's consumer storage port.
func NewOperations[TX any](store core.ConsumerStore[TX]) *Operations[TX] {
	return &Operations[TX]{store: store}
}

// Status describes one consumer.
type Status struct {
	core.Checkpoint
	// Behind counts the committed events after the consumer's cursor (of its
	// aggregate types, when known): its lag in events.
	Behind int64
	// Held reports whether some process is inside a batch of the consumer
	// right now (holding its checkpoint row).
	Held bool
	// Stopped reports whether the consumer stopped after repeated failures.
	Stopped bool
}

// Status returns the status of every consumer with a checkpoint, ordered
// by name. Behind counts events of every aggregate type: Operations does
// not know consumers' scopes (Processor.Status does).
func (o *Operations[TX]) Status(ctx context.Context) ([]Status, error) {
	return o.status(ctx, nil)
}

func (o *Operations[TX]) status(ctx context.Context, scopes map[string][]string) (out []Status, err error) {
	err = inTx(ctx, o.store, func(tx TX) error {
		cps, held, err := o.store.Checkpoints(ctx, tx)
		if err != nil {
			return err // the store's errors name the operation
		}
		out = make([]Status, len(cps))
		for i, cp := range cps {
			behind, err := o.store.CountEventsAfter(ctx, tx, cp.Cursor, scopes[cp.ConsumerName])
			if err != nil {
				return fmt.Errorf("consumer %q: %w", cp.ConsumerName, err)
			}
			out[i] = Status{Checkpoint: cp, Behind: behind, Held: held[i], Stopped: !cp.StoppedAt.IsZero()}
		}
		return nil
	})
	return out, err
}

// FrontierHolders lists the transactions holding every consumer back,
// oldest first: while one of them runs, no consumer passes its
// transaction id. A long-running one is the usual cause of consumer lag.
func (o *Operations[TX]) FrontierHolders(ctx context.Context) (holders []core.FrontierHolder, err error) {
	err = inTx(ctx, o.store, func(tx TX) error {
		holders, err = o.store.FrontierHolders(ctx, tx)
		return err
	})
	return holders, err
}

// Reset moves a consumer back to the start of the log, so that it replays
// every event, and clears its stopped state. It waits for a batch of that
// consumer in flight to finish. It leaves the consumer's read model alone:
// to clear it in the same transaction, use ResetTx.
func (o *Operations[TX]) Reset(ctx context.Context, consumer string) error {
	return o.SetCursor(ctx, consumer, core.Cursor{})
}

// ResetTx rewinds a consumer to the start of the log and clears its read
// model, both in the caller's transaction tx, so that they commit together
// and the consumer then rebuilds the read model from every event.
//
// The order is what makes it safe while the consumer runs, here or in
// another process: ResetTx first takes the consumer's checkpoint row,
// waiting for a batch in flight to commit or roll back — from then on no
// batch of the consumer can start until tx ends — and only then calls
// clearReadModel(ctx, tx), which must empty the read model through tx.
// Clearing first would be wrong: under READ COMMITTED a DELETE does not see
// the rows of a batch that commits while it waits, so they would survive,
// and the replay would count that batch twice.
//
// clearReadModel must not be nil (core.ErrInvalidArgument); use Reset for a
// consumer without a read model to clear. Its error is returned wrapped,
// and tx should then be rolled back. ResetTx neither commits nor rolls back
// tx. Like Reset, it clears the consumer's stopped state.
func (o *Operations[TX]) ResetTx(ctx context.Context, tx TX, consumer string, clearReadModel func(ctx context.Context, tx TX) error) error {
	if err := core.ValidateConsumerName(consumer); err != nil {
		return err
	}
	if clearReadModel == nil {
		return &core.InvalidArgumentError{Argument: "clearReadModel", Reason: "must not be nil: ResetTx clears the read model once it holds the checkpoint; use Reset to only rewind"}
	}
	if err := o.store.SetCheckpoint(ctx, tx, consumer, core.Cursor{}); err != nil {
		return err
	}
	if err := clearReadModel(ctx, tx); err != nil {
		return fmt.Errorf("error clearing the read model of consumer %q: %w", consumer, err)
	}
	return nil
}

// StartFromNow moves a consumer to the current end of the log: it will
// handle only events committed from now on.
func (o *Operations[TX]) StartFromNow(ctx context.Context, consumer string) error {
	if err := core.ValidateConsumerName(consumer); err != nil {
		return err
	}
	return inTx(ctx, o.store, func(tx TX) error {
		frontier, err := o.store.Frontier(ctx, tx)
		if err != nil {
			return err
		}
		return o.store.SetCheckpoint(ctx, tx, consumer, core.Cursor{TransactionOrder: frontier})
	})
}

// SetCursor moves a consumer to the given cursor (see core.ParseCursor) and
// clears its stopped state. A cursor beyond the frontier is rejected with
// core.ErrInvalidArgument: events committed later could sort below it.
func (o *Operations[TX]) SetCursor(ctx context.Context, consumer string, at core.Cursor) error {
	if err := core.ValidateConsumerName(consumer); err != nil {
		return err
	}
	return inTx(ctx, o.store, func(tx TX) error {
		frontier, err := o.store.Frontier(ctx, tx)
		if err != nil {
			return err
		}
		if at.TransactionOrder > frontier {
			// Events committed later may sort below such a cursor and
			// would be skipped.
			return &core.InvalidArgumentError{Argument: "cursor", Reason: fmt.Sprintf(
				"%s is beyond the frontier %d; use StartFromNow to skip to the end of the log", at, frontier)}
		}
		if err := o.store.SetCheckpoint(ctx, tx, consumer, at); err != nil {
			return err
		}
		return nil
	})
}

// CheckTransactionOrder returns the transaction order status, and a
// *core.TransactionOrderMovedError when the log is ahead of the database
// (it was restored or moved into another cluster).
func (o *Operations[TX]) CheckTransactionOrder(ctx context.Context) (st core.OrderStatus, err error) {
	err = inTx(ctx, o.store, func(tx TX) error {
		st, err = o.store.TransactionOrder(ctx, tx)
		return err
	})
	if err == nil && st.Moved() {
		err = &core.TransactionOrderMovedError{Status: st}
	}
	return st, err
}

// RecoverTransactionOrder is the supported recovery after a restore into
// another cluster: it raises the order offset so that new transaction
// orders and the frontier continue above every stored one. Stop all
// writers and processors first; consumers keep their cursors and resume
// where they were. It is a no-op when the order has not moved.
func (o *Operations[TX]) RecoverTransactionOrder(ctx context.Context) (st core.OrderStatus, err error) {
	err = inTx(ctx, o.store, func(tx TX) error {
		st, err = o.store.RaiseOrderOffset(ctx, tx)
		return err
	})
	return st, err
}

// Status returns the status of the processor's consumers, in the order
// given to NewProcessor, including those without a checkpoint yet, with
// Behind counted within each consumer's scope.
func (p *Processor[TX]) Status(ctx context.Context) ([]Status, error) {
	scopes := make(map[string][]string, len(p.consumers))
	for _, l := range p.consumers {
		scopes[l.name] = l.types
	}
	all, err := NewOperations(p.store).status(ctx, scopes)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]Status, len(all))
	for _, s := range all {
		byName[s.ConsumerName] = s
	}
	out := make([]Status, len(p.consumers))
	for i, l := range p.consumers {
		s, ok := byName[l.name]
		if !ok {
			s = Status{Checkpoint: core.Checkpoint{ConsumerName: l.name}}
			if err := inTx(ctx, p.store, func(tx TX) (err error) {
				s.Behind, err = p.store.CountEventsAfter(ctx, tx, core.Cursor{}, l.types)
				return err
			}); err != nil {
				return nil, err
			}
		}
		out[i] = s
	}
	return out, nil
}
