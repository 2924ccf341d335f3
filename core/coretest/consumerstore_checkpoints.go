package coretest

import (
	"context"
	"errors"
	"fmt"
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
			x.e.t.Fatalf("%s: claiming %q waited for %s: ClaimCheckpoint must not wait for a lease (%v)", x.name, consumer, claimWait, err)
		}
		x.e.t.Fatalf("%s: claiming %q: %v", x.name, consumer, err)
	}
	if claimed {
		if cp.ConsumerName != consumer {
			x.e.t.Errorf("%s: claiming %q returned the checkpoint of %q", x.name, consumer, cp.ConsumerName)
		}
		if cp.ClaimedAt.IsZero() {
			x.e.t.Errorf("%s: claiming %q: zero ClaimedAt", x.name, consumer)
		} else {
			checkUTCTime(x.e.t, "ClaimedAt", cp.ClaimedAt)
		}
	}
	return cp, claimed
}

// sameCheckpoint reports whether two checkpoints are equal, cursors
// compared by value (nil and empty running lists are the same) and times
// by instant, ClaimedAt ignored.
func sameCheckpoint(a, b core.Checkpoint) bool {
	return a.ConsumerName == b.ConsumerName && a.Cursor.String() == b.Cursor.String() &&
		a.UpdatedAt.Equal(b.UpdatedAt) && a.Owner == b.Owner && a.FailedAttempts == b.FailedAttempts &&
		a.StoppedAt.Equal(b.StoppedAt) && a.LastError == b.LastError &&
		a.LastErrorPosition == b.LastErrorPosition && a.LastErrorAt.Equal(b.LastErrorAt) &&
		a.Delivered == b.Delivered && a.DeliveredSince.Equal(b.DeliveredSince)
}

// atStart reports whether c is the zero cursor: the start of the log.
func atStart(c core.Cursor) bool {
	return c.Snapshot.IsZero() && !c.Paging() && c.Position == 0
}

// checkpointOf returns the named checkpoint from a listing, whether it is
// held, and whether it is listed.
func checkpointOf(name string, cps []core.Checkpoint, held []bool) (core.Checkpoint, bool, bool) {
	for i, cp := range cps {
		if cp.ConsumerName == name {
			return cp, held[i], true
		}
	}
	return core.Checkpoint{}, false, false
}

// committedCheckpoint returns the named checkpoint a new transaction sees,
// whether it is held, and whether it exists.
func (e *cenv[TX]) committedCheckpoint(name string) (core.Checkpoint, bool, bool) {
	e.t.Helper()
	cps, held := e.committedCheckpoints()
	return checkpointOf(name, cps, held)
}

// pagingCursor returns a real paging cursor with running transactions in
// both snapshots: a snapshot taken while two writers hold ids, and one
// taken after the first of them committed and a third one rolled back, so
// that the upper snapshot's Xmax is the higher, and above every stored id.
func (e *cenv[TX]) pagingCursor() core.Cursor {
	e.t.Helper()
	w1, w2 := e.begin("writer 1"), e.begin("writer 2")
	first := w1.mustAppend(newAgg("Order").events(1)...)
	second := w2.mustAppend(newAgg("Order").events(1)...)
	x := e.begin("observer")
	s1 := x.mustSnapshot()
	w1.mustCommit()
	// A writer after s1 makes s2's Xmax higher than s1's; rolled back, it
	// leaves that Xmax above every stored event's id.
	w3 := e.begin("writer 3")
	w3.mustAppend(newAgg("Order").events(1)...)
	w3.mustRollback()
	s2 := x.mustSnapshot()
	x.mustRollback()
	w2.mustRollback()
	// Running writers are not visible: listed in Xip, or at or above Xmax.
	if s1.Visible(first.Events[0].TransactionID) || s1.Visible(second.Events[0].TransactionID) || s2.Visible(second.Events[0].TransactionID) {
		e.t.Fatalf("snapshots %s and %s taken while writers %d and %d held ids see them", s1, s2,
			first.Events[0].TransactionID, second.Events[0].TransactionID)
	}
	c := core.Cursor{Snapshot: s1, Upper: s2, Position: first.Events[0].GlobalPosition}
	if err := c.Validate(); err != nil {
		e.t.Fatalf("a cursor of two snapshots taken in order is invalid: %v", err)
	}
	return c
}

