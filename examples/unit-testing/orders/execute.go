package orders

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/chronicle-go/chronicle/core"
)

// Transactions begins and ends the transactions commands run in: the one
// piece of plumbing that differs between adapters. *memory.Store
// implements it as it is; on pgx it is three one-line methods over a pool
// (see the example's main).
type Transactions[TX any] interface {
	Begin(ctx context.Context) (TX, error)
	Commit(ctx context.Context, tx TX) error
	Rollback(ctx context.Context, tx TX) error
}

// Execute runs handle in a transaction of its own and commits it, or rolls
// it back when handle fails.
//
// A concurrency conflict (core.ErrOptimisticConcurrency) means another
// writer changed the aggregate between handle's load and its append. The
// transaction would still commit, but whatever handle did in it was decided
// on the stale state, so Execute rolls it back and runs handle again in a
// new one, which loads the new state and decides again — up to attempts
// times in all (< 1 means 1), logging each retry at debug level (logger
// nil: no logs). A conflict the database reported (a deadlock, with the
// transaction aborted) is retried the same way. Any other error is returned
// at once.
func Execute[TX any](ctx context.Context, txs Transactions[TX], attempts int, logger *slog.Logger, handle func(ctx context.Context, tx TX) error) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	attempts = max(attempts, 1)
	for attempt := 1; ; attempt++ {
		err := executeOnce(ctx, txs, handle)
		if err == nil || !errors.Is(err, core.ErrOptimisticConcurrency) {
			return err
		}
		if attempt == attempts {
			return fmt.Errorf("giving up after %d attempts: %w", attempts, err)
		}
		logger.DebugContext(ctx, "orders: concurrent change; retrying", "attempt", attempt, "error", err)
	}
}

func executeOnce[TX any](ctx context.Context, txs Transactions[TX], handle func(ctx context.Context, tx TX) error) error {
	tx, err := txs.Begin(ctx)
	if err != nil {
		return fmt.Errorf("error beginning a transaction: %w", err)
	}
	if err := handle(ctx, tx); err != nil {
		// A fresh context: the rollback must happen even when ctx is done.
		if rbErr := txs.Rollback(context.WithoutCancel(ctx), tx); rbErr != nil {
			return errors.Join(err, fmt.Errorf("error rolling back: %w", rbErr))
		}
		return err
	}
	if err := txs.Commit(ctx, tx); err != nil {
		return fmt.Errorf("error committing: %w", err)
	}
	return nil
}
