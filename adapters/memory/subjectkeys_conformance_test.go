package memory_test

import (
	"testing"

	"github.com/chronicle-go/chronicle/adapters/memory"
	"github.com/chronicle-go/chronicle/core/coretest"
)

func TestSubjectKeysConformance(t *testing.T) {
	coretest.RunSubjectKeys(t, coretest.SubjectKeysHarness[*memory.Tx]{
		NewInstance: func(t *testing.T) coretest.SubjectKeysInstance[*memory.Tx] {
			store := memory.NewStore()
			return coretest.SubjectKeysInstance[*memory.Tx]{Keys: store, Transactions: store, AwaitLockWait: store.AwaitLockWait}
		},
	})
}
