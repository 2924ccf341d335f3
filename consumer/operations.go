package consumer

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/chronicle-go/chronicle/core"
)

// Operations inspects and steers consumers through their checkpoints. It
// works whether or not a Processor runs, in this or another process.
//
// Reset, ResetTx, StartFromNow, SetCursor and Delete given the name of a
// partitioned consumer act on all its partitions' checkpoints in one
// transaction; given one partition's checkpoint name ("orders[3/8]"), on
// that partition alone.
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
	// Behind counts the committed events the consumer has not delivered (of
	// its aggregate types, when known): its lag in events. Exact up to
	// core.LagExactLimit, estimated beyond (BehindEstimated).
	Behind          int64
	BehindEstimated bool
	// OldestBehind is when the oldest of the counted undelivered events was
	// created (Event.CreatedAt); zero when the consumer is caught up.
	OldestBehind time.Time
	// WaitingFor lists the transactions the consumer's stored cursor counts
	// as running that still run in this database, oldest first: if they
	// appended events, the consumer delivers them when they commit. They
	// hold back nothing else — every committed event is delivered whatever
	// else runs. A long-running one is worth a look (pid, age, query).
	WaitingFor []core.Writer
	// Held reports whether some process is inside a batch of the consumer
	// right now (holding its lease).
	Held bool
	// Stopped reports whether the consumer stopped after repeated failures.
	Stopped bool
	// OwnerPresent reports whether the process named by Owner still runs: a
	// session holds its presence (a running Processor does; see
	// core.ConsumerStore.HoldPresence). False when Owner is "" or when that
	// process stopped, crashed or lost its connection: the owner is gone,
	// and its last error and attempts are history, not a retry in progress.
	// A partition's Owner is the process it is assigned to.
	OwnerPresent bool
	// Consumer is the consumer's name and Partition the partition this
	// checkpoint holds, for a partitioned consumer ("orders" and 3/8 for
	// the checkpoint "orders[3/8]"); for any other Consumer is ConsumerName
	// and Partition the zero value.
	Consumer  string
	Partition core.Partition
	// Rate is the average events handled per second since the cursor was
	// last set (Delivered over the time from DeliveredSince to UpdatedAt):
	// a rebuild's speed. 0 before the first events.
	Rate float64
	// ETA estimates how long catching up takes at Rate: Behind / Rate; 0
	// when caught up or when Rate is 0.
	ETA time.Duration
}

// progress fills s's Consumer, Partition, Rate and ETA.
func (s *Status) progress() {
	s.Consumer, s.Partition, _ = core.ParsePartitionCheckpointName(s.ConsumerName)
	s.Rate, s.ETA = 0, 0
	if span := s.UpdatedAt.Sub(s.DeliveredSince); span > 0 && s.Delivered > 0 {
		s.Rate = float64(s.Delivered) / span.Seconds()
	}
	if s.Rate > 0 && s.Behind > 0 {
		s.ETA = time.Duration(float64(s.Behind) / s.Rate * float64(time.Second))
	}
}

// Status returns the status of every checkpoint, ordered by name: one per
// consumer, one per partition of a partitioned consumer. Behind counts
// events of every aggregate type within the checkpoint's partition:
// Operations does not know consumers' aggregate types (Processor.Status
// does). Its cost does not grow with the lag (see core.ConsumerStore.Lag).
func (o *Operations[TX]) Status(ctx context.Context) ([]Status, error) {
	return o.status(ctx, nil)
}

func (o *Operations[TX]) status(ctx context.Context, scopes map[string]core.ConsumerScope) (out []Status, err error) {
	err = inTx(ctx, o.store, func(tx TX) error {
		cps, held, err := o.store.Checkpoints(ctx, tx)
		if err != nil {
			return err // the store's errors name the operation
		}
		owners := make([]string, len(cps))
		for i, cp := range cps {
			owners[i] = cp.Owner
		}
		present, err := o.store.OwnersPresent(ctx, tx, owners)
		if err != nil {
			return err
		}
		out = make([]Status, len(cps))
		for i, cp := range cps {
			s := Status{Checkpoint: cp, Held: held[i], Stopped: !cp.StoppedAt.IsZero(), OwnerPresent: present[i]}
			scope, known := scopes[cp.ConsumerName]
			if !known {
				_, scope.Partition, _ = core.ParsePartitionCheckpointName(cp.ConsumerName)
			}
			if err := o.describe(ctx, tx, &s, scope); err != nil {
				return err
			}
			out[i] = s
		}
		return nil
	})
	return out, err
}

// describe fills the lag, the progress and the writers waited for of s
// from its cursor.
func (o *Operations[TX]) describe(ctx context.Context, tx TX, s *Status, scope core.ConsumerScope) error {
	lag, err := o.store.Lag(ctx, tx, s.Cursor, scope)
	if err != nil {
		return fmt.Errorf("consumer %q: %w", s.ConsumerName, err)
	}
	s.Behind, s.BehindEstimated, s.OldestBehind = lag.Events, lag.Estimated, lag.Oldest
	s.progress()
	ids := append(slices.Clone(s.Cursor.Snapshot.Xip), s.Cursor.Upper.Xip...)
	if s.WaitingFor, err = o.store.Writers(ctx, tx, ids); err != nil {
		return fmt.Errorf("consumer %q: %w", s.ConsumerName, err)
	}
	return nil
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
	if err := o.setAll(ctx, tx, consumer, core.Cursor{}); err != nil {
		return err
	}
	if err := clearReadModel(ctx, tx); err != nil {
		return fmt.Errorf("error clearing the read model of consumer %q: %w", consumer, err)
	}
	return nil
}

