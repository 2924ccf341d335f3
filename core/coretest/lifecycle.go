package coretest

import (
	"bytes"
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/chronicle-go/chronicle/core"
)

// DeleteFunc runs an operator's hard deletion of one stream
// (core.StreamDeleter.DeleteStream) in a transaction of its own, with the
// privileges it needs (on PostgreSQL: the tables' owner, even when the
// instance's Store runs as the application role), and commits it.
type DeleteFunc func(ctx context.Context, aggregateType, aggregateID string) (core.DeletedStream, error)

// Deleter returns the DeleteFunc that runs d.DeleteStream in a transaction
// from begin, committed with commit (rolled back with rollback on error).
func Deleter[TX any](d core.StreamDeleter[TX], begin func(ctx context.Context) (TX, error),
	commit, rollback func(ctx context.Context, tx TX) error) DeleteFunc {
	return func(ctx context.Context, aggregateType, aggregateID string) (core.DeletedStream, error) {
		tx, err := begin(ctx)
		if err != nil {
			return core.DeletedStream{}, err
		}
		out, err := d.DeleteStream(ctx, tx, aggregateType, aggregateID)
		if err != nil {
			_ = rollback(ctx, tx)
			return core.DeletedStream{}, err
		}
		return out, commit(ctx, tx)
	}
}

// mustDelete runs the instance's DeleteFunc, failing the case when the
// harness has none.
func mustDelete(t *testing.T, ctx context.Context, del DeleteFunc, a agg) core.DeletedStream {
	t.Helper()
	if del == nil {
		t.Fatal("coretest: the Instance's DeleteStream is nil: the harness must provide the operator's deletion (see coretest.Deleter)")
	}
	out, err := del(ctx, a.typ, a.id)
	if err != nil {
		t.Fatalf("deleting stream %s: %v", a, err)
	}
	if out.AggregateType != a.typ || out.AggregateID != a.id {
		t.Errorf("deleting stream %s: result names %s/%s", a, out.AggregateType, out.AggregateID)
	}
	return out
}

func (x *txn[TX]) tombstone(a agg, expected core.ExpectedVersion, t core.Tombstone) (core.AppendResult, error) {
	return x.e.store.Tombstone(x.e.ctx, x.tx, a.typ, a.id, expected, t)
}

func (x *txn[TX]) save(a agg, version int64, schema int, state []byte) error {
	return x.e.store.SaveSnapshot(x.e.ctx, x.tx, a.typ, a.id, version, schema, state)
}

func (x *txn[TX]) mustSave(a agg, version int64, schema int, state []byte) {
	x.e.t.Helper()
	if err := x.save(a, version, schema, state); err != nil {
		x.e.t.Fatalf("%s: saving the snapshot of %s at version %d (schema %d): %v", x.name, a, version, schema, err)
	}
}

func (x *txn[TX]) mustLoad(a agg, schema int) core.LoadedAggregate {
	x.e.t.Helper()
	l, err := x.e.store.LoadAggregate(x.e.ctx, x.tx, a.typ, a.id, schema)
	if err != nil {
		x.e.t.Fatalf("%s: loading %s (schema %d): %v", x.name, a, schema, err)
	}
	if l.Stream.AggregateType != a.typ || l.Stream.AggregateID != a.id {
		x.e.t.Errorf("%s: loading %s: Stream names %s/%s", x.name, a, l.Stream.AggregateType, l.Stream.AggregateID)
	}
	return l
}

// committed appends n events to a new aggregate of type typ, committed.
func (e *env[TX]) committed(typ string, n int) agg {
	e.t.Helper()
	a := newAgg(typ)
	x := e.begin("writer")
	x.mustAppend(core.NoStream(), a.events(n)...)
	x.mustCommit()
	return a
}

// wantSnapshot checks a loaded snapshot's version, schema and state, and
// that the events after it follow on from it up to last.
func wantSnapshot(t *testing.T, what string, l core.LoadedAggregate, version int64, schema int, state []byte, last int64) {
	t.Helper()
	if l.Snapshot == nil {
		t.Fatalf("%s: no snapshot loaded, want version %d", what, version)
	}
	s := l.Snapshot
	if s.Version != version || s.SchemaVersion != schema || !bytes.Equal(s.State, state) || s.State == nil || s.SavedAt.IsZero() {
		t.Errorf("%s: snapshot version %d schema %d state %q (nil %v) saved %v, want version %d schema %d state %q", what,
			s.Version, s.SchemaVersion, s.State, s.State == nil, s.SavedAt, version, schema, state)
	}
	checkVersions(t, what, l.Stream.Events, version+1, last)
	if l.Version() != last {
		t.Errorf("%s: Version() = %d, want %d", what, l.Version(), last)
	}
}

