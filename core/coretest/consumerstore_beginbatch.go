package coretest

import (
	"context"
	"testing"
	"time"

	"github.com/chronicle-go/chronicle/core"
)

// testBeginBatch: BeginBatch is Begin and ClaimCheckpoint plus, for the
// checkpoint its read expects, the batch ReadConsumerBatch returns;
// CommitCheckpoint is SaveCheckpoint plus Commit.
func testBeginBatch[TX any](t *testing.T, h ConsumerStoreHarness[TX]) {
	// saved commits a checkpoint for consumer at the paging cursor after
	// the first two of three committed events, and returns it as stored.
	saved := func(e *cenv[TX], consumer string) core.Checkpoint {
		e.appendCommitted(newAgg("Order").events(3)...)
		first := e.batch(core.Cursor{}, nil, 2)
		if len(first.Events) != 2 || !first.Next.Paging() {
			e.t.Fatalf("the first batch of 2 from the start: %d events, next %s; want 2 and a paging cursor", len(first.Events), first.Next)
		}
		x := e.begin("saver")
		cp, _ := x.claimNow(consumer)
		cp.Cursor = first.Next
		x.mustSave(cp)
		x.mustCommit()
		stored, _, ok := e.committedCheckpoint(consumer)
		if !ok {
			e.t.Fatalf("the saved checkpoint of %q is not listed", consumer)
		}
		return stored
	}
	// beginBatch begins a batch transaction named name, rolled back when
	// the case ends unless it was ended before.
	beginBatch := func(e *cenv[TX], name, consumer string, read *core.BatchRead) (*ctxn[TX], core.ClaimedBatch) {
		e.t.Helper()
		tx, cb, err := e.cs.BeginBatch(e.ctx, consumer, read)
		if err != nil {
			e.t.Fatalf("%s: BeginBatch(%q): %v", name, consumer, err)
		}
		x := &ctxn[TX]{e: e, tx: tx, name: name}
		e.t.Cleanup(func() {
			if !x.ended.Load() {
				_ = e.cs.Rollback(context.Background(), x.tx)
			}
		})
		return x, cb
	}

	runConsumer(t, h, "ReadsTheBatchOfTheExpectedCheckpoint", false, func(e *cenv[TX]) {
		stored := saved(e, "c")
		want := e.batch(stored.Cursor, nil, 10)
		for _, tc := range []struct {
			name string
			read core.BatchRead
		}{
			{"cursor", core.BatchRead{Expect: stored.Cursor, From: stored.Cursor, Limit: 10}},
			{"cursor and saved time", core.BatchRead{Expect: stored.Cursor, ExpectSaved: stored.UpdatedAt, From: stored.Cursor, Limit: 10}},
		} {
			x, cb := beginBatch(e, "batch by "+tc.name, "c", &tc.read)
			if !cb.Claimed || !cb.Read || !sameCheckpoint(cb.Checkpoint, stored) {
				e.t.Fatalf("expecting the stored %s: claimed %v, read %v, checkpoint %+v; want claimed, read, %+v", tc.name, cb.Claimed, cb.Read, cb.Checkpoint, stored)
			}
			if len(cb.Batch.Events) != 1 || cb.Batch.Events[0].EventID != want.Events[0].EventID || cb.Batch.Next.String() != want.Next.String() {
				e.t.Errorf("expecting the stored %s: batch of %d event(s), next %s; want ReadConsumerBatch's 1 event, next %s",
					tc.name, len(cb.Batch.Events), cb.Batch.Next, want.Next)
			}
			x.mustRollback()
		}
	})

	runConsumer(t, h, "ReadsNothingForAnotherCheckpoint", false, func(e *cenv[TX]) {
		stored := saved(e, "c")
		for _, tc := range []struct {
			name string
			read *core.BatchRead
		}{
			{"no read", nil},
			{"another cursor", &core.BatchRead{Expect: core.Cursor{}, From: core.Cursor{}, Limit: 10}},
			{"another saved time", &core.BatchRead{Expect: stored.Cursor, ExpectSaved: stored.UpdatedAt.Add(-time.Second), From: stored.Cursor, Limit: 10}},
		} {
			x, cb := beginBatch(e, tc.name, "c", tc.read)
			if !cb.Claimed || cb.Read || len(cb.Batch.Events) != 0 || !sameCheckpoint(cb.Checkpoint, stored) {
				e.t.Errorf("%s: claimed %v, read %v, %d event(s), checkpoint %+v; want claimed, nothing read, %+v",
					tc.name, cb.Claimed, cb.Read, len(cb.Batch.Events), cb.Checkpoint, stored)
			}
			x.mustRollback()
		}
	})

	runConsumer(t, h, "NotClaimedReadsNothing", false, func(e *cenv[TX]) {
		stored := saved(e, "c")
		holder := e.begin("holder")
		if _, claimed := holder.claimNow("c"); !claimed {
			e.t.Fatal("holder: not claimed")
		}
		other, cb := beginBatch(e, "other", "c", &core.BatchRead{Expect: stored.Cursor, From: stored.Cursor, Limit: 10})
		if cb.Claimed || cb.Read || len(cb.Batch.Events) != 0 {
			e.t.Errorf("a lease another transaction holds: claimed %v, read %v, %d event(s); want nothing", cb.Claimed, cb.Read, len(cb.Batch.Events))
		}
		other.mustRollback()
	})

	runConsumer(t, h, "BadReadsAreRefusedBeforeTheClaim", false, func(e *cenv[TX]) {
		stored := saved(e, "c")
		for _, tc := range []struct {
			name string
			read core.BatchRead
		}{
			{"limit 0", core.BatchRead{Expect: stored.Cursor, From: stored.Cursor}},
			{"a bad partition", core.BatchRead{Expect: stored.Cursor, From: stored.Cursor, Limit: 10, Scope: core.ConsumerScope{Partition: core.Partition{Index: 3, Count: 2}}}},
			{"a bad cursor", core.BatchRead{Expect: stored.Cursor, From: core.Cursor{Position: -1}, Limit: 10}},
		} {
			if _, _, err := e.cs.BeginBatch(e.ctx, "", &tc.read); err == nil {
				e.t.Errorf("BeginBatch of no consumer with %s: no error", tc.name)
			}
			_, _, err := e.cs.BeginBatch(e.ctx, "c", &tc.read)
			wantInvalidArgument(e.t, "BeginBatch with "+tc.name, err)
			other := e.begin("after " + tc.name)
			if _, claimed := other.claimNow("c"); !claimed {
				e.t.Errorf("after BeginBatch with %s was refused: the lease is held", tc.name)
			}
			other.mustRollback()
		}
	})

	runConsumer(t, h, "CommitCheckpointSavesAndCommits", false, func(e *cenv[TX]) {
		stored := saved(e, "c")
		next := e.batch(stored.Cursor, nil, 10)
		x, cb := beginBatch(e, "batch", "c", nil)
		cp := cb.Checkpoint
		cp.Cursor, cp.Delivered = next.Next, cp.Delivered+int64(len(next.Events))
		x.ended.Store(true)
		if err := e.cs.CommitCheckpoint(e.ctx, x.tx, cp); err != nil {
			e.t.Fatalf("CommitCheckpoint: %v", err)
		}
		got, held, ok := e.committedCheckpoint("c")
		if !ok || held || got.Cursor.String() != next.Next.String() || got.Delivered != cp.Delivered || !got.UpdatedAt.After(stored.UpdatedAt) {
			e.t.Errorf("after CommitCheckpoint: %+v (held %v, listed %v); want cursor %s, Delivered %d, a later UpdatedAt, the lease free",
				got, held, ok, next.Next, cp.Delivered)
		}
		if err := e.cs.Rollback(e.ctx, x.tx); err != nil {
			e.t.Errorf("Rollback after CommitCheckpoint: %v, want nil (the transaction has ended)", err)
		}
		bad := e.begin("bad name")
		bad.ended.Store(true)
		if err := e.cs.CommitCheckpoint(e.ctx, bad.tx, core.Checkpoint{ConsumerName: ""}); err == nil {
			e.t.Error("CommitCheckpoint of a checkpoint without a name: no error")
		}
		if err := e.cs.Rollback(e.ctx, bad.tx); err != nil {
			e.t.Errorf("Rollback after a refused CommitCheckpoint: %v", err)
		}
	})

	runConsumer(t, h, "CommitAndBeginGoesOnWithTheNextBatch", false, func(e *cenv[TX]) {
		stored := saved(e, "c")
		e.appendCommitted(newAgg("Order").events(2)...)
		x, cb := beginBatch(e, "first", "c", nil)
		first := e.batch(stored.Cursor, nil, 1)
		cp := cb.Checkpoint
		cp.Cursor, cp.Delivered = first.Next, cp.Delivered+1
		want := e.batch(first.Next, nil, 10)
		x.ended.Store(true)
		next, ncb, committed, err := e.cs.CommitAndBegin(e.ctx, x.tx, cp, "c", &core.BatchRead{Expect: first.Next, From: first.Next, Limit: 10})
		if err != nil || !committed {
			e.t.Fatalf("CommitAndBegin: committed %v, %v", committed, err)
		}
		y := &ctxn[TX]{e: e, tx: next, name: "next"}
		e.t.Cleanup(func() {
			if !y.ended.Load() {
				_ = e.cs.Rollback(context.Background(), y.tx)
			}
		})
		got, held, _ := e.committedCheckpoint("c")
		if got.Cursor.String() != first.Next.String() || got.Delivered != cp.Delivered || !held {
			e.t.Errorf("after CommitAndBegin: %+v, held %v; want cursor %s committed, Delivered %d, the lease held by the next batch", got, held, first.Next, cp.Delivered)
		}
		if !ncb.Claimed || !ncb.Read || !sameCheckpoint(ncb.Checkpoint, got) || len(ncb.Batch.Events) != len(want.Events) || ncb.Batch.Next.String() != want.Next.String() {
			e.t.Errorf("the next batch: claimed %v, read %v, %d event(s), next %s; want claimed, read, ReadConsumerBatch's %d, next %s",
				ncb.Claimed, ncb.Read, len(ncb.Batch.Events), ncb.Batch.Next, len(want.Events), want.Next)
		}
		if _, claimed := e.begin("other").claimNow("c"); claimed {
			e.t.Error("another transaction claimed the lease the next batch holds")
		}
		y.mustRollback()
		if _, claimed := e.begin("after").claimNow("c"); !claimed {
			e.t.Error("after the next batch rolled back: the lease is still held")
		}
	})
}
