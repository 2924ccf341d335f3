package coretest

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chronicle-go/chronicle/core"
)

// claimWait bounds a claim: ClaimCheckpoint must never wait, so one that
// takes this long is waiting for a lock.
const claimWait = 10 * time.Second

// claimNow claims without waiting, failing the case when the claim waits.
func (x *ctxn[TX]) claimNow(consumer string) (core.Checkpoint, bool) {
	x.e.t.Helper()
	ctx, cancel := context.WithTimeout(x.e.ctx, claimWait)
	defer cancel()
	cp, claimed, err := x.e.cs.ClaimCheckpoint(ctx, x.tx, consumer)
	if err != nil {
		if ctx.Err() != nil {
			x.e.t.Fatalf("%s: claiming %q waited for %s: ClaimCheckpoint must skip locked rows without waiting (%v)", x.name, consumer, claimWait, err)
		}
		x.e.t.Fatalf("%s: claiming %q: %v", x.name, consumer, err)
	}
	return cp, claimed
}

// testCheckpoints: the checkpoint row is the consumer's lease. A claim
// locks it without waiting (FOR UPDATE SKIP LOCKED), creating it if
// missing; another transaction's claim is refused while the lock lasts;
// saves are visible to others on commit only; Checkpoints reports who holds
// a lease without taking one.
func testCheckpoints[TX any](t *testing.T, h ConsumerStoreHarness[TX]) {
	runConsumer(t, h, "ClaimCreatesAtTheStartAndSkipsLockedRows", false, func(e *cenv[TX]) {
		creator, other := e.begin("creator"), e.begin("other")
		cp, claimed := creator.claimNow("c")
		if !claimed || cp.ConsumerName != "c" || cp.Cursor != (core.Cursor{}) || cp.UpdatedAt.IsZero() ||
			cp.FailedAttempts != 0 || !cp.StoppedAt.IsZero() || cp.LastError != "" || cp.Owner != "" {
			e.t.Fatalf("first claim: %+v, claimed %v; want a new checkpoint at the start of the log", cp, claimed)
		}
		if _, claimed := creator.claimNow("c"); !claimed {
			e.t.Error("claiming a row the transaction holds: not claimed")
		}
		if _, claimed := other.claimNow("c"); claimed {
			e.t.Error("claimed a row another transaction is creating")
		}
		if cps, _ := e.committedCheckpoints(); len(cps) != 0 {
			e.t.Errorf("an uncommitted checkpoint is seen by another transaction: %+v", cps)
		}
		creator.mustCommit()

		if _, claimed := other.claimNow("c"); !claimed {
			e.t.Fatal("the row is free after its creator committed: not claimed")
		}
		third := e.begin("third")
		if _, claimed := third.claimNow("c"); claimed {
			e.t.Error("claimed a row another transaction holds")
		}
		cps, held := e.committedCheckpoints()
		if len(cps) != 1 || cps[0].ConsumerName != "c" || !held[0] {
			e.t.Fatalf("checkpoints %+v held %v; want c, held", cps, held)
		}
		if _, held := other.mustCheckpoints(); held[0] {
			e.t.Error("the holder sees its own lease as held by another transaction")
		}
		other.mustRollback()
		if _, held := e.committedCheckpoints(); held[0] {
			e.t.Error("still held after the holder rolled back")
		}
		if _, claimed := third.claimNow("c"); !claimed {
			e.t.Error("the row is free after a rollback: not claimed")
		}
		third.mustCommit()
		if _, held := e.committedCheckpoints(); held[0] {
			e.t.Error("still held after the holder committed")
		}
	})

	runConsumer(t, h, "ConcurrentFirstClaimsOneWinsNoneWaits", false, func(e *cenv[TX]) {
		const n = 6
		txs := make([]*ctxn[TX], n)
		for i := range txs {
			txs[i] = e.begin("claimer")
		}
		type result struct {
			claimed bool
			err     error
		}
		results := make(chan result, n)
		ctx, cancel := context.WithTimeout(e.ctx, claimWait)
		defer cancel()
		for _, x := range txs {
			go func() {
				_, claimed, err := e.cs.ClaimCheckpoint(ctx, x.tx, "c")
				results <- result{claimed, err}
			}()
		}
		winners := 0
		for range txs {
			r := <-results
			if r.err != nil {
				e.t.Fatalf("a concurrent first claim failed (a claim that waits runs into the deadline): %v", r.err)
			}
			if r.claimed {
				winners++
			}
		}
		if winners != 1 {
			e.t.Errorf("%d of %d concurrent first claims won, want exactly 1", winners, n)
		}
		for _, x := range txs {
			x.mustCommit()
		}
		if cps, _ := e.committedCheckpoints(); len(cps) != 1 {
			e.t.Errorf("%d checkpoints after concurrent first claims, want 1", len(cps))
		}
	})

	runConsumer(t, h, "HeldWhileABatchOrAnOperationWritesIt", false, func(e *cenv[TX]) {
		x := e.begin("create")
		x.claimNow("c")
		x.claimNow("d")
		x.mustCommit()
		heldOf := func() map[string]bool {
			cps, held := e.committedCheckpoints()
			out := map[string]bool{}
			for i, cp := range cps {
				out[cp.ConsumerName] = held[i]
			}
			return out
		}

		batch := e.begin("batch")
		cp, _ := batch.claimNow("c")
		cp.Cursor = core.Cursor{TransactionOrder: 3, GlobalPosition: 1}
		batch.mustSave(cp)
		if h := heldOf(); !h["c"] || h["d"] {
			e.t.Errorf("while a batch that saved c runs: held %v, want c only", h)
		}
		batch.mustCommit()
		if h := heldOf(); h["c"] || h["d"] {
			e.t.Errorf("after the batch committed: held %v, want none", h)
		}

		op := e.begin("op")
		op.mustSet("d", core.Cursor{})
		if h := heldOf(); h["c"] || !h["d"] {
			e.t.Errorf("while an operation sets d: held %v, want d only", h)
		}
		op.mustRollback()
		if h := heldOf(); h["c"] || h["d"] {
			e.t.Errorf("after the operation rolled back: held %v, want none", h)
		}
	})

	runConsumer(t, h, "RolledBackCreationLeavesNoCheckpoint", false, func(e *cenv[TX]) {
		x := e.begin("creator")
		x.claimNow("c")
		x.mustRollback()
		if cps, _ := e.committedCheckpoints(); len(cps) != 0 {
			e.t.Fatalf("checkpoints after a rolled-back creation: %+v", cps)
		}
		y := e.begin("next")
		if _, claimed := y.claimNow("c"); !claimed {
			e.t.Error("not claimed after the creator rolled back")
		}
		y.mustCommit()
	})

	runConsumer(t, h, "LeasesOfDifferentConsumersAreIndependent", false, func(e *cenv[TX]) {
		a, b := e.begin("a"), e.begin("b")
		if _, claimed := a.claimNow("first"); !claimed {
			e.t.Fatal("first: not claimed")
		}
		if _, claimed := b.claimNow("second"); !claimed {
			e.t.Fatal("second, while another transaction holds first: not claimed")
		}
		a.mustCommit()
		b.mustCommit()
	})

	runConsumer(t, h, "SaveIsVisibleOnCommitOnly", false, func(e *cenv[TX]) {
		x := e.begin("create")
		created, _ := x.claimNow("c")
		x.mustCommit()

		x = e.begin("batch")
		cp, claimed := x.claimNow("c")
		if !claimed {
			e.t.Fatal("not claimed")
		}
		cp.Cursor = core.Cursor{TransactionOrder: 5, GlobalPosition: 3}
		cp.Owner, cp.FailedAttempts, cp.LastError, cp.LastErrorPosition = "host/1", 2, "boom", 3
		cp.LastErrorAt = time.Date(2030, 1, 1, 0, 0, 0, 1999, time.FixedZone("X", 3600))
		cp.StoppedAt = time.Date(2030, 1, 2, 0, 0, 0, 2001, time.UTC)
		x.mustSave(cp)
		if cps, _ := e.committedCheckpoints(); cps[0] != created {
			e.t.Errorf("an uncommitted save is seen by another transaction:\n %+v\nwant\n %+v", cps[0], created)
		}
		if own, _ := x.mustCheckpoints(); own[0].Cursor != cp.Cursor || own[0].LastError != "boom" {
			e.t.Errorf("own view %+v; want the saved checkpoint", own[0])
		}
		x.mustCommit()

		got, _ := e.committedCheckpoints()
		want := cp
		want.LastErrorAt = time.Date(2029, 12, 31, 23, 0, 0, 1000, time.UTC)
		want.StoppedAt = time.Date(2030, 1, 2, 0, 0, 0, 2000, time.UTC)
		want.UpdatedAt = got[0].UpdatedAt
		if got[0] != want {
			e.t.Errorf("committed checkpoint\n %+v\nwant (times in UTC, to the microsecond)\n %+v", got[0], want)
		}
		if got[0].UpdatedAt.Before(created.UpdatedAt) {
			e.t.Errorf("UpdatedAt went back from %s to %s", created.UpdatedAt, got[0].UpdatedAt)
		}
		checkUTCTime(e.t, "UpdatedAt", got[0].UpdatedAt)

		// Clearing the failure fields stores them as absent.
		x = e.begin("clear")
		cp, _ = x.claimNow("c")
		cp.FailedAttempts, cp.LastError, cp.LastErrorPosition, cp.LastErrorAt, cp.StoppedAt = 0, "", 0, time.Time{}, time.Time{}
		x.mustSave(cp)
		x.mustCommit()
		if got, _ := e.committedCheckpoints(); got[0].FailedAttempts != 0 || got[0].LastError != "" || got[0].LastErrorPosition != 0 ||
			!got[0].LastErrorAt.IsZero() || !got[0].StoppedAt.IsZero() || got[0].Cursor != cp.Cursor || got[0].Owner != "host/1" {
			e.t.Errorf("after clearing the failure: %+v", got[0])
		}

		x = e.begin("rolled back")
		cp, _ = x.claimNow("c")
		before := cp
		cp.Cursor = core.Cursor{TransactionOrder: 9}
		x.mustSave(cp)
		x.mustRollback()
		if got, _ := e.committedCheckpoints(); got[0] != before {
			e.t.Errorf("after a rolled-back save: %+v, want %+v", got[0], before)
		}
	})

	runConsumer(t, h, "CheckpointsAreOrderedByNameBytes", false, func(e *cenv[TX]) {
		x := e.begin("create")
		for _, name := range []string{"b", "a", "B", "_z"} {
			x.claimNow(name)
		}
		x.mustCommit()
		cps, held := e.committedCheckpoints()
		var names []string
		for i, cp := range cps {
			names = append(names, cp.ConsumerName)
			if held[i] {
				e.t.Errorf("%s is held, but no transaction runs", cp.ConsumerName)
			}
		}
		if want := []string{"B", "_z", "a", "b"}; !slices.Equal(names, want) {
			e.t.Errorf("checkpoints in the order %q, want byte order %q", names, want)
		}
	})

	runConsumer(t, h, "InvalidArguments", false, func(e *cenv[TX]) {
		x := e.begin("tx")
		defer x.mustRollback()
		if _, _, err := e.cs.ClaimCheckpoint(e.ctx, x.tx, ""); !errors.Is(err, core.ErrInvalidArgument) {
			e.t.Errorf("claiming an empty name: %v, want ErrInvalidArgument", err)
		}
		if err := e.cs.SaveCheckpoint(e.ctx, x.tx, core.Checkpoint{}); !errors.Is(err, core.ErrInvalidArgument) {
			e.t.Errorf("saving an empty name: %v, want ErrInvalidArgument", err)
		}
		if err := e.cs.SetCheckpoint(e.ctx, x.tx, "c", core.Cursor{TransactionOrder: -1}); !errors.Is(err, core.ErrInvalidArgument) {
			e.t.Errorf("setting a negative cursor: %v, want ErrInvalidArgument", err)
		}
		if _, err := e.cs.ReadConsumerBatch(e.ctx, x.tx, core.Cursor{}, nil, 0); !errors.Is(err, core.ErrInvalidArgument) {
			e.t.Errorf("reading a batch of 0: %v, want ErrInvalidArgument", err)
		}
		if _, err := e.cs.CountEventsAfter(e.ctx, x.tx, core.Cursor{GlobalPosition: -1}, nil); !errors.Is(err, core.ErrInvalidArgument) {
			e.t.Errorf("counting after a negative cursor: %v, want ErrInvalidArgument", err)
		}
		// Rejected before any statement: the transaction is still usable.
		x.claimNow("c")
	})

	runConsumer(t, h, "RollbackOfAnEndedTransactionIsNil", false, func(e *cenv[TX]) {
		x := e.begin("tx")
		x.mustCommit()
		if err := e.cs.Rollback(e.ctx, x.tx); err != nil {
			e.t.Errorf("rolling back a committed transaction: %v, want nil", err)
		}
		y := e.begin("tx")
		y.mustRollback()
		if err := e.cs.Rollback(e.ctx, y.tx); err != nil {
			e.t.Errorf("rolling back twice: %v, want nil", err)
		}
	})
}

