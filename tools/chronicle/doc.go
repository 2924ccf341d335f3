// Command chronicle inspects and steers Chronicle's consumers in a
// PostgreSQL database: their status and lag, the running writers they wait
// for, resets and replays, the recovery after a restore into another
// cluster, and the hard deletion of one stream.
//
//	chronicle [flags] status
//	chronicle [flags] holders
//	chronicle [flags] reset CONSUMER
//	chronicle [flags] start-from-now CONSUMER
//	chronicle [flags] set-cursor CONSUMER CURSOR
//	chronicle [flags] delete CONSUMER
//	chronicle [flags] check-order
//	chronicle [flags] recover-order
//	chronicle [flags] -confirm TYPE/ID delete-stream TYPE ID
//	chronicle [flags] serve [-addr 127.0.0.1:8080] [-interval 2s] [-window 10m]
//
// serve serves a read-only status page (package consumer/statuspage) until
// interrupted: consumers, lag with a chart, the writers they wait for,
// owners present or gone, recent failures; -timeout bounds each of its
// status reads.
//
// The database comes from -database-url or $DATABASE_URL; the table flags
// match migrate-gen's. -json prints results and errors as JSON. Commands
// that act on a consumer refuse one without a checkpoint unless -create
// (reset, start-from-now, set-cursor). No output holds the database's
// password. delete-stream removes an aggregate's events and snapshots for
// good (an operator's action: it needs the tables' owner, not the
// application role) and runs only with -confirm repeating TYPE/ID. Exit
// status: 0 done, 1 the command failed, 2 bad usage.
package main
