// Package consumer runs consumers and projections off Chronicle's global
// log, gap-free by construction.
//
// A [Consumer] handles events one at a time inside a transaction the
// [Processor] owns. The processor reads events in cursor order
// (TransactionOrder, GlobalPosition) and only below the frontier — the
// oldest transaction id still running in the database — so an event can
// never commit behind a consumer's cursor: no event is skipped, none is
// delivered twice, and each aggregate's events arrive in version order. No
// timeouts, no gap detection.
//
// Each batch is one transaction: claim the consumer's checkpoint row (FOR
// UPDATE SKIP LOCKED), read the batch, Handle every event, store the new
// cursor, commit. The read model and the checkpoint therefore change
// together, and the row lock is the consumer's lease: run the same
// consumers in several processes and each batch runs in exactly one of
// them; if a process dies its transaction aborts and another takes over.
//
// The cost of the guarantee: a transaction that holds a transaction id for
// long (a long write, SELECT … FOR UPDATE, a session idle in transaction, a
// forgotten prepared transaction) holds every consumer back until it ends.
// [Operations.FrontierHolders] names it.
package consumer