// testSetCheckpoint: operations move a consumer's cursor with
// SetCheckpoint, which waits for a running batch instead of skipping it.
func testSetCheckpoint[TX any](t *testing.T, h ConsumerStoreHarness[TX]) {
	runConsumer(t, h, "CreatesAMissingCheckpoint", false, func(e *cenv[TX]) {
		at := core.Cursor{TransactionOrder: 4, GlobalPosition: 2}
		x := e.begin("op")
		x.mustSet("c", at)
		x.mustCommit()
		cps, _ := e.committedCheckpoints()
		if len(cps) != 1 || cps[0].ConsumerName != "c" || cps[0].Cursor != at || cps[0].UpdatedAt.IsZero() {
			e.t.Errorf("checkpoints %+v, want c at %s", cps, at)
		}
	})

	runConsumer(t, h, "WaitsForTheHolderAndClearsTheFailure", false, func(e *cenv[TX]) {
		batch := e.begin("batch")
		cp, _ := batch.claimNow("c")
		cp.Cursor = core.Cursor{TransactionOrder: 7, GlobalPosition: 7}
		cp.FailedAttempts, cp.StoppedAt, cp.LastError, cp.LastErrorPosition = 3, time.Now(), "boom", 7
		cp.LastErrorAt = time.Now()
		batch.mustSave(cp)

		op := e.begin("op")
		var released atomic.Bool
		done := async(&released, func() error { return e.cs.SetCheckpoint(e.ctx, op.tx, "c", core.Cursor{}) })
		e.untilWaiting(op, done, "SetCheckpoint of a checkpoint a batch holds")
		released.Store(true)
		batch.mustCommit()
		r := e.awaitResult(done, "SetCheckpoint")
		if r.err != nil {
			e.t.Fatalf("SetCheckpoint: %v", r.err)
		}
		if !r.after {
			e.t.Error("SetCheckpoint returned while a batch held the checkpoint: it must wait for it")
		}
		op.mustCommit()

		got, _ := e.committedCheckpoints()
		if c := got[0]; c.Cursor != (core.Cursor{}) || c.FailedAttempts != 0 || !c.StoppedAt.IsZero() ||
			c.LastError != "boom" || c.LastErrorPosition != 7 || c.LastErrorAt.IsZero() || c.Owner != cp.Owner {
			e.t.Errorf("after SetCheckpoint: %+v; want the start, no failures, not stopped, the last error kept", c)
		}
	})

	runConsumer(t, h, "CreatesAfterACreatorRollsBack", false, func(e *cenv[TX]) {
		creator, op := e.begin("creator"), e.begin("op")
		creator.claimNow("c")
		at := core.Cursor{TransactionOrder: 4, GlobalPosition: 2}
		var released atomic.Bool
		done := async(&released, func() error { return e.cs.SetCheckpoint(e.ctx, op.tx, "c", at) })
		e.untilWaiting(op, done, "SetCheckpoint of a checkpoint another transaction creates")
		released.Store(true)
		creator.mustRollback()
		r := e.awaitResult(done, "SetCheckpoint")
		if r.err != nil {
			e.t.Fatalf("SetCheckpoint: %v", r.err)
		}
		if !r.after {
			e.t.Error("SetCheckpoint returned while another transaction was creating the checkpoint: it must wait")
		}
		op.mustCommit()
		if got, _ := e.committedCheckpoints(); len(got) != 1 || got[0].Cursor != at {
			e.t.Errorf("checkpoints %+v, want c at %s", got, at)
		}
	})

	runConsumer(t, h, "ClaimSkipsARowBeingSet", false, func(e *cenv[TX]) {
		op := e.begin("op")
		op.mustSet("c", core.Cursor{TransactionOrder: 1})
		batch := e.begin("batch")
		if _, claimed := batch.claimNow("c"); claimed {
			e.t.Error("claimed a checkpoint another transaction is setting")
		}
		op.mustCommit()
		batch.mustRollback()
	})

	runConsumer(t, h, "DeadlineWhileWaitingFails", false, func(e *cenv[TX]) {
		holder, op := e.begin("holder"), e.begin("op")
		holder.claimNow("c")
		ctx, cancel := context.WithTimeout(e.ctx, 100*time.Millisecond)
		defer cancel()
		if err := e.cs.SetCheckpoint(ctx, op.tx, "c", core.Cursor{}); !errors.Is(err, context.DeadlineExceeded) {
			e.t.Fatalf("SetCheckpoint while the row is held past its deadline: %v, want context.DeadlineExceeded", err)
		}
		// A driver may have closed the connection to interrupt the
		// statement; the transaction is over either way.
		op.ended.Store(true)
		_ = e.cs.Rollback(e.ctx, op.tx)
		holder.mustCommit()
	})
}

func checkUTCTime(t *testing.T, where string, at time.Time) {
	t.Helper()
	if name, offset := at.Zone(); offset != 0 || name != "UTC" {
		t.Errorf("%s: %s is in zone %s, want UTC", where, at, name)
	}
}