// StartFromNow moves a consumer to the current snapshot: it skips exactly
// the events whose writers are visible now, and handles every event
// committed from now on, whatever else runs meanwhile. It waits for a
// batch of the consumer in flight to end.
func (o *Operations[TX]) StartFromNow(ctx context.Context, consumer string) error {
	if err := core.ValidateConsumerName(consumer); err != nil {
		return err
	}
	return inTx(ctx, o.store, func(tx TX) error {
		now, err := o.store.CurrentSnapshot(ctx, tx)
		if err != nil {
			return err
		}
		return o.setAll(ctx, tx, consumer, core.Cursor{Snapshot: now})
	})
}

// SetCursor moves a consumer to the given cursor (see core.ParseCursor) and
// clears its stopped state. A cursor that counts as delivered anything not
// yet visible now is rejected with core.ErrInvalidArgument: events of those
// writers would be skipped. It waits for a batch of the consumer in flight
// to end.
func (o *Operations[TX]) SetCursor(ctx context.Context, consumer string, at core.Cursor) error {
	if err := core.ValidateConsumerName(consumer); err != nil {
		return err
	}
	if err := at.Validate(); err != nil {
		return err
	}
	return inTx(ctx, o.store, func(tx TX) error {
		now, err := o.store.CurrentSnapshot(ctx, tx)
		if err != nil {
			return err
		}
		if !now.Contains(at.Snapshot) || (at.Paging() && !now.Contains(at.Upper)) {
			return &core.InvalidArgumentError{Argument: "cursor", Reason: fmt.Sprintf(
				"%s is after the current snapshot %s: it counts transactions as delivered that are still running or yet to come; "+
					"use StartFromNow to skip to now", at, now)}
		}
		return o.setAll(ctx, tx, consumer, at)
	})
}

// Delete removes a consumer's checkpoint: a consumer that no longer runs
// disappears from Status, and one that runs again starts from the start of
// the log. It waits for a batch of the consumer in flight to end. deleted
// is false when the consumer had no checkpoint.
func (o *Operations[TX]) Delete(ctx context.Context, consumer string) (deleted bool, err error) {
	if err := core.ValidateConsumerName(consumer); err != nil {
		return false, err
	}
	err = inTx(ctx, o.store, func(tx TX) error {
		names, err := o.checkpointsOf(ctx, tx, consumer)
		if err != nil {
			return err
		}
		for _, name := range names {
			d, err := o.store.DeleteCheckpoint(ctx, tx, name)
			if err != nil {
				return err
			}
			deleted = deleted || d
		}
		return nil
	})
	return deleted, err
}

// checkpointsOf returns the checkpoints an operation on consumer acts on:
// consumer's own, or, when it has none and is a partitioned consumer, the
// checkpoints of all its partitions (core.PartitionCheckpointName), so that
// resetting or deleting "orders" acts on every "orders[i/n]" at once. A
// name of one partition acts on that partition alone.
func (o *Operations[TX]) checkpointsOf(ctx context.Context, tx TX, consumer string) ([]string, error) {
	cps, _, err := o.store.Checkpoints(ctx, tx)
	if err != nil {
		return nil, err
	}
	var parts []string
	for _, cp := range cps {
		if cp.ConsumerName == consumer {
			return []string{consumer}, nil
		}
		if name, _, ok := core.ParsePartitionCheckpointName(cp.ConsumerName); ok && name == consumer {
			parts = append(parts, cp.ConsumerName)
		}
	}
	if len(parts) == 0 {
		return []string{consumer}, nil
	}
	return parts, nil
}

// setAll moves every checkpoint of consumer (see checkpointsOf) to at.
func (o *Operations[TX]) setAll(ctx context.Context, tx TX, consumer string, at core.Cursor) error {
	names, err := o.checkpointsOf(ctx, tx, consumer)
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := o.store.SetCheckpoint(ctx, tx, name, at); err != nil {
			return err
		}
	}
	return nil
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
// another cluster: it raises the order offset so that new writers' ids
// continue above every stored id and cursor. Run it as the tables' owner
// (no superuser needed), with every writer and processor stopped;
// consumers keep their cursors and resume where they were. It is a no-op
// when the order has not moved. Until it runs, appends fail with
// core.ErrTransactionOrderMoved rather than land behind a cursor.
func (o *Operations[TX]) RecoverTransactionOrder(ctx context.Context) (st core.OrderStatus, err error) {
	err = inTx(ctx, o.store, func(tx TX) error {
		st, err = o.store.RaiseOrderOffset(ctx, tx)
		return err
	})
	return st, err
}

// Status returns the status of the processor's consumers, in the order
// given to NewProcessor — a partitioned consumer's partitions one after
// the other, in partition order — including those without a checkpoint
// yet, with Behind counted within each consumer's scope.
func (p *Processor[TX]) Status(ctx context.Context) ([]Status, error) {
	scopes := make(map[string]core.ConsumerScope, len(p.consumers))
	for _, l := range p.consumers {
		scopes[l.name] = l.scope
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
			ops := NewOperations(p.store)
			if err := inTx(ctx, p.store, func(tx TX) error { return ops.describe(ctx, tx, &s, l.scope) }); err != nil {
				return nil, err
			}
		}
		out[i] = s
	}
	return out, nil
}
