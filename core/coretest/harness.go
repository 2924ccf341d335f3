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
}

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
