package memory

import "errors"

var (
	// ErrTxDone is returned when a transaction that was committed or rolled
	// back is used again (Rollback excepted: it returns nil then).
	ErrTxDone = errors.New("memory: transaction has already been committed or rolled back")
	// ErrTxAborted is returned by every operation but Rollback on a
	// transaction whose Append failed (see the package documentation), and
	// by its Commit, which then rolls it back, as PostgreSQL does.
	ErrTxAborted = errors.New("memory: transaction is aborted after a failed append; roll it back")
	// ErrDeadlock is returned by an Append that would wait for a
	// transaction which, directly or through others, waits for this one.
	// The failing transaction is aborted; roll it back and retry.
	ErrDeadlock = errors.New("memory: deadlock detected")
	// ErrForeignTx is returned when a transaction is used with a store other
	// than the one that began it, or is nil.
	ErrForeignTx = errors.New("memory: transaction does not belong to this store")
)
