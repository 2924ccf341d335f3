package memory

import "errors"

var (
	// ErrTxDone is returned when a transaction that was committed or rolled
	// back is used again (Rollback excepted: it returns nil then).
	ErrTxDone = errors.New("memory: transaction has already been committed or rolled back")
	// ErrTxAborted is returned by every operation but Rollback on a
	// transaction that an error aborted (a duplicate event id, a deadlock,
	// a context that ended while a call waited; see the package
	// documentation), and by its Commit, which then rolls it back, as
	// PostgreSQL does. A version conflict does not abort.
	ErrTxAborted = errors.New("memory: transaction is aborted after an error; roll it back")
	// ErrDeadlock is the cause of a call that would wait for a transaction
	// which, directly or through others, waits for this one. Append returns
	// it wrapped in a *core.ConcurrencyError (core.ErrOptimisticConcurrency,
	// Actual -1), as the PostgreSQL adapters report SQLSTATE 40P01;
	// SetCheckpoint, SaveCheckpoint and RaiseOrderOffset wrap it as it is.
	// The failing transaction is aborted; roll it back and retry.
	ErrDeadlock = errors.New("memory: deadlock detected")
	// ErrPresenceLost is returned by HoldPresence when EndPresence ended
	// it, as the PostgreSQL adapters return the error of a lost connection.
	ErrPresenceLost = errors.New("memory: the presence was ended, as a lost connection would end it")
	// ErrForeignTx is returned when a transaction is used with a store other
	// than the one that began it, or is nil.
	ErrForeignTx = errors.New("memory: transaction does not belong to this store")
)
