// Command chronicle inspects and steers Chronicle's consumers in a
// PostgreSQL database: their status and lag, the transactions holding them
// back, resets and replays, and the recovery after a restore into another
// cluster.
//
//	chronicle [flags] status
//	chronicle [flags] holders
//	chronicle [flags] reset CONSUMER
//	chronicle [flags] start-from-now CONSUMER
//	chronicle [flags] set-cursor CONSUMER ORDER/POSITION
//	chronicle [flags] check-order
//	chronicle [flags] recover-order
//
// The database comes from -database-url or $DATABASE_URL; the table flags
// match migrate-gen's.
package main
