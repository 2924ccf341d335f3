// Package consumer runs consumers and projections off Chronicle's global
// log, gap-free by construction.
//
// A [Consumer] handles events one at a time inside a transaction the
// [Processor] owns. A consumer's cursor is a PostgreSQL snapshot: the set
// of transactions whose events it has delivered. Each batch is one
// statement that takes the current snapshot and selects the events whose
// writers it sees and the cursor's snapshot did not, in global position
// order; the current snapshot becomes the new cursor. A later snapshot sees
// every transaction an earlier one saw, so each committed writer's events
// arrive in exactly one batch: no event is skipped, none is delivered
// twice, and each aggregate's events arrive in version order (writers of
// one aggregate serialise on its head row). No timeouts, no gap detection.
//
// Each batch is one transaction: take the consumer's lease (an advisory
// lock, which gives the transaction no transaction id before its snapshot
// is taken), read the batch, Handle every event, store the new cursor,
// commit. The read model and the checkpoint therefore change together, and
// the lease makes each batch run in exactly one process however many run
// the same consumers; if a process dies its transaction aborts and another
// takes over. A consumer with nothing to deliver writes nothing.
//
// Nothing but an event's own uncommitted writer holds a consumer back: a
// long transaction elsewhere — in this database or another, a migration,
// another consumer's slow batch — delays nobody. [Status] names the
// running writers each consumer's cursor still waits for.
//
// A [PartitionedConsumer] splits its events into partitions by aggregate
// ([core.PartitionOf]), each a checkpoint of its own, so that the processes
// running it share the work: each process takes its share of the
// partitions, with no coordinator, and those of a process that dies are
// taken over within a poll interval (see the balancing rule at
// PartitionedConsumer). A new version of a projection rebuilds beside the
// live one; [Status] reports its progress (Delivered, Rate, ETA) and
// [Processor.WaitCaughtUp] says when to switch reads to it.
package consumer
