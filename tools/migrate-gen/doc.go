// Command migrate-gen writes Chronicle's PostgreSQL schema as a SQL
// migration: the events, aggregate heads, consumer checkpoints and
// transaction order offset tables, their constraints and indexes, and the
// triggers that make the events table append-only. The script is
// idempotent (IF NOT EXISTS throughout) and the same flags always give the
// same bytes, so it suits go:generate and any migration tool.
//
// Usage:
//
//	go run github.com/chronicle-go/chronicle/tools/migrate-gen [flags]
//
// Flags:
//
//	-output DIR                  directory to write to (default ".", created if missing)
//	-filename NAME               file name (default <yyyymmddhhmmss>_init_event_sourcing.sql, UTC now)
//	-stdout                      write the SQL to standard output instead of a file
//	-schema NAME                 schema for the tables (default none: the search_path)
//	-events-table NAME           default "events"
//	-aggregate-heads-table NAME  default "aggregate_heads"
//	-checkpoints-table NAME      default "consumer_checkpoints"
//	-order-offset-table NAME     default "transaction_order_offset"
//	-no-append-only-trigger      leave out the triggers that reject UPDATE, DELETE and TRUNCATE on events
//
// Names must match ^[A-Za-z_][A-Za-z0-9_]{0,62}$; they are quoted in the
// SQL, so case is kept. A bad flag or name prints one line naming the flag
// to standard error, writes nothing and exits with status 2; a failure to
// write exits with status 1.
//
// With go:generate:
//
//	//go:generate go run github.com/chronicle-go/chronicle/tools/migrate-gen -output migrations -filename 0001_chronicle.sql
package main
