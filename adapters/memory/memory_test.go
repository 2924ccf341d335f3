package memory_test

import (
	"context"
	"testing"

	"github.com/chronicle-go/chronicle/adapters/memory"
	"github.com/chronicle-go/chronicle/core/coretest"
)

func harness() coretest.Harness[*memory.Tx] {
	return coretest.Harness[*memory.Tx]{
		NewInstance: func(t *testing.T) coretest.Instance[*memory.Tx] {
			store := memory.NewStore()
			return coretest.Instance[*memory.Tx]{Store: store, Begin: store.Begin, AwaitLockWait: store.AwaitLockWait,
				DeleteStream: deleter(store)}
		},
		Commit:   func(_ context.Context, tx *memory.Tx) error { return tx.Commit() },
		Rollback: func(_ context.Context, tx *memory.Tx) error { return tx.Rollback() },
	}
}

// deleter is the operator's deletion for the conformance suite: the
// memory store has no roles, so its own transactions serve.
func deleter(store *memory.Store) coretest.DeleteFunc {
	return coretest.Deleter[*memory.Tx](store, store.Begin,
		func(_ context.Context, tx *memory.Tx) error { return tx.Commit() },
		func(_ context.Context, tx *memory.Tx) error { return tx.Rollback() })
}

func TestConformance(t *testing.T) {
	coretest.Run(t, harness())
}
