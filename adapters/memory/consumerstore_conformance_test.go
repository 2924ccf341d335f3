package memory_test

import (
	"testing"

	"github.com/chronicle-go/chronicle/adapters/memory"
	"github.com/chronicle-go/chronicle/core/coretest"
)

func TestConsumerStoreConformance(t *testing.T) {
	coretest.RunConsumerStore(t, coretest.ConsumerStoreHarness[*memory.Tx]{
		NewInstance: func(t *testing.T, _ bool) coretest.ConsumerStoreInstance[*memory.Tx] {
			store := memory.NewStore()
			return coretest.ConsumerStoreInstance[*memory.Tx]{
				Consumers:     store,
				Store:         store,
				Notifies:      true, // every commit with events wakes listeners
				AwaitLockWait: store.AwaitLockWait,
				DeleteStream:  deleter(store),
				SimulateMove: func(t *testing.T) {
					if err := store.SetNextTransactionID(1); err != nil {
						t.Fatalf("SetNextTransactionID: %v", err)
					}
				},
				EndPresence: func(t *testing.T, owner string) {
					if store.EndPresence(owner) == 0 {
						t.Errorf("EndPresence(%q): no session held it", owner)
					}
				},
			}
		},
	})
}
