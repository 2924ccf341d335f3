// Package pgstore is Chronicle's PostgreSQL event store, written once for
// both drivers: the event store ([Store], core.Store[TX]) and the consumer
// storage ([ConsumerStore], core.ConsumerStore[TX]) and the subject key
// storage of crypto-shredding ([KeyStore], core.SubjectKeyStore[TX]) generic over the
// transaction type, over a small [Executor] and [Transactor] per driver —
// run a statement, scan event rows, encode the append's parameters, listen,
// and read the driver's errors: adapters/postgres-pgx implements both for
// pgx; for database/sql, subpackage sqldb holds the executor and the
// transactions (any PostgreSQL driver for database/sql) and
// adapters/postgres-pq adds lib/pq's listener. It also holds every SQL text Chronicle
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
// Writer ids. Each event row carries transaction_id, a bigint: the
// writing transaction's pg_current_xact_id() plus an offset kept in a
// one-row table (default transaction_order_offset). The column's default
// computes it and a check rejects any other value, so no client can place
// an event behind a consumer; both hold the offset as a constant (a check
// cannot read a table), which the recovery rewrites. The offset is what
// lets a log restored into another cluster (whose transaction ids start
// lower) be recovered without pg_resetwal: raise it above the highest
// stored id. It is 0 on a fresh schema. Until it is raised, appends find
// the log moved (stored ids at or above the cluster's next one) and fail.
//
// Consumers' cursors are snapshots with the offset applied (see
// core.Cursor). A batch is one statement that takes the current snapshot
// and selects the events whose writer it sees and the cursor's did not: a
// range scan above the cursor's xmax plus index probes for its running
// ids, on the (transaction_id, global_position) index, ordered by global
// position (sql/consumer_batch.sql). A step larger than the batch is paged
// by global position with the upper snapshot fixed (sql/consumer_page.sql).
package pgstore
