package coretest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chronicle-go/chronicle/core"
	"github.com/chronicle-go/chronicle/core/shred"
	"github.com/google/uuid"
)

// SubjectKeysInstance is one subject key store under test over its own
// empty key table.
type SubjectKeysInstance[TX any] struct {
	// Keys is the adapter's subject key store.
	Keys core.SubjectKeyStore[TX]
	// Transactions begins READ COMMITTED transactions Keys runs in, and
	// ends them (a driver's ConsumerStore, the memory store).
	Transactions shred.Transactor[TX]
	// AwaitLockWait is the adapter's signal that a transaction waits for a
	// lock (see LockWaitFunc): here a key row another transaction creates,
	// deletes or rewraps. Required.
	AwaitLockWait LockWaitFunc[TX]
}

// SubjectKeysHarness adapts RunSubjectKeys to one adapter configuration.
type SubjectKeysHarness[TX any] struct {
	// NewInstance returns a key store over a new, empty key table, isolated
	// from every other instance (cases run in parallel). It registers its
	// own cleanup with t.Cleanup and fails t on error.
	NewInstance func(t *testing.T) SubjectKeysInstance[TX]
}

// RunSubjectKeys runs the conformance suite of core.SubjectKeyStore and of
// the crypto-shredding built on it (package core/shred) against the
// adapter h drives:
//
//   - Keys: create, read, delete, list and rewrap, visible to other
//     transactions at commit only; a create racing a create of the same
//     subject waits and ends with one key; deletes and rewraps wait for a
//     writer of the same row; invalid arguments are rejected before any
//     I/O and leave the transaction usable.
//   - Shredding: values and payload fields sealed and opened; a forgotten
//     subject's values erased (never an error), in this process at once
//     despite the key cache and in another at once with the cache off; a
//     Forget rolled back erases nothing; two shredders sealing for a new
//     subject at once share one key; the wrapping key rotated in batches,
//     resumably, after which the old wrapper is not needed; corrupt values
//     and unknown wrapping keys reported as such.
//
// Every case is a named parallel subtest on its own instance.
func RunSubjectKeys[TX any](t *testing.T, h SubjectKeysHarness[TX]) {
	t.Helper()
	if h.NewInstance == nil {
		t.Fatal("coretest: SubjectKeysHarness needs NewInstance")
	}
	t.Run("Keys", func(t *testing.T) { testSubjectKeys(t, h) })
	t.Run("Shredding", func(t *testing.T) { testShredding(t, h) })
}

// kenv is one subject key case's instance.
type kenv[TX any] struct {
	t    *testing.T
	inst SubjectKeysInstance[TX]
	keys core.SubjectKeyStore[TX]
	ctx  context.Context
}

func runKeys[TX any](t *testing.T, h SubjectKeysHarness[TX], name string, body func(e *kenv[TX])) {
	t.Helper()
	t.Run(name, func(t *testing.T) {
		t.Parallel()
		inst := h.NewInstance(t)
		if inst.Keys == nil || inst.Transactions == nil {
			t.Fatal("coretest: SubjectKeysInstance needs Keys and Transactions")
		}
		ctx, cancel := context.WithTimeout(t.Context(), caseTimeout)
		t.Cleanup(cancel)
		body(&kenv[TX]{t: t, inst: inst, keys: inst.Keys, ctx: ctx})
	})
}

// begin starts a transaction rolled back when the case ends unless ended.
func (e *kenv[TX]) begin(name string) *ktxn[TX] {
	e.t.Helper()
	tx, err := e.inst.Transactions.Begin(e.ctx)
	if err != nil {
		e.t.Fatalf("beginning transaction %s: %v", name, err)
	}
	x := &ktxn[TX]{e: e, tx: tx, name: name}
	e.t.Cleanup(func() {
		x.mu.Lock()
		ended := x.ended
		x.mu.Unlock()
		if !ended {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_ = e.inst.Transactions.Rollback(ctx, tx)
		}
	})
	return x
}

type ktxn[TX any] struct {
	e     *kenv[TX]
	tx    TX
	name  string
	mu    sync.Mutex
	ended bool
}

func (x *ktxn[TX]) end() {
	x.mu.Lock()
	x.ended = true
	x.mu.Unlock()
}

func (x *ktxn[TX]) mustCommit() {
	x.e.t.Helper()
	x.end()
	if err := x.e.inst.Transactions.Commit(x.e.ctx, x.tx); err != nil {
		x.e.t.Fatalf("committing %s: %v", x.name, err)
	}
}