func wantClosed(t *testing.T, what string, err error, a agg, version int64, deleted bool) {
	t.Helper()
	var ce *core.StreamClosedError
	if !errors.Is(err, core.ErrStreamClosed) || !errors.As(err, &ce) {
		t.Fatalf("%s: %v, want ErrStreamClosed", what, err)
	}
	if ce.AggregateType != a.typ || ce.AggregateID != a.id || ce.Version != version || ce.Deleted != deleted {
		t.Errorf("%s: %+v, want %s at version %d, deleted %v", what, ce, a, version, deleted)
	}
}

// testSnapshotsStore: SaveSnapshot and LoadAggregate (core.SnapshotStore).
func testSnapshotsStore[TX any](t *testing.T, h Harness[TX]) {
	run(t, h, "LoadsTheSnapshotAndTheEventsAfterIt", func(e *env[TX]) {
		a := e.committed("Account", 10)
		x := e.begin("saver")
		x.mustSave(a, 6, 1, []byte(`{"balance":6}`))
		x.mustCommit()
		r := e.begin("reader")
		defer r.mustRollback()
		wantSnapshot(e.t, "schema 1", r.mustLoad(a, 1), 6, 1, []byte(`{"balance":6}`), 10)
		wantSnapshot(e.t, "schema 0 means 1", r.mustLoad(a, 0), 6, 1, []byte(`{"balance":6}`), 10)
		other := r.mustLoad(a, 2)
		if other.Snapshot != nil {
			e.t.Errorf("schema 2: loaded %+v, want no snapshot (another schema version is ignored)", other.Snapshot)
		}
		checkVersions(e.t, "schema 2", other.Stream.Events, 1, 10)
		if other.Version() != 10 || other.Stream.Closed {
			e.t.Errorf("schema 2: Version %d Closed %v", other.Version(), other.Stream.Closed)
		}
	})
	run(t, h, "SnapshotAtTheLastVersionLoadsNoEvents", func(e *env[TX]) {
		a := e.committed("Account", 4)
		x := e.begin("saver")
		x.mustSave(a, 4, 3, nil)
		x.mustCommit()
		r := e.begin("reader")
		defer r.mustRollback()
		l := r.mustLoad(a, 3)
		wantSnapshot(e.t, "at the last version", l, 4, 3, []byte{}, 4)
		if len(l.Stream.Events) != 0 {
			e.t.Errorf("%d events after the snapshot, want 0", len(l.Stream.Events))
		}
	})
	run(t, h, "UnknownAggregateLoadsEmpty", func(e *env[TX]) {
		r := e.begin("reader")
		defer r.mustRollback()
		l := r.mustLoad(newAgg("Account"), 1)
		if l.Snapshot != nil || len(l.Stream.Events) != 0 || l.Version() != 0 || l.Stream.Closed || l.Stream.Deleted {
			e.t.Errorf("unknown aggregate loaded %+v", l)
		}
	})
	run(t, h, "VersionBeyondTheStreamIsRejected", func(e *env[TX]) {
		a := e.committed("Account", 3)
		x := e.begin("saver")
		for _, tc := range []struct {
			a      agg
			v      int64
			stream int64
		}{{a, 4, 3}, {a, 1000, 3}, {newAgg("Account"), 1, 0}} {
			err := x.save(tc.a, tc.v, 1, []byte("s"))
			var ve *core.SnapshotVersionError
			if !errors.Is(err, core.ErrSnapshotVersion) || !errors.As(err, &ve) {
				e.t.Fatalf("saving %s at %d: %v, want ErrSnapshotVersion", tc.a, tc.v, err)
			}
			if ve.AggregateType != tc.a.typ || ve.AggregateID != tc.a.id || ve.Version != tc.v || ve.StreamVersion != tc.stream {
				e.t.Errorf("saving %s at %d: %+v, want stream version %d", tc.a, tc.v, ve, tc.stream)
			}
		}
		// The transaction stays usable: the error wrote nothing.
		x.mustSave(a, 3, 1, []byte("ok"))
		x.mustAppend(core.Exact(3), a.events(1)...)
		x.mustCommit()
		r := e.begin("reader")
		defer r.mustRollback()
		wantSnapshot(e.t, "after the rejected saves", r.mustLoad(a, 1), 3, 1, []byte("ok"), 4)
	})
	run(t, h, "BadArgumentsAreInvalid", func(e *env[TX]) {
		a := e.committed("Account", 3)
		x := e.begin("saver")
		defer x.mustRollback()
		for name, err := range map[string]error{
			"version 0":        x.save(a, 0, 1, nil),
			"version -1":       x.save(a, -1, 1, nil),
			"schema -1":        x.save(a, 1, -1, nil),
			"empty type":       x.save(agg{typ: "", id: a.id}, 1, 1, nil),
			"NUL in id":        x.save(agg{typ: a.typ, id: "a\x00b"}, 1, 1, nil),
			"invalid UTF-8 id": x.save(agg{typ: a.typ, id: "\xff"}, 1, 1, nil),
		} {
			wantInvalidArgument(e.t, "SaveSnapshot "+name, err)
		}
		for name, schema := range map[string]int{"schema -1": -1, "schema 2^31": 1 << 31} {
			_, err := e.store.LoadAggregate(e.ctx, x.tx, a.typ, a.id, schema)
			wantInvalidArgument(e.t, "LoadAggregate "+name, err)
		}
		_, err := e.store.LoadAggregate(e.ctx, x.tx, "", a.id, 1)
		wantInvalidArgument(e.t, "LoadAggregate empty type", err)
		x.mustSave(a, 2, 1, []byte("still usable"))
	})
	run(t, h, "SameVersionReplacesOlderVersionIsKeptOut", func(e *env[TX]) {
		a := e.committed("Account", 8)
		x := e.begin("saver")
		x.mustSave(a, 6, 1, []byte("first"))
		x.mustSave(a, 6, 1, []byte("rewritten"))
		x.mustCommit()
		y := e.begin("late saver")
		y.mustSave(a, 4, 1, []byte("older"))
		y.mustCommit()
		r := e.begin("reader")
		defer r.mustRollback()
		wantSnapshot(e.t, "after an older save", r.mustLoad(a, 1), 6, 1, []byte("rewritten"), 8)
	})
	run(t, h, "SavedWithTheAppendsOfItsTransaction", func(e *env[TX]) {
		a := newAgg("Account")
		x := e.begin("handler")
		x.mustAppend(core.NoStream(), a.events(3)...)
		x.mustSave(a, 3, 1, []byte("three"))
		wantSnapshot(e.t, "own transaction", x.mustLoad(a, 1), 3, 1, []byte("three"), 3)
		other := e.begin("other")
		if l := other.mustLoad(a, 1); l.Snapshot != nil || len(l.Stream.Events) != 0 {
			e.t.Errorf("another transaction loaded the uncommitted snapshot or events: %+v", l)
		}
		x.mustCommit()
		wantSnapshot(e.t, "after commit", other.mustLoad(a, 1), 3, 1, []byte("three"), 3)
		other.mustRollback()

		y := e.begin("rolled back")
		y.mustAppend(core.Exact(3), a.events(2)...)
		y.mustSave(a, 5, 1, []byte("five"))
		y.mustRollback()
		r := e.begin("reader")
		defer r.mustRollback()
		wantSnapshot(e.t, "after a rollback", r.mustLoad(a, 1), 3, 1, []byte("three"), 3)
	})
	run(t, h, "SavesNeverWaitForAppends", func(e *env[TX]) {
		a := e.committed("Account", 2)
		w := e.begin("writer")
		w.mustAppend(core.Exact(2), a.events(3)...) // holds the aggregate until it ends
		x := e.begin("saver")
		err := x.save(a, 5, 1, []byte("uncommitted version"))
		var ve *core.SnapshotVersionError
		if !errors.As(err, &ve) || ve.StreamVersion != 2 {
			e.t.Fatalf("saving a version only an open transaction has: %v, want ErrSnapshotVersion at stream version 2", err)
		}
		x.mustSave(a, 2, 1, []byte("two")) // returns while w holds the aggregate
		x.mustCommit()
		w.mustCommit()
		r := e.begin("reader")
		defer r.mustRollback()
		wantSnapshot(e.t, "snapshot under an append", r.mustLoad(a, 1), 2, 1, []byte("two"), 5)
	})
	run(t, h, "ConcurrentSavesOfOneSnapshotSerialise", func(e *env[TX]) {
		a := e.committed("Account", 5)
		x := e.begin("first")
		x.mustSave(a, 4, 1, []byte("four"))
		y := e.begin("second")
		done := make(chan error, 1)
		go func() { done <- y.save(a, 3, 1, []byte("three")) }()
		untilBlocked(e.t, e.ctx, e.inst.AwaitLockWait, "Instance", y.tx, done, "a save of the snapshot another transaction saves")
		x.mustCommit()
		if err := <-done; err != nil {
			e.t.Fatalf("second save: %v", err)
		}
		y.mustCommit()
		r := e.begin("reader")
		defer r.mustRollback()
		wantSnapshot(e.t, "the higher version wins", r.mustLoad(a, 1), 4, 1, []byte("four"), 5)
	})
	run(t, h, "SnapshotsOfEachSchemaVersionAreKept", func(e *env[TX]) {
		a := e.committed("Account", 6)
		x := e.begin("saver")
		x.mustSave(a, 5, 1, []byte("v1 form"))
		x.mustSave(a, 2, 2, []byte("v2 form"))
		x.mustCommit()
		r := e.begin("reader")
		defer r.mustRollback()
		wantSnapshot(e.t, "schema 1", r.mustLoad(a, 1), 5, 1, []byte("v1 form"), 6)
		wantSnapshot(e.t, "schema 2", r.mustLoad(a, 2), 2, 2, []byte("v2 form"), 6)
	})
}

