package coretest

import (
	"context"
	"testing"

	"github.com/chronicle-go/chronicle/core"
)

// Instance is one store under test over its own empty event log.
type Instance[TX any] struct {
	// Store is the adapter's store.
	Store core.Store[TX]
	// Begin starts a transaction in which Store's operations run, at the
	// adapter's default isolation level (READ COMMITTED for PostgreSQL).
	Begin func(ctx context.Context) (TX, error)
	// AwaitLockWait is the adapter's signal that a transaction waits for a
	// lock; see LockWaitFunc. Required: a case that must see an append wait
	// fails when it is nil.
	AwaitLockWait LockWaitFunc[TX]
	// DeleteStream is the operator's hard deletion of a stream over the
	// same log (see DeleteFunc and Deleter). Required: the deletion cases
	// fail when it is nil.
	DeleteStream DeleteFunc
}

// LockWaitFunc returns nil once tx's operation in progress, running on
// another goroutine, is blocked waiting for a lock that another transaction
// holds: an aggregate's head row (an append to an aggregate another
// transaction appended to or is creating), an event id another transaction
// inserted and has not committed (the unique index), a consumer's lease
// (SetCheckpoint, DeleteCheckpoint), a checkpoint row another transaction
// writes (SaveCheckpoint) or a subject's key row another transaction
// creates, deletes or rewraps (the subject key store). Until then it keeps waiting; when ctx
// ends first it returns an error wrapping ctx's error. It must not run
// anything on tx itself, whose connection is busy with the operation, and it
// must be safe to call concurrently for different transactions.
//
// The cases that assert that an operation waits for another transaction
// call it after starting the operation and only then end the lock holder,
// so that "it waited" is observed rather than hoped for; a case whose
// operation returns before AwaitLockWait does fails (it did not wait).
//
// The memory store provides it as (*memory.Store).AwaitLockWait. On
// PostgreSQL it is: the backend running tx (pgx: tx.Conn().PgConn().PID();
// database/sql: pg_backend_pid() read in tx when Begin started it) has
// pg_stat_activity.wait_event_type = 'Lock' — polled on another connection
// every millisecond or so. A row lock wait shows as wait_event 'tuple' or
// 'transactionid', a wait on an uncommitted unique key as 'transactionid',
// a lease taken as an advisory lock as 'advisory'.
type LockWaitFunc[TX any] func(ctx context.Context, tx TX) error

// Harness adapts the suite to one adapter configuration.
type Harness[TX any] struct {
	// NewInstance returns a store over a new, empty event log, isolated from
	// every other instance it returns (cases run in parallel). It registers
	// its own cleanup with t.Cleanup and fails t on error.
	NewInstance func(t *testing.T) Instance[TX]
	// Commit and Rollback end a transaction from Instance.Begin.
	Commit   func(ctx context.Context, tx TX) error
	Rollback func(ctx context.Context, tx TX) error
}
