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
//	chronicle [flags] watch [-interval 2s] [-until-caught-up] [CONSUMER]
//
// status prints a line per consumer: cursor, events behind, events
// delivered since its cursor was last set, their rate and the ETA of the
// lag at it. A partitioned consumer's line holds its partitions' totals
// (the rate is their rates' sum, the ETA the total lag at it), an indented
// line per partition ("orders[3/8]") below it with its owner.
//
// watch shows, every -interval until interrupted (SIGINT, SIGTERM), each
// consumer's progress — or the named one's, all its partitions together:
// events delivered of delivered plus behind, the rate over the last
// refresh, the ETA. On a terminal it redraws a bar per consumer in place;
// otherwise it prints a line per consumer whose progress changed, with
// -json an object per consumer per refresh. -until-caught-up exits 0 once
// no watched consumer is behind (1 when interrupted first). -timeout
// bounds each of its status reads.
//
// serve serves a read-only status page (package consumer/statuspage) until
// interrupted: consumers, lag with a chart, the writers they wait for,
// owners present or gone, recent failures; -timeout bounds each of its
// status reads.
//
// The database comes from -database-url or $DATABASE_URL; the table flags
// match migrate-gen's. -json prints results and errors as JSON. Commands
// that act on a consumer, and watch, refuse one without a checkpoint unless
// -create (reset, start-from-now, set-cursor); a partitioned consumer's
// name stands for all its partitions' checkpoints. No output holds the database's
// password. delete-stream removes an aggregate's events and snapshots for
// good (an operator's action: it needs the tables' owner, not the
// application role) and runs only with -confirm repeating TYPE/ID. Exit
// status: 0 done, 1 the command failed, 2 bad usage.
package main