// testTombstones: Tombstone (core.StreamCloser) and closed streams.
func testTombstones[TX any](t *testing.T, h Harness[TX]) {
	run(t, h, "TombstoneClosesTheStream", func(e *env[TX]) {
		a := e.committed("Account", 3)
		x := e.begin("closer")
		res, err := x.tombstone(a, core.Exact(3), core.Tombstone{Payload: []byte(`{"reason":"closed"}`), Metadata: []byte(`{"by":"ops"}`)})
		if err != nil {
			e.t.Fatalf("Tombstone: %v", err)
		}
		if len(res.Events) != 1 || res.FromVersion() != 3 || res.ToVersion() != 4 || res.Events[0].EventType != core.TombstoneEventType ||
			string(res.Events[0].Payload) != `{"reason":"closed"}` || res.Events[0].EventVersion != 1 {
			e.t.Fatalf("Tombstone result %+v", res)
		}
		x.mustCommit()
		r := e.begin("reader")
		s := r.mustAll(a)
		checkVersions(e.t, "closed stream", s.Events, 1, 4)
		if !s.Closed || s.Deleted || s.Events[3].EventType != core.TombstoneEventType || s.Events[3].EventID != res.Events[0].EventID {
			e.t.Errorf("closed stream: Closed %v Deleted %v last %+v", s.Closed, s.Deleted, s.Events[3])
		}
		if w := r.mustStream(a, core.Version(1), core.Version(2)); !w.Closed || w.Len() != 2 {
			e.t.Errorf("a window before the tombstone: Closed %v, %d events", w.Closed, w.Len())
		}
		if l := r.mustLoad(a, 1); !l.Stream.Closed || l.Version() != 4 {
			e.t.Errorf("LoadAggregate of a closed stream: Closed %v, version %d", l.Stream.Closed, l.Version())
		}
		found := false
		for _, ev := range r.mustEvents(0, 1000) {
			found = found || ev.EventID == res.Events[0].EventID
		}
		if !found {
			e.t.Error("the tombstone is not in the global log")
		}
		r.mustRollback()

		y := e.begin("late writer")
		for _, exp := range []core.ExpectedVersion{core.Any(), core.NoStream(), core.StreamExists(), core.Exact(4), core.Exact(3), core.Exact(9)} {
			_, err := y.append(exp, a.events(1)...)
			wantClosed(e.t, "append with "+exp.String(), err, a, 4, false)
		}
		_, err = y.tombstone(a, core.Any(), core.Tombstone{})
		wantClosed(e.t, "a second tombstone", err, a, 4, false)
		// The refusals are results: the transaction still commits its
		// other work.
		b := newAgg("Account")
		y.mustAppend(core.NoStream(), b.events(1)...)
		y.mustSave(a, 4, 1, []byte("a closed stream may be snapshotted"))
		y.mustCommit()
		if s := e.begin("check").mustAll(b); s.Len() != 1 {
			e.t.Errorf("the other aggregate has %d events, want 1", s.Len())
		}
	})
	run(t, h, "TombstoneChecksTheExpectedVersion", func(e *env[TX]) {
		a := e.committed("Account", 3)
		x := e.begin("closer")
		_, err := x.tombstone(a, core.Exact(2), core.Tombstone{})
		wantConflict(e.t, "Tombstone with Exact(2) at version 3", err, a, core.Exact(2), 3)
		_, err = x.tombstone(a, core.NoStream(), core.Tombstone{})
		wantConflict(e.t, "Tombstone with NoStream at version 3", err, a, core.NoStream(), 3)
		x.mustRollback()
		y := e.begin("writer")
		y.mustAppend(core.Exact(3), a.events(1)...)
		y.mustCommit()
		if s := e.begin("reader").mustAll(a); s.Closed || s.Len() != 4 {
			e.t.Errorf("after conflicting tombstones: Closed %v, %d events", s.Closed, s.Len())
		}
	})
	run(t, h, "TombstoneOfANewStreamReservesIt", func(e *env[TX]) {
		a := newAgg("Account")
		x := e.begin("closer")
		res, err := x.tombstone(a, core.NoStream(), core.Tombstone{})
		if err != nil || res.ToVersion() != 1 {
			e.t.Fatalf("Tombstone of a new stream: %+v, %v", res, err)
		}
		x.mustCommit()
		y := e.begin("writer")
		defer y.mustRollback()
		_, err = y.append(core.NoStream(), a.events(1)...)
		wantClosed(e.t, "append to a reserved id", err, a, 1, false)
	})
	run(t, h, "TheTombstoneTypeIsReserved", func(e *env[TX]) {
		a := newAgg("Account")
		x := e.begin("writer")
		defer x.mustRollback()
		ev := a.event(core.TombstoneEventType)
		_, err := x.append(core.Any(), ev)
		var ie *core.InvalidEventError
		if !errors.As(err, &ie) || ie.Field != "EventType" || ie.Index != 0 {
			e.t.Errorf("append of a %q event: %v, want ErrInvalidEvent on EventType", core.TombstoneEventType, err)
		}
		_, err = x.tombstone(a, core.Any(), core.Tombstone{Metadata: []byte(`{"bad"`)})
		if !errors.As(err, &ie) || ie.Field != "Metadata" {
			e.t.Errorf("Tombstone with bad metadata: %v, want ErrInvalidEvent on Metadata", err)
		}
		_, err = x.tombstone(agg{typ: a.typ, id: ""}, core.Any(), core.Tombstone{})
		if !errors.As(err, &ie) || ie.Field != "AggregateID" {
			e.t.Errorf("Tombstone without an id: %v, want ErrInvalidEvent on AggregateID", err)
		}
		_, err = x.tombstone(a, core.Exact(-1), core.Tombstone{})
		wantInvalidArgument(e.t, "Tombstone with Exact(-1)", err)
		x.mustAppend(core.NoStream(), a.events(1)...)
	})
	run(t, h, "AnUncommittedTombstoneIsNotSeen", func(e *env[TX]) {
		a := e.committed("Account", 2)
		x := e.begin("closer")
		if _, err := x.tombstone(a, core.Exact(2), core.Tombstone{}); err != nil {
			e.t.Fatal(err)
		}
		r := e.begin("reader")
		defer r.mustRollback()
		if s := r.mustAll(a); s.Closed || s.Len() != 2 {
			e.t.Errorf("before the commit: Closed %v, %d events", s.Closed, s.Len())
		}
		x.mustCommit()
		if s := r.mustAll(a); !s.Closed || s.Len() != 3 {
			e.t.Errorf("after the commit (a new statement): Closed %v, %d events", s.Closed, s.Len())
		}
	})
	for _, exp := range []core.ExpectedVersion{core.Any(), core.Exact(2), core.StreamExists()} {
		run(t, h, "AnAppendQueuedBehindATombstoneFails/"+exp.String(), func(e *env[TX]) {
			a := e.committed("Account", 2)
			x := e.begin("closer")
			if _, err := x.tombstone(a, core.Exact(2), core.Tombstone{}); err != nil {
				e.t.Fatal(err)
			}
			w := e.begin("writer")
			var ended atomic.Bool
			// Each expectation matches the committed head (version 2, open),
			// so the append queues on the head the tombstone holds, and
			// re-checks the head it left behind.
			ch := w.appendAsync(&ended, exp, a.events(1)...)
			e.untilWaiting(w, ch, "an append behind a tombstone")
			ended.Store(true)
			x.mustCommit()
			o := e.await(ch, "the append behind the tombstone")
			if !o.after {
				e.t.Errorf("append %s returned before the tombstone committed", exp)
			}
			wantClosed(e.t, "append "+exp.String()+" after the tombstone committed", o.err, a, 3, false)
			w.mustRollback()
			if s := e.begin("reader").mustAll(a); !s.Closed || s.Len() != 3 {
				e.t.Errorf("after the race: Closed %v, %d events, want closed at 3", s.Closed, s.Len())
			}
		})
	}
}