func (x *ktxn[TX]) mustRollback() {
	x.e.t.Helper()
	x.end()
	if err := x.e.inst.Transactions.Rollback(x.e.ctx, x.tx); err != nil {
		x.e.t.Fatalf("rolling back %s: %v", x.name, err)
	}
}

// newKey returns a key for subject with a fresh id and random-looking
// wrapped bytes, wrapped by wrapping.
func newKey(subject, wrapping string) core.SubjectKey {
	id := uuid.New()
	return core.SubjectKey{Subject: subject, KeyID: id, WrappedKey: append([]byte("wrapped:"), id[:]...), WrappingKeyID: wrapping}
}

func (x *ktxn[TX]) mustCreate(key core.SubjectKey) (core.SubjectKey, bool) {
	x.e.t.Helper()
	stored, created, err := x.e.keys.CreateSubjectKey(x.e.ctx, x.tx, key)
	if err != nil {
		x.e.t.Fatalf("%s: creating the key of %q: %v", x.name, key.Subject, err)
	}
	return stored, created
}

func (x *ktxn[TX]) mustRead(subject string) (core.SubjectKey, bool) {
	x.e.t.Helper()
	k, found, err := x.e.keys.ReadSubjectKey(x.e.ctx, x.tx, subject)
	if err != nil {
		x.e.t.Fatalf("%s: reading the key of %q: %v", x.name, subject, err)
	}
	return k, found
}

func (x *ktxn[TX]) mustDelete(subject string) (uuid.UUID, bool) {
	x.e.t.Helper()
	id, deleted, err := x.e.keys.DeleteSubjectKey(x.e.ctx, x.tx, subject)
	if err != nil {
		x.e.t.Fatalf("%s: deleting the key of %q: %v", x.name, subject, err)
	}
	return id, deleted
}

func (x *ktxn[TX]) mustList(wrapping, after string, limit int) []core.SubjectKey {
	x.e.t.Helper()
	keys, err := x.e.keys.SubjectKeysWrappedBy(x.e.ctx, x.tx, wrapping, after, limit)
	if err != nil {
		x.e.t.Fatalf("%s: listing the keys of %q: %v", x.name, wrapping, err)
	}
	return keys
}

// sameKey reports whether got is want as stored (CreatedAt aside).
func sameKey(got, want core.SubjectKey) bool {
	return got.Subject == want.Subject && got.KeyID == want.KeyID && bytes.Equal(got.WrappedKey, want.WrappedKey) &&
		got.WrappingKeyID == want.WrappingKeyID
}

