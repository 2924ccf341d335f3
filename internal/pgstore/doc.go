// Package pgstore is Chronicle's PostgreSQL event store, written once for
// both drivers: the event store ([Store], core.Store[TX]) and the consumer
// storage ([ConsumerStore], core.ConsumerStore[TX]) generic over the
// transaction type, over a small [Executor] and [Transactor] that each
// driver module (adapters/postgres-pgx, adapters/postgres-pq) implements —
// run a statement, scan event rows, encode the append's parameters, listen,
// and read the driver's errors. It also holds every SQL text Chronicle
// sends, as embedded sql/*.sql files, and the schema. It imports no
// database driver, and it is internal: users reach it through the driver
// packages, whose types alias its own.
//
// Every configurable name (schema, tables, notify channel) is validated as
// an identifier (see [ValidateIdentifier]) and always double-quoted, so
// configuration never reaches SQL unvalidated and names keep their case.
//
// The schema ([SchemaSQL]) is idempotent (IF NOT EXISTS throughout) and
// deterministic: the same names give the same bytes. Constraints are named
// explicitly ([ConstraintNames]) so that a driver error can be told apart
// — a duplicate event id from a version clash — by the constraint a unique
// violation names, never by message text.
//
// Transaction order. Each event row carries transaction_order, a bigint:
// pg_current_xact_id() of the writing transaction plus an offset kept in a
// one-row table (default transaction_order_offset), raised to the
// aggregate head's previous transaction_order when that is higher. The
// offset is what lets a log restored into another cluster (whose
// transaction ids start lower) be recovered without pg_resetwal: raise it
// above the highest stored order. It is 0 on a fresh schema.
//
// Consumers read in cursor order, (transaction_order, global_position),
// only below the frontier: the oldest transaction id still running in the
// cluster, plus the offset. Every transaction that can still commit has an
// id at or above it, and every row it writes gets an order at or above its
// id, so nothing can appear behind a cursor taken below the frontier. The
// frontier and the batch come from one statement, hence one snapshot; the
// cursor is compared as a row value so that the (transaction_order,
// global_position) index serves it.
package pgstore