// testClaim: a consumer's lease is a lock of its own, taken without waiting
// and without a transaction id, and held until the transaction ends.
func testClaim[TX any](t *testing.T, h ConsumerStoreHarness[TX]) {
	runConsumer(t, h, "NeverSavedStartsAtTheStartAndOthersAreRefused", false, func(e *cenv[TX]) {
		first, other := e.begin("first"), e.begin("other")
		cp, claimed := first.claimNow("c")
		if !claimed || !atStart(cp.Cursor) || !cp.UpdatedAt.IsZero() || cp.FailedAttempts != 0 ||
			!cp.StoppedAt.IsZero() || cp.LastError != "" || cp.LastErrorPosition != 0 || !cp.LastErrorAt.IsZero() || cp.Owner != "" {
			e.t.Fatalf("first claim: %+v, claimed %v; want the start of the log, never updated", cp, claimed)
		}
		if _, claimed := first.claimNow("c"); !claimed {
			e.t.Error("claiming a lease the transaction holds: not claimed")
		}
		if _, claimed := other.claimNow("c"); claimed {
			e.t.Error("claimed a lease another transaction holds")
		}
		if cps, _ := e.committedCheckpoints(); len(cps) != 0 {
			e.t.Errorf("a claim wrote a checkpoint: %+v", cps)
		}
		first.mustCommit()
		if _, claimed := other.claimNow("c"); !claimed {
			e.t.Fatal("the lease is free after its holder committed: not claimed")
		}
		other.mustRollback()
		third := e.begin("third")
		if _, claimed := third.claimNow("c"); !claimed {
			e.t.Error("the lease is free after its holder rolled back: not claimed")
		}
		third.mustCommit()
	})

	runConsumer(t, h, "ConcurrentClaimsOneWinsNoneWaits", false, func(e *cenv[TX]) {
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
				e.t.Fatalf("a concurrent claim failed (a claim that waits runs into the deadline): %v", r.err)
			}
			if r.claimed {
				winners++
			}
		}
		if winners != 1 {
			e.t.Errorf("%d of %d concurrent claims won, want exactly 1", winners, n)
		}
		for _, x := range txs {
			x.mustCommit()
		}
	})

	runConsumer(t, h, "GivesNoTransactionIDSoOwnAppendsAreDeliveredLater", false, func(e *cenv[TX]) {
		// The trap of DESIGN §6: a batch transaction holding an id when
		// its batch takes the snapshot would count its own later appends
		// as delivered.
		before := e.appendCommitted(newAgg("Order").events(1)...)
		a := e.begin("batch")
		cp, claimed := a.claimNow("c")
		if !claimed {
			e.t.Fatal("not claimed")
		}
		// Ids rise in the order transactions take them: one taken at the
		// claim would be below the id of a writer that commits after it.
		between := e.appendCommitted(newAgg("Order").events(1)...)
		b := a.mustBatch(cp.Cursor, nil, 100)
		if !sameEvents(b.Events, byPosition(before.Events, between.Events)...) {
			e.t.Errorf("the batch holds %v, want the events committed before it %v", ids(b.Events), ids(byPosition(before.Events, between.Events)))
		}
		own := a.mustAppend(newAgg("Order").events(2)...)
		if own.Events[0].TransactionID <= between.Events[0].TransactionID {
			e.t.Errorf("the claiming transaction's id %d is below that of a writer that began after the claim (%d): the claim gave it a transaction id",
				own.Events[0].TransactionID, between.Events[0].TransactionID)
		}
		if b.Next.Delivered(own.Events[0]) {
			e.t.Errorf("the claiming transaction's own append (writer %d) counts as delivered at its batch's Next %s: the claim gave it a transaction id", own.Events[0].TransactionID, b.Next)
		}
		if s := a.mustSnapshot(); s.Visible(own.Events[0].TransactionID) {
			e.t.Errorf("the transaction's own id %d is visible in its CurrentSnapshot %s", own.Events[0].TransactionID, s)
		}
		cp.Cursor = b.Next
		a.mustSave(cp)
		a.mustCommit()

		x := e.begin("next batch")
		defer x.mustRollback()
		saved, claimed := x.claimNow("c")
		if !claimed || saved.Cursor.String() != b.Next.String() {
			e.t.Fatalf("the next claim: %+v, claimed %v; want the saved cursor %s", saved, claimed, b.Next)
		}
		got := x.mustBatch(saved.Cursor, nil, 100)
		if !sameEvents(got.Events, own.Events...) {
			e.t.Errorf("the batch after the saved cursor holds %v; want the previous batch's own appends %v", ids(got.Events), ids(own.Events))
		}
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

	runConsumer(t, h, "ClaimReadsTheCommittedCheckpoint", false, func(e *cenv[TX]) {
		at := e.pagingCursor()
		x := e.begin("op")
		x.mustSave(core.Checkpoint{ConsumerName: "c", Cursor: at, Owner: "host/1"})
		y := e.begin("batch")
		if cp, claimed := y.claimNow("c"); !claimed || !atStart(cp.Cursor) {
			e.t.Errorf("claim while another transaction's save is uncommitted: %+v, claimed %v; want the start of the log", cp, claimed)
		}
		y.mustRollback()
		x.mustCommit()
		y = e.begin("batch")
		defer y.mustRollback()
		cp, claimed := y.claimNow("c")
		if !claimed || cp.Cursor.String() != at.String() || cp.Owner != "host/1" || cp.UpdatedAt.IsZero() {
			e.t.Errorf("claim after the save committed: %+v, claimed %v; want the cursor %s, owner host/1", cp, claimed, at)
		}
	})
}

// testCheckpoints: SaveCheckpoint creates or updates a checkpoint, visible
// to others on commit only; Checkpoints lists them by name and reports the
// leases other transactions hold.
func testCheckpoints[TX any](t *testing.T, h ConsumerStoreHarness[TX]) {
	runConsumer(t, h, "SaveRoundTripsAndIsVisibleOnCommitOnly", false, func(e *cenv[TX]) {
		x := e.begin("create")
		x.mustSave(core.Checkpoint{ConsumerName: "c"})
		x.mustCommit()
		created, _ := e.committedCheckpoints()
		if len(created) != 1 || created[0].ConsumerName != "c" || !atStart(created[0].Cursor) || created[0].UpdatedAt.IsZero() {
			e.t.Fatalf("after saving a new checkpoint: %+v; want c at the start, with UpdatedAt", created)
		}

		at := e.pagingCursor()
		x = e.begin("batch")
		cp, claimed := x.claimNow("c")
		if !claimed {
			e.t.Fatal("not claimed")
		}
		cp.Cursor = at
		cp.Owner, cp.FailedAttempts, cp.LastError, cp.LastErrorPosition = "host/1", 2, "boom", 3
		cp.LastErrorAt = time.Date(2030, 1, 1, 0, 0, 0, 1999, time.FixedZone("X", 3600))
		cp.StoppedAt = time.Date(2030, 1, 2, 0, 0, 0, 2001, time.UTC)
		x.mustSave(cp)
		if cps, _ := e.committedCheckpoints(); len(cps) != 1 || !sameCheckpoint(cps[0], created[0]) {
			e.t.Errorf("an uncommitted save is seen by another transaction:\n %+v\nwant\n %+v", cps, created[0])
		}
		if own, _ := x.mustCheckpoints(); len(own) != 1 || own[0].Cursor.String() != at.String() || own[0].LastError != "boom" {
			e.t.Errorf("own view %+v; want the saved checkpoint", own)
		}
		x.mustCommit()

		got, _ := e.committedCheckpoints()
		want := cp
		want.LastErrorAt = time.Date(2029, 12, 31, 23, 0, 0, 1000, time.UTC)
		want.StoppedAt = time.Date(2030, 1, 2, 0, 0, 0, 2000, time.UTC)
		want.UpdatedAt = got[0].UpdatedAt
		if !sameCheckpoint(got[0], want) {
			e.t.Errorf("committed checkpoint\n %+v\nwant (times to the microsecond)\n %+v", got[0], want)
		}
		if !got[0].ClaimedAt.IsZero() {
			e.t.Errorf("Checkpoints returns ClaimedAt %s, want zero", got[0].ClaimedAt)
		}
		if got[0].UpdatedAt.Before(created[0].UpdatedAt) {
			e.t.Errorf("UpdatedAt went back from %s to %s", created[0].UpdatedAt, got[0].UpdatedAt)
		}
		for _, tm := range []struct {
			name string
			at   time.Time
		}{{"UpdatedAt", got[0].UpdatedAt}, {"LastErrorAt", got[0].LastErrorAt}, {"StoppedAt", got[0].StoppedAt}} {
			checkUTCTime(e.t, tm.name, tm.at)
		}

		// Clearing the failure fields stores them as absent.
		x = e.begin("clear")
		cp, _ = x.claimNow("c")
		cp.FailedAttempts, cp.LastError, cp.LastErrorPosition, cp.LastErrorAt, cp.StoppedAt = 0, "", 0, time.Time{}, time.Time{}
		x.mustSave(cp)
		x.mustCommit()
		if got, _ := e.committedCheckpoints(); got[0].FailedAttempts != 0 || got[0].LastError != "" || got[0].LastErrorPosition != 0 ||
			!got[0].LastErrorAt.IsZero() || !got[0].StoppedAt.IsZero() || got[0].Cursor.String() != at.String() || got[0].Owner != "host/1" {
			e.t.Errorf("after clearing the failure: %+v", got[0])
		}

		before, _ := e.committedCheckpoints()
		x = e.begin("rolled back")
		cp, _ = x.claimNow("c")
		cp.Cursor = core.Cursor{Snapshot: at.Upper}
		x.mustSave(cp)
		x.mustRollback()
		if got, _ := e.committedCheckpoints(); !sameCheckpoint(got[0], before[0]) {
			e.t.Errorf("after a rolled-back save: %+v, want %+v", got[0], before[0])
		}
	})

	runConsumer(t, h, "OrderedByNameHeldOnlyByAnother", false, func(e *cenv[TX]) {
		x := e.begin("create")
		for _, name := range []string{"b", "a", "B", "_z"} {
			x.mustSave(core.Checkpoint{ConsumerName: name})
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

		batch := e.begin("batch")
		batch.claimNow("a")
		batch.claimNow("unsaved")
		cps, held = e.committedCheckpoints()
		if len(cps) != 4 {
			e.t.Errorf("%d checkpoints while a consumer without one is claimed, want 4", len(cps))
		}
		for i, cp := range cps {
			if held[i] != (cp.ConsumerName == "a") {
				e.t.Errorf("while a batch of a runs: %s held %v", cp.ConsumerName, held[i])
			}
		}
		if cps, held := batch.mustCheckpoints(); slices.Contains(held, true) {
			e.t.Errorf("the lease holder sees its own lease as held by another transaction: %v %v", names, held)
		} else if len(cps) != 4 {
			e.t.Errorf("the lease holder sees %d checkpoints, want 4", len(cps))
		}
		batch.mustCommit()

		op := e.begin("op")
		op.mustSet("b", core.Cursor{})
		if _, h, _ := e.committedCheckpoint("b"); !h {
			e.t.Error("while an operation sets b: b not held")
		}
		op.mustRollback()
		if _, held := e.committedCheckpoints(); slices.Contains(held, true) {
			e.t.Errorf("held %v after every transaction ended", held)
		}
	})

	runConsumer(t, h, "InvalidArguments", false, func(e *cenv[TX]) {
		x := e.begin("tx")
		defer x.mustRollback()
		bad := []core.Cursor{
			{Snapshot: core.Snapshot{Xmin: 5, Xmax: 3}},
			{Snapshot: core.Snapshot{Xmin: 1, Xmax: 5, Xip: []int64{3, 2}}},
			{Snapshot: core.Snapshot{Xmin: 1, Xmax: 5}, Position: 4},
			{Snapshot: core.Snapshot{Xmin: 5, Xmax: 9}, Upper: core.Snapshot{Xmin: 1, Xmax: 2}, Position: 1},
		}
		wantInvalid := func(what string, err error) {
			e.t.Helper()
			if !errors.Is(err, core.ErrInvalidArgument) {
				e.t.Errorf("%s: %v, want ErrInvalidArgument", what, err)
			}
		}
		_, _, err := e.cs.ClaimCheckpoint(e.ctx, x.tx, "")
		wantInvalid("claiming an empty name", err)
		wantInvalid("saving an empty name", e.cs.SaveCheckpoint(e.ctx, x.tx, core.Checkpoint{}))
		_, err = e.cs.DeleteCheckpoint(e.ctx, x.tx, "")
		wantInvalid("deleting an empty name", err)
		for _, limit := range []int{0, -1} {
			_, err = e.cs.ReadConsumerBatch(e.ctx, x.tx, core.Cursor{}, core.ConsumerScope{}, limit)
			wantInvalid(fmt.Sprintf("reading a batch of %d", limit), err)
		}
		for _, c := range bad {
			wantInvalid("saving the cursor "+c.String(), e.cs.SaveCheckpoint(e.ctx, x.tx, core.Checkpoint{ConsumerName: "c", Cursor: c}))
			wantInvalid("setting the cursor "+c.String(), e.cs.SetCheckpoint(e.ctx, x.tx, "c", c))
			_, err = e.cs.ReadConsumerBatch(e.ctx, x.tx, c, core.ConsumerScope{}, 10)
			wantInvalid("reading a batch after "+c.String(), err)
			_, err = e.cs.Lag(e.ctx, x.tx, c, core.ConsumerScope{})
			wantInvalid("measuring the lag after "+c.String(), err)
		}
		// Rejected before any statement: the transaction is still usable.
		x.claimNow("c")
		if cps, _ := x.mustCheckpoints(); len(cps) != 0 {
			e.t.Errorf("invalid saves stored %+v", cps)
		}
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

// testSetCheckpoint: operations move or delete a consumer's checkpoint,
// waiting for a running batch's lease instead of skipping it.
func testSetCheckpoint[TX any](t *testing.T, h ConsumerStoreHarness[TX]) {
	runConsumer(t, h, "CreatesAMissingCheckpoint", false, func(e *cenv[TX]) {
		at := e.pagingCursor()
		x := e.begin("op")
		x.mustSet("c", at)
		x.mustCommit()
		cps, _ := e.committedCheckpoints()
		if len(cps) != 1 || cps[0].ConsumerName != "c" || cps[0].Cursor.String() != at.String() || cps[0].UpdatedAt.IsZero() {
			e.t.Errorf("checkpoints %+v, want c at %s", cps, at)
		}
	})

	runConsumer(t, h, "WaitsForTheLeaseAndClearsTheFailure", false, func(e *cenv[TX]) {
		batch := e.begin("batch")
		cp, _ := batch.claimNow("c")
		cp.Cursor = e.pagingCursor()
		cp.Owner = "host/1"
		cp.FailedAttempts, cp.StoppedAt, cp.LastError, cp.LastErrorPosition = 3, time.Now(), "boom", 7
		cp.LastErrorAt = time.Now()
		batch.mustSave(cp)

		op := e.begin("op")
		var released atomic.Bool
		done := async(&released, func() error { return e.cs.SetCheckpoint(e.ctx, op.tx, "c", core.Cursor{}) })
		e.untilWaiting(op, done, "SetCheckpoint of a consumer a batch holds")
		released.Store(true)
		batch.mustCommit()
		r := e.awaitResult(done, "SetCheckpoint")
		if r.err != nil {
			e.t.Fatalf("SetCheckpoint: %v", r.err)
		}
		if !r.after {
			e.t.Error("SetCheckpoint returned while a batch held the lease: it must wait for it")
		}
		if _, h, _ := e.committedCheckpoint("c"); !h {
			e.t.Error("SetCheckpoint does not hold the lease until its transaction ends")
		}
		op.mustCommit()

		got, _ := e.committedCheckpoints()
		if c := got[0]; !atStart(c.Cursor) || c.FailedAttempts != 0 || !c.StoppedAt.IsZero() ||
			c.LastError != "boom" || c.LastErrorPosition != 7 || c.LastErrorAt.IsZero() || c.Owner != "host/1" {
			e.t.Errorf("after SetCheckpoint: %+v; want the start, no failures, not stopped, the last error and owner kept", c)
		}
	})

	runConsumer(t, h, "WaitsForALeaseOfAConsumerNeverSaved", false, func(e *cenv[TX]) {
		batch, op := e.begin("batch"), e.begin("op")
		batch.claimNow("c")
		at := e.pagingCursor()
		var released atomic.Bool
		done := async(&released, func() error { return e.cs.SetCheckpoint(e.ctx, op.tx, "c", at) })
		e.untilWaiting(op, done, "SetCheckpoint of a consumer whose first batch runs")
		released.Store(true)
		batch.mustRollback()
		r := e.awaitResult(done, "SetCheckpoint")
		if r.err != nil {
			e.t.Fatalf("SetCheckpoint: %v", r.err)
		}
		if !r.after {
			e.t.Error("SetCheckpoint returned while a batch held the lease: it must wait")
		}
		op.mustCommit()
		if got, _ := e.committedCheckpoints(); len(got) != 1 || got[0].Cursor.String() != at.String() {
			e.t.Errorf("checkpoints %+v, want c at %s", got, at)
		}
	})

	runConsumer(t, h, "ClaimIsRefusedWhileSet", false, func(e *cenv[TX]) {
		op := e.begin("op")
		op.mustSet("c", core.Cursor{})
		batch := e.begin("batch")
		if _, claimed := batch.claimNow("c"); claimed {
			e.t.Error("claimed a consumer another transaction is setting")
		}
		op.mustCommit()
		if _, claimed := batch.claimNow("c"); !claimed {
			e.t.Error("not claimed after the operation committed")
		}
		batch.mustRollback()
	})

	runConsumer(t, h, "DeadlineWhileWaitingFails", false, func(e *cenv[TX]) {
		holder, op := e.begin("holder"), e.begin("op")
		holder.claimNow("c")
		ctx, cancel := context.WithTimeout(e.ctx, 100*time.Millisecond)
		defer cancel()
		if err := e.cs.SetCheckpoint(ctx, op.tx, "c", core.Cursor{}); !errors.Is(err, context.DeadlineExceeded) {
			e.t.Fatalf("SetCheckpoint while the lease is held past its deadline: %v, want context.DeadlineExceeded", err)
		}
		// A driver may have closed the connection to interrupt the
		// statement; the transaction is over either way.
		op.ended.Store(true)
		_ = e.cs.Rollback(e.ctx, op.tx)
		holder.mustCommit()
	})

	runConsumer(t, h, "DeleteWaitsForTheLeaseAndRemoves", false, func(e *cenv[TX]) {
		x := e.begin("create")
		x.mustSave(core.Checkpoint{ConsumerName: "c"})
		x.mustSave(core.Checkpoint{ConsumerName: "d"})
		x.mustCommit()

		batch, op := e.begin("batch"), e.begin("op")
		batch.claimNow("c")
		var released atomic.Bool
		var deleted atomic.Bool
		done := async(&released, func() error {
			d, err := e.cs.DeleteCheckpoint(e.ctx, op.tx, "c")
			deleted.Store(d)
			return err
		})
		e.untilWaiting(op, done, "DeleteCheckpoint of a consumer a batch holds")
		released.Store(true)
		batch.mustCommit()
		r := e.awaitResult(done, "DeleteCheckpoint")
		if r.err != nil {
			e.t.Fatalf("DeleteCheckpoint: %v", r.err)
		}
		if !r.after {
			e.t.Error("DeleteCheckpoint returned while a batch held the lease: it must wait for it")
		}
		if !deleted.Load() {
			e.t.Error("DeleteCheckpoint of an existing checkpoint: deleted false")
		}
		if _, _, found := e.committedCheckpoint("c"); !found {
			e.t.Error("an uncommitted delete is seen by another transaction")
		}
		cps, held := op.mustCheckpoints()
		if _, _, found := checkpointOf("c", cps, held); found {
			e.t.Error("the deleting transaction still sees the checkpoint")
		}
		if op.mustDelete("c") {
			e.t.Error("deleting a checkpoint twice: deleted true the second time")
		}
		op.mustCommit()
		cps, _ = e.committedCheckpoints()
		if len(cps) != 1 || cps[0].ConsumerName != "d" {
			e.t.Errorf("checkpoints after the delete: %+v; want d only", cps)
		}

		y := e.begin("missing")
		if y.mustDelete("never") {
			e.t.Error("deleting a missing checkpoint: deleted true")
		}
		y.mustCommit()
		z := e.begin("rolled back")
		if !z.mustDelete("d") {
			e.t.Error("deleting d: deleted false")
		}
		z.mustRollback()
		if _, _, found := e.committedCheckpoint("d"); !found {
			e.t.Error("a rolled-back delete removed the checkpoint")
		}
	})
}

func checkUTCTime(t *testing.T, where string, at time.Time) {
	t.Helper()
	if at.IsZero() {
		return
	}
	if name, offset := at.Zone(); offset != 0 || name != "UTC" {
		t.Errorf("%s: %s is in zone %s, want UTC", where, at, name)
	}
}