func testSubjectKeys[TX any](t *testing.T, h SubjectKeysHarness[TX]) {
	runKeys(t, h, "CreateIsVisibleAtCommit", func(e *kenv[TX]) {
		before := time.Now().Add(-time.Minute)
		a, b := e.begin("a"), e.begin("b")
		key := newKey("customer-1", "w1")
		stored, created := a.mustCreate(key)
		if !created || !sameKey(stored, key) {
			e.t.Fatalf("create: %+v created %v, want the key created", stored, created)
		}
		if stored.CreatedAt.Before(before) || stored.CreatedAt.Location() != time.UTC {
			e.t.Errorf("CreatedAt %v: want the database's recent clock in UTC", stored.CreatedAt)
		}
		if got, found := a.mustRead("customer-1"); !found || !sameKey(got, key) || !got.CreatedAt.Equal(stored.CreatedAt) {
			e.t.Errorf("the creator reads %+v (found %v), want its key", got, found)
		}
		if _, found := b.mustRead("customer-1"); found {
			e.t.Error("another transaction sees an uncommitted key")
		}
		a.mustCommit()
		if got, found := b.mustRead("customer-1"); !found || !sameKey(got, key) {
			e.t.Errorf("after the commit another transaction reads %+v (found %v), want the key", got, found)
		}
		again, created := b.mustCreate(newKey("customer-1", "w2"))
		if created || !sameKey(again, key) {
			e.t.Errorf("creating a second key: %+v created %v, want the first key kept", again, created)
		}
		b.mustCommit()
	})

	runKeys(t, h, "RolledBackCreateLeavesNothing", func(e *kenv[TX]) {
		a := e.begin("a")
		a.mustCreate(newKey("s", "w"))
		a.mustRollback()
		b := e.begin("b")
		if _, found := b.mustRead("s"); found {
			e.t.Error("a rolled-back key is visible")
		}
		key := newKey("s", "w")
		if got, created := b.mustCreate(key); !created || !sameKey(got, key) {
			e.t.Errorf("creating after the rollback: %+v created %v", got, created)
		}
		b.mustCommit()
	})

	for _, commit := range []bool{true, false} {
		name := "ConcurrentCreateWaitsAndReturnsTheCommittedKey"
		if !commit {
			name = "ConcurrentCreateWaitsAndCreatesAfterARollback"
		}
		runKeys(t, h, name, func(e *kenv[TX]) {
			if e.inst.AwaitLockWait == nil {
				e.t.Fatal("coretest: SubjectKeysInstance needs AwaitLockWait")
			}
			a, b := e.begin("a"), e.begin("b")
			first, second := newKey("new-subject", "w"), newKey("new-subject", "w")
			a.mustCreate(first)
			type result struct {
				key     core.SubjectKey
				created bool
				err     error
			}
			done := make(chan result, 1)
			go func() {
				k, c, err := e.keys.CreateSubjectKey(e.ctx, b.tx, second)
				done <- result{k, c, err}
			}()
			if err := e.inst.AwaitLockWait(e.ctx, b.tx); err != nil {
				e.t.Fatalf("the second create did not wait for the first: %v", err)
			}
			if commit {
				a.mustCommit()
			} else {
				a.mustRollback()
			}
			r := <-done
			if r.err != nil {
				e.t.Fatalf("the second create: %v", r.err)
			}
			want, wantCreated := first, false
			if !commit {
				want, wantCreated = second, true
			}
			if r.created != wantCreated || !sameKey(r.key, want) {
				e.t.Errorf("the second create returned %v (created %v), want %v (created %v)", r.key.KeyID, r.created, want.KeyID, wantCreated)
			}
			b.mustCommit()
			c := e.begin("c")
			if got, _ := c.mustRead("new-subject"); !sameKey(got, want) {
				e.t.Errorf("the stored key is %v, want %v", got.KeyID, want.KeyID)
			}
		})
	}

	runKeys(t, h, "ManyCreatorsEndWithOneKey", func(e *kenv[TX]) {
		const n = 6
		var wg sync.WaitGroup
		ids := make([]uuid.UUID, n)
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tx, err := e.inst.Transactions.Begin(e.ctx)
				if err != nil {
					errs[i] = err
					return
				}
				k, _, err := e.keys.CreateSubjectKey(e.ctx, tx, newKey("crowd", "w"))
				if err != nil {
					errs[i] = errors.Join(err, e.inst.Transactions.Rollback(e.ctx, tx))
					return
				}
				ids[i], errs[i] = k.KeyID, e.inst.Transactions.Commit(e.ctx, tx)
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				e.t.Fatalf("creator %d: %v", i, err)
			}
		}
		c := e.begin("check")
		stored, _ := c.mustRead("crowd")
		for i, id := range ids {
			if id != stored.KeyID {
				e.t.Errorf("creator %d got key %v, the stored key is %v", i, id, stored.KeyID)
			}
		}
	})

	runKeys(t, h, "DeleteIsVisibleAtCommit", func(e *kenv[TX]) {
		setup := e.begin("setup")
		key := newKey("gone", "w")
		setup.mustCreate(key)
		setup.mustCommit()
		a, b := e.begin("a"), e.begin("b")
		if id, deleted := a.mustDelete("gone"); !deleted || id != key.KeyID {
			e.t.Fatalf("delete: %v deleted %v, want %v deleted", id, deleted, key.KeyID)
		}
		if _, found := a.mustRead("gone"); found {
			e.t.Error("the deleter still reads the key")
		}
		if _, deleted := a.mustDelete("gone"); deleted {
			e.t.Error("deleting twice deleted twice")
		}
		if _, found := b.mustRead("gone"); !found {
			e.t.Error("another transaction lost the key before the delete committed")
		}
		a.mustCommit()
		if _, found := b.mustRead("gone"); found {
			e.t.Error("the key is still visible after the delete committed")
		}
		if _, deleted := b.mustDelete("gone"); deleted {
			e.t.Error("deleting a deleted key reported a deletion")
		}
		fresh := newKey("gone", "w")
		if got, created := b.mustCreate(fresh); !created || !sameKey(got, fresh) {
			e.t.Errorf("a subject forgotten gets a new key: %+v created %v", got, created)
		}
		b.mustCommit()
	})

	runKeys(t, h, "DeleteThenCreateInOneTransaction", func(e *kenv[TX]) {
		setup := e.begin("setup")
		setup.mustCreate(newKey("s", "w"))
		setup.mustCommit()
		a := e.begin("a")
		a.mustDelete("s")
		fresh := newKey("s", "w")
		if got, created := a.mustCreate(fresh); !created || !sameKey(got, fresh) {
			e.t.Errorf("creating after deleting in one transaction: %+v created %v", got, created)
		}
		a.mustCommit()
		b := e.begin("b")
		if got, _ := b.mustRead("s"); !sameKey(got, fresh) {
			e.t.Errorf("stored %v, want the new key %v", got.KeyID, fresh.KeyID)
		}
	})

	runKeys(t, h, "DeleteSkipsAnUncommittedCreate", func(e *kenv[TX]) {
		a, b := e.begin("a"), e.begin("b")
		a.mustCreate(newKey("s", "w"))
		if _, deleted := b.mustDelete("s"); deleted {
			e.t.Error("a delete saw another transaction's uncommitted key")
		}
		a.mustCommit()
		b.mustCommit()
		c := e.begin("c")
		if _, found := c.mustRead("s"); !found {
			e.t.Error("the created key is gone")
		}
	})

	runKeys(t, h, "DeleteWaitsForADelete", func(e *kenv[TX]) {
		setup := e.begin("setup")
		setup.mustCreate(newKey("s", "w"))
		setup.mustCommit()
		a, b := e.begin("a"), e.begin("b")
		a.mustDelete("s")
		done := make(chan bool, 1)
		go func() {
			_, deleted, err := e.keys.DeleteSubjectKey(e.ctx, b.tx, "s")
			if err != nil {
				e.t.Errorf("the second delete: %v", err)
			}
			done <- deleted
		}()
		if err := e.inst.AwaitLockWait(e.ctx, b.tx); err != nil {
			e.t.Fatalf("the second delete did not wait for the first: %v", err)
		}
		a.mustCommit()
		if <-done {
			e.t.Error("the second delete also reported a deletion")
		}
		b.mustCommit()
	})

	runKeys(t, h, "ListByWrappingKeyInSubjectOrder", func(e *kenv[TX]) {
		a := e.begin("a")
		subjects := []string{"b", "B", "a", "é", "a-2", "Z"}
		for _, s := range subjects {
			a.mustCreate(newKey(s, "old"))
		}
		a.mustCreate(newKey("other", "new"))
		want := []string{"B", "Z", "a", "a-2", "b", "é"} // bytewise
		var got []string
		after := ""
		for {
			page := a.mustList("old", after, 4)
			for _, k := range page {
				got = append(got, k.Subject)
			}
			if len(page) < 4 {
				break
			}
			after = page[len(page)-1].Subject
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			e.t.Errorf("listed %q, want %q", got, want)
		}
		a.mustCommit()
		b := e.begin("b")
		if page := b.mustList("new", "", 10); len(page) != 1 || page[0].Subject != "other" {
			e.t.Errorf("keys of the other wrapping key: %+v", page)
		}
		if page := b.mustList("none", "", 10); len(page) != 0 {
			e.t.Errorf("keys of an unused wrapping key: %+v", page)
		}
	})

	runKeys(t, h, "RewrapIsConditional", func(e *kenv[TX]) {
		setup := e.begin("setup")
		key := newKey("s", "old")
		setup.mustCreate(key)
		setup.mustCommit()
		a := e.begin("a")
		next := key
		next.WrappedKey, next.WrappingKeyID = []byte("rewrapped"), "new"
		mustRewrap := func(k core.SubjectKey, previous string, want bool) {
			e.t.Helper()
			ok, err := e.keys.RewrapSubjectKey(e.ctx, a.tx, k, previous)
			if err != nil {
				e.t.Fatalf("rewrap: %v", err)
			}
			if ok != want {
				e.t.Errorf("rewrap of key %v from %q: %v, want %v", k.KeyID, previous, ok, want)
			}
		}
		mustRewrap(next, "wrong", false)
		other := next
		other.KeyID = uuid.New()
		mustRewrap(other, "old", false)
		mustRewrap(next, "old", true)
		mustRewrap(next, "old", false) // it is wrapped by "new" now
		if got, _ := a.mustRead("s"); !sameKey(got, next) {
			e.t.Errorf("after the rewrap: %+v, want %+v", got, next)
		}
		a.mustCommit()
		b := e.begin("b")
		if got, _ := b.mustRead("s"); !sameKey(got, next) {
			e.t.Errorf("committed rewrap: %+v, want %+v", got, next)
		}
		if page := b.mustList("old", "", 10); len(page) != 0 {
			e.t.Errorf("the old wrapping key still lists %d keys", len(page))
		}
	})

	runKeys(t, h, "RewrapWaitsForADelete", func(e *kenv[TX]) {
		setup := e.begin("setup")
		key := newKey("s", "old")
		setup.mustCreate(key)
		setup.mustCommit()
		a, b := e.begin("a"), e.begin("b")
		a.mustDelete("s")
		next := key
		next.WrappedKey, next.WrappingKeyID = []byte("rewrapped"), "new"
		done := make(chan bool, 1)
		go func() {
			ok, err := e.keys.RewrapSubjectKey(e.ctx, b.tx, next, "old")
			if err != nil {
				e.t.Errorf("the rewrap: %v", err)
			}
			done <- ok
		}()
		if err := e.inst.AwaitLockWait(e.ctx, b.tx); err != nil {
			e.t.Fatalf("the rewrap did not wait for the delete: %v", err)
		}
		a.mustCommit()
		if <-done {
			e.t.Error("a deleted key was rewrapped")
		}
		b.mustCommit()
		c := e.begin("c")
		if _, found := c.mustRead("s"); found {
			e.t.Error("the deleted key came back")
		}
	})

	runKeys(t, h, "BadInputIsRejectedBeforeIO", func(e *kenv[TX]) {
		a := e.begin("a")
		good := newKey("s", "w")
		bad := map[string]core.SubjectKey{}
		k := good
		k.Subject = ""
		bad["empty subject"] = k
		k = good
		k.Subject = "a\x00b"
		bad["NUL in subject"] = k
		k = good
		k.Subject = string([]byte{0xff})
		bad["invalid UTF-8 subject"] = k
		k = good
		k.Subject = string(bytes.Repeat([]byte("x"), core.MaxSubjectLength+1))
		bad["long subject"] = k
		k = good
		k.KeyID = uuid.Nil
		bad["nil key id"] = k
		k = good
		k.WrappedKey = nil
		bad["no wrapped key"] = k
		k = good
		k.WrappingKeyID = ""
		bad["no wrapping key id"] = k
		for what, key := range bad {
			if _, _, err := e.keys.CreateSubjectKey(e.ctx, a.tx, key); !errors.Is(err, core.ErrInvalidArgument) {
				e.t.Errorf("create with %s: %v, want ErrInvalidArgument", what, err)
			}
			if _, err := e.keys.RewrapSubjectKey(e.ctx, a.tx, key, "w"); !errors.Is(err, core.ErrInvalidArgument) {
				e.t.Errorf("rewrap with %s: %v, want ErrInvalidArgument", what, err)
			}
		}
		if _, _, err := e.keys.ReadSubjectKey(e.ctx, a.tx, ""); !errors.Is(err, core.ErrInvalidArgument) {
			e.t.Errorf("read of an empty subject: %v", err)
		}
		if _, _, err := e.keys.DeleteSubjectKey(e.ctx, a.tx, "a\x00"); !errors.Is(err, core.ErrInvalidArgument) {
			e.t.Errorf("delete of a subject with NUL: %v", err)
		}
		if _, err := e.keys.SubjectKeysWrappedBy(e.ctx, a.tx, "w", "", 0); !errors.Is(err, core.ErrInvalidArgument) {
			e.t.Errorf("list with limit 0: %v", err)
		}
		if _, err := e.keys.SubjectKeysWrappedBy(e.ctx, a.tx, "", "", 1); !errors.Is(err, core.ErrInvalidArgument) {
			e.t.Errorf("list of an empty wrapping key id: %v", err)
		}
		if _, err := e.keys.RewrapSubjectKey(e.ctx, a.tx, good, ""); !errors.Is(err, core.ErrInvalidArgument) {
			e.t.Errorf("rewrap from an empty wrapping key id: %v", err)
		}
		// Nothing was sent: the transaction works and nothing was stored.
		if _, created := a.mustCreate(good); !created {
			e.t.Error("the transaction after bad input did not create the key")
		}
		a.mustCommit()
	})
}