// testDeletion: the operator's hard deletion (core.StreamDeleter), through
// the harness's DeleteStream.
func testDeletion[TX any](t *testing.T, h Harness[TX]) {
	run(t, h, "DeletedStreamReadsEmptyAndRefusesAppends", func(e *env[TX]) {
		a := e.committed("Account", 5)
		b := e.committed("Account", 3)
		x := e.begin("saver")
		x.mustSave(a, 4, 1, []byte("gone"))
		x.mustSave(a, 5, 2, []byte("gone too"))
		x.mustCommit()
		r := e.begin("before")
		before := r.mustEvents(0, 1000)
		r.mustRollback()

		out := mustDelete(e.t, e.ctx, e.inst.DeleteStream, a)
		if !out.Existed || out.Events != 5 || out.Snapshots != 2 || out.Version != 5 {
			e.t.Errorf("DeleteStream: %+v, want 5 events, 2 snapshots, version 5", out)
		}

		y := e.begin("after")
		defer y.mustRollback()
		s := y.mustAll(a)
		if s.Len() != 0 || !s.Closed || !s.Deleted {
			e.t.Errorf("deleted stream: %d events, Closed %v, Deleted %v", s.Len(), s.Closed, s.Deleted)
		}
		l := y.mustLoad(a, 1)
		if l.Snapshot != nil || len(l.Stream.Events) != 0 || !l.Stream.Deleted || !l.Stream.Closed {
			e.t.Errorf("LoadAggregate of a deleted stream: %+v", l)
		}
		_, err := y.append(core.Any(), a.events(1)...)
		wantClosed(e.t, "append to a deleted stream", err, a, 5, true)
		wantClosed(e.t, "snapshot of a deleted stream", y.save(a, 5, 1, []byte("x")), a, 5, true)
		// Other streams and the global log are unaffected, less the
		// deleted events.
		checkVersions(e.t, "the other stream", y.mustAll(b).Events, 1, 3)
		var want []core.PersistedEvent
		for _, ev := range before {
			if ev.AggregateID != a.id {
				want = append(want, ev)
			}
		}
		got := y.mustEvents(0, 1000)
		if len(got) != len(want) {
			e.t.Fatalf("global log after the deletion: %d events, want %d", len(got), len(want))
		}
		for i := range got {
			if got[i].EventID != want[i].EventID || got[i].GlobalPosition != want[i].GlobalPosition {
				e.t.Errorf("global log event %d: %s at %d, want %s at %d", i, got[i].EventID, got[i].GlobalPosition, want[i].EventID, want[i].GlobalPosition)
			}
		}
		if latest := y.mustLatest(); latest != got[len(got)-1].GlobalPosition {
			e.t.Errorf("latest position %d, want %d", latest, got[len(got)-1].GlobalPosition)
		}
	})
	run(t, h, "DeletingUnknownAndDeletedStreams", func(e *env[TX]) {
		if out := mustDelete(e.t, e.ctx, e.inst.DeleteStream, newAgg("Account")); out.Existed || out.Events != 0 {
			e.t.Errorf("deleting an unknown stream: %+v", out)
		}
		a := e.committed("Account", 2)
		x := e.begin("closer")
		if _, err := x.tombstone(a, core.Exact(2), core.Tombstone{}); err != nil {
			e.t.Fatal(err)
		}
		x.mustCommit()
		if out := mustDelete(e.t, e.ctx, e.inst.DeleteStream, a); !out.Existed || out.Events != 3 || out.Version != 3 {
			e.t.Errorf("deleting a closed stream: %+v", out)
		}
		if out := mustDelete(e.t, e.ctx, e.inst.DeleteStream, a); !out.Existed || out.Events != 0 || out.Snapshots != 0 {
			e.t.Errorf("deleting it again: %+v", out)
		}
		if s := e.begin("reader").mustAll(a); !s.Closed || !s.Deleted || s.Len() != 0 {
			e.t.Errorf("deleted closed stream: %+v", s)
		}
	})
	run(t, h, "DeletionTakesAConcurrentAppendsEvents", func(e *env[TX]) {
		a := e.committed("Account", 2)
		w := e.begin("writer")
		w.mustAppend(core.Exact(2), a.events(2)...)
		done := make(chan error, 1)
		go func() {
			_, err := e.inst.DeleteStream(e.ctx, a.typ, a.id)
			done <- err
		}()
		// Whether the deletion starts before or after the writer commits,
		// it waits for the writer's lock or runs after it, and removes
		// the writer's events too: none survive.
		w.mustCommit()
		if err := <-done; err != nil {
			e.t.Fatal(err)
		}
		if s := e.begin("reader").mustAll(a); s.Len() != 0 || !s.Deleted {
			e.t.Errorf("after deleting under an append: %d events left, Deleted %v", s.Len(), s.Deleted)
		}
	})
}

