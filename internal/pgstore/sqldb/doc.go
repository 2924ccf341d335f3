// Package sqldb is the database/sql executor, for any PostgreSQL driver
// for database/sql: lib/pq, pgx's stdlib. It implements pgstore.Executor
// ([NewExecutor]) and the transaction half of pgstore.Transactor
// ([Transactions]) with database/sql alone, so that the driver package
// (adapters/postgres-pq) holds only its public configuration and what is
// specific to its driver, the notification listener.
//
// Everything here is written for what every driver passes through
// unchanged: arrays go as PostgreSQL array literals in string parameters
// (see pgtext) and all payloads packed into one bytea parameter
// (pgstore.PayloadPacked), since database/sql has no array type and
// drivers differ in what they do with []byte; server errors are read by
// their SQLState method and the fields the drivers store the constraint
// and detail in, so that no driver is imported.
package sqldb
