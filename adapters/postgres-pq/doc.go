// Package postgres is Chronicle's PostgreSQL event store for database/sql:
// a core.Store[*sql.Tx].
//
// It uses database/sql only and works with any PostgreSQL driver for it;
// it is tested with github.com/lib/pq and with pgx's
// github.com/jackc/pgx/v5/stdlib (including its simple protocol). The
// caller begins, commits and rolls back the *sql.Tx; the store never does.
//
// Append is one statement. pgx's stdlib sends it in one round trip; lib/pq
// prepares every statement in a round trip of its own first, unless the
// connection string sets binary_parameters=yes, which is supported and
// tested.
//
// Arrays are sent in a form every driver passes through unchanged: text
// fields as PostgreSQL array literals in a string parameter, and all
// payloads packed into one bytea parameter, so bytes stay exact whatever
// the driver does with []byte.
//
// The store, the consumer storage and all SQL are written once, in
// Chronicle's internal PostgreSQL module, for both drivers, and so is the
// database/sql executor, for any driver for database/sql; this package is
// the public constructors and lib/pq's listener. The schema comes
// from tools/migrate-gen, or from [Store.SchemaSQL]. The package shares its
// configuration API with adapters/postgres-pgx, which is also `package
// postgres`: switching drivers changes one import path and the
// transaction type.
//
// [ConsumerStore] is the consumer runtime's storage port
// (core.ConsumerStore[*sql.Tx]) over a *sql.DB, for consumer.NewProcessor
// and consumer.NewOperations. Its queries, too, run on any driver. Only its
// optional listener ([WithListenDSN]) uses github.com/lib/pq, on a
// connection of its own, whichever driver runs the queries; without it
// consumers poll. Importing this package therefore links lib/pq, which
// registers itself as the database/sql driver "postgres".
//
// [KeyStore] (NewKeyStore) is the key storage of crypto-shredding
// (core.SubjectKeyStore[*sql.Tx], table <events>_subject_keys of migration
// 0004) for shred.New of package core/shred; the ConsumerStore begins the
// transactions of its RewrapKeys.
//
// Appends are meant for READ COMMITTED. Under REPEATABLE READ or
// SERIALIZABLE, an append to an aggregate another transaction changed
// concurrently fails with core.ErrOptimisticConcurrency wrapping the
// driver's serialization failure (SQLSTATE 40001); the transaction is then
// aborted and must be rolled back and retried.
package postgres