// testConsumingDeletedStreams: a consumer's batches run across a stream
// deleted under them without stalling, failing or losing later events.
func testConsumingDeletedStreams[TX any](t *testing.T, h ConsumerStoreHarness[TX]) {
	runConsumer(t, h, "AcrossADeletedStream", false, func(e *cenv[TX]) {
		gone, kept := newAgg("Gone"), newAgg("Kept")
		for i := range 3 {
			x := e.begin("writer")
			x.mustAppend(gone.events(2)...)
			x.mustAppend(kept.event("Kept" + string(rune('A'+i))))
			x.mustCommit()
		}
		r := e.begin("first batch")
		first := r.mustBatch(core.Cursor{}, nil, 2) // a page of the diff: the cursor holds a position
		r.mustRollback()
		if len(first.Events) != 2 || !first.Next.Paging() {
			e.t.Fatalf("first batch: %d events, paging %v", len(first.Events), first.Next.Paging())
		}
		if e.inst.DeleteStream == nil {
			e.t.Fatal("coretest: the ConsumerStoreInstance's DeleteStream is nil: the harness must provide the operator's deletion (see coretest.Deleter)")
		}
		if _, err := e.inst.DeleteStream(e.ctx, gone.typ, gone.id); err != nil {
			e.t.Fatalf("deleting %s: %v", gone, err)
		}
		x := e.begin("later writer")
		later := x.mustAppend(kept.event("KeptLater"))
		x.mustCommit()

		cursor := first.Next
		var delivered []core.PersistedEvent
		for range 10 {
			b := e.begin("batch")
			batch := b.mustBatch(cursor, nil, 2)
			b.mustRollback()
			delivered = append(delivered, batch.Events...)
			cursor = batch.Next
			if len(batch.Events) == 0 {
				break
			}
		}
		var keptSeen []int64
		for _, ev := range delivered {
			if ev.AggregateID == gone.id {
				e.t.Errorf("delivered %s v%d after its stream was deleted", gone, ev.AggregateVersion)
			}
			if ev.AggregateID == kept.id {
				keptSeen = append(keptSeen, ev.AggregateVersion)
			}
		}
		// The first page held gone's first two events or kept's first; the
		// rest of kept follows in order, up to the event appended after
		// the deletion.
		if n := len(keptSeen); n == 0 || keptSeen[n-1] != later.ToVersion() {
			e.t.Fatalf("kept's versions delivered after the deletion: %v, want them up to %d", keptSeen, later.ToVersion())
		}
		for i := 1; i < len(keptSeen); i++ {
			if keptSeen[i] != keptSeen[i-1]+1 {
				e.t.Errorf("kept's versions %v have a gap or are out of order", keptSeen)
			}
		}
	})
}
