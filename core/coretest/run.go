package coretest

import "testing"

// Run runs the whole conformance suite against the adapter h drives. Every
// case is a named subtest (e.g. "Expected/NoStreamConflictsWhenStreamExists")
// on its own instance from h.NewInstance, and the cases of a group run in
// parallel. Run returns when every case has finished, so the caller may
// release shared resources (a database pool) after it returns.
//
// The suite asserts relations, not exact values, where PostgreSQL leaves
// them open: global positions are compared for order (sequences have gaps),
// transaction ids for being shared by one transaction's events and distinct
// between transactions. Its concurrent
// cases never depend on timing: what they assert holds whichever goroutine
// is scheduled first.
func Run[TX any](t *testing.T, h Harness[TX]) {
	t.Helper()
	if h.NewInstance == nil || h.Commit == nil || h.Rollback == nil {
		t.Fatal("coretest: Harness needs NewInstance, Commit and Rollback")
	}
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, h) })
	t.Run("Versions", func(t *testing.T) { testVersions(t, h) })
	t.Run("Expected", func(t *testing.T) { testExpected(t, h) })
	t.Run("Concurrency", func(t *testing.T) { testConcurrency(t, h) })
	t.Run("TransactionState", func(t *testing.T) { testTransactionState(t, h) })
	t.Run("Visibility", func(t *testing.T) { testVisibility(t, h) })
	t.Run("StreamReads", func(t *testing.T) { testStreamReads(t, h) })
	t.Run("GlobalReads", func(t *testing.T) { testGlobalReads(t, h) })
	t.Run("Ordering", func(t *testing.T) { testOrdering(t, h) })
	t.Run("Duplicates", func(t *testing.T) { testDuplicates(t, h) })
	t.Run("Validation", func(t *testing.T) { testValidation(t, h) })
	t.Run("BadInput", func(t *testing.T) { testBadInput(t, h) })
	t.Run("AggregateSnapshots", func(t *testing.T) { testSnapshotsStore(t, h) })
	t.Run("Tombstones", func(t *testing.T) { testTombstones(t, h) })
	t.Run("Deletion", func(t *testing.T) { testDeletion(t, h) })
}

// run registers one parallel case with its own instance.
func run[TX any](t *testing.T, h Harness[TX], name string, body func(e *env[TX])) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		t.Parallel()
		body(newEnv(t, h))
	})
}
