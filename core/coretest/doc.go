// Package coretest is Chronicle's conformance suite: the one specification
// of the event store ports (core.Store) and of the consumer runtime's
// storage port (core.ConsumerStore) that every adapter passes.
//
// An adapter runs it from a test with a Harness for its transaction type:
//
//	func TestConformance(t *testing.T) {
//		coretest.Run(t, coretest.Harness[*memory.Tx]{
//			NewInstance: func(t *testing.T) coretest.Instance[*memory.Tx] {
//				s := memory.NewStore()
//				return coretest.Instance[*memory.Tx]{Store: s, Begin: s.Begin, AwaitLockWait: s.AwaitLockWait}
//			},
//			Commit:   func(_ context.Context, tx *memory.Tx) error { return tx.Commit() },
//			Rollback: func(_ context.Context, tx *memory.Tx) error { return tx.Rollback() },
//		})
//	}
//
// The cases that assert that an operation waits for another transaction's
// lock never sleep: they start the operation, wait for the adapter's
// signal that it is blocked (Instance.AwaitLockWait, a LockWaitFunc), and
// only then end the lock holder. The hook is required; such a case fails
// when it is nil.
//
// Each case gets its own instance and most run in parallel, so an instance
// must be isolated (a new database or schema for PostgreSQL) and the
// adapter must allow several transactions at once: the concurrent cases
// hold up to eight open at a time.
//
// [RunConsumerStore] is the suite of core.ConsumerStore, the consumer
// runtime's storage port, driven by a [ConsumerStoreHarness] in the same
// way; every adapter runs it too.
//
// [RunSubjectKeys] is the suite of core.SubjectKeyStore, the key storage
// of crypto-shredding, and of package core/shred over it, driven by a
// [SubjectKeysHarness]; every adapter runs it too.
//
// The suite is written for PostgreSQL's behaviour at READ COMMITTED, which
// is the reference: a version conflict leaves the transaction usable, a
// database error (a duplicate event id, a deadlock) aborts it, and an
// expectation that needs an existing head does not wait for a transaction
// still creating it. It never asserts exact global positions, transaction
// ids or snapshots, only how they relate.
package coretest
