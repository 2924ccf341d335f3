package consumer

import (
	"context"

	"github.com/chronicle-go/chronicle/core"
)

// Consumer processes the events of the global log, in order, exactly once
// per committed event as far as its transaction is concerned.
//
// Contract:
//   - Name identifies the consumer's checkpoint. It must be stable across
//     restarts and unique among the consumers of one store; renaming a
//     consumer starts it from the beginning of the log.
//   - Handle runs inside the processor's transaction tx, which also stores
//     the consumer's checkpoint. Write the consumer's effects (a read model,
//     an outbox) through tx: they commit together with the checkpoint, so
//     they happen exactly once. Effects outside tx (an HTTP call, a message
//     to a broker) happen at least once: a batch that fails or whose process
//     dies is handled again. Handle must not commit or roll back tx.
//   - Events arrive in cursor order: every aggregate's events in version
//     order, each event once, none skipped. Events of different aggregates
//     may interleave in any order consistent with that.
//   - A returned error (or a panic) rolls back the whole batch, effects and
//     checkpoint, and the batch is retried with exponential backoff: the
//     retry first handles and commits, as a batch of their own, the events
//     before the failing one, then retries from the failing event. After
//     the processor's MaxAttempts consecutive failures the consumer stops,
//     its error and the failing event's position recorded with its
//     checkpoint, while other consumers continue.
//   - ctx is cancelled when the processor stops; Handle should return
//     promptly then. The batch is rolled back and handled again later.
//   - Handle is never called concurrently for one consumer.
type Consumer[TX any] interface {
	Name() string
	Handle(ctx context.Context, tx TX, event core.PersistedEvent) error
}

// ScopedConsumer is a Consumer that only wants events of some aggregate
// types. The filter runs in the database; the consumer's cursor still
// advances past the events it does not receive. An empty AggregateTypes
// means every type.
type ScopedConsumer[TX any] interface {
	Consumer[TX]
	AggregateTypes() []string
}

// aggregateTypesOf returns c's scope, or nil for every type.
func aggregateTypesOf[TX any](c Consumer[TX]) []string {
	if s, ok := c.(ScopedConsumer[TX]); ok {
		return append([]string(nil), s.AggregateTypes()...)
	}
	return nil
}
