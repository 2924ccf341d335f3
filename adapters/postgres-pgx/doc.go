// Package postgres is Chronicle's PostgreSQL event store for pgx
// (github.com/jackc/pgx/v5): a core.Store[pgx.Tx].
//
// Every operation runs in the caller's pgx.Tx — from a pgxpool.Pool, a
// pgx.Conn, or a connection in any query exec mode, including
// QueryExecModeSimpleProtocol for PgBouncer in transaction mode. The caller
// begins, commits and rolls back; the store never does.
//
// Append is one statement and one round trip for any batch size. In pgx's
// default exec mode a connection prepares a statement the first time it
// runs it and reuses it afterwards; the simple protocol never prepares.
//
// The store, the consumer storage and all SQL are written once, in
// Chronicle's internal PostgreSQL module, for both drivers; this package
// is the driver's executor and the public constructors. The schema comes
// from tools/migrate-gen, or from [Store.SchemaSQL]. The package shares its
// configuration API with adapters/postgres-pq, which is also `package
// postgres`: switching drivers changes one import path and the
// transaction type.
//
// [ConsumerStore] is the consumer runtime's storage port
// (core.ConsumerStore[pgx.Tx]) over a pgxpool.Pool, for consumer.NewProcessor
// and consumer.NewOperations. It listens for the store's notifications on a
// dedicated connection of its own.
//
// [KeyStore] (NewKeyStore) is the key storage of crypto-shredding
// (core.SubjectKeyStore[pgx.Tx], table <events>_subject_keys of migration
// 0004) for shred.New of package core/shred; the ConsumerStore begins the
// transactions of its RewrapKeys.
//
// Appends are meant for READ COMMITTED. Under REPEATABLE READ or
// SERIALIZABLE, an append to an aggregate another transaction changed
// concurrently fails with core.ErrOptimisticConcurrency wrapping the
// server's serialization failure (SQLSTATE 40001); the transaction is then
// aborted and must be rolled back and retried.
package postgres
