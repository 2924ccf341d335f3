package coretest

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/chronicle-go/chronicle/core"
	"github.com/chronicle-go/chronicle/core/shred"
)

// newWrapper returns an AES wrapper with a random key named id.
func newWrapper(t *testing.T, id string) *shred.AESKeyWrapper {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	w, err := shred.NewAESKeyWrapper(id, key)
	if err != nil {
		t.Fatalf("NewAESKeyWrapper: %v", err)
	}
	return w
}

// shredder returns a Shredder over the case's key store.
func (e *kenv[TX]) shredder(cfg shred.Config) *shred.Shredder[TX] {
	e.t.Helper()
	s, err := shred.New(e.keys, cfg)
	if err != nil {
		e.t.Fatalf("shred.New: %v", err)
	}
	return s
}

func (x *ktxn[TX]) mustSeal(s *shred.Shredder[TX], subject, plaintext string) shred.Sealed {
	x.e.t.Helper()
	sealed, err := s.Seal(x.e.ctx, x.tx, subject, []byte(plaintext))
	if err != nil {
		x.e.t.Fatalf("%s: sealing for %q: %v", x.name, subject, err)
	}
	return sealed
}

// mustOpen opens sealed and checks the outcome: want, or erased when want
// is "".
func (x *ktxn[TX]) mustOpen(s *shred.Shredder[TX], sealed shred.Sealed, want string) {
	x.e.t.Helper()
	got, erased, err := s.Open(x.e.ctx, x.tx, sealed)
	switch {
	case err != nil:
		x.e.t.Errorf("%s: opening a value of %q: %v", x.name, sealed.Subject, err)
	case want == "" && !erased:
		x.e.t.Errorf("%s: a value of %q opened to %q, want it erased", x.name, sealed.Subject, got)
	case want != "" && (erased || string(got) != want):
		x.e.t.Errorf("%s: a value of %q opened to %q (erased %v), want %q", x.name, sealed.Subject, got, erased, want)
	}
}

func testShredding[TX any](t *testing.T, h SubjectKeysHarness[TX]) {
	runKeys(t, h, "SealAndOpen", func(e *kenv[TX]) {
		w := newWrapper(e.t, "w1")
		s := e.shredder(shred.Config{Wrapper: w})
		a := e.begin("a")
		one, two := a.mustSeal(s, "customer-1", "ada@example.com"), a.mustSeal(s, "customer-1", "ada@example.com")
		if one.KeyID != two.KeyID || bytes.Equal(one.Ciphertext, two.Ciphertext) || bytes.Equal(one.Nonce, two.Nonce) {
			e.t.Errorf("two seals for one subject: keys %v/%v, same ciphertext %v: want one key and fresh nonces", one.KeyID, two.KeyID, bytes.Equal(one.Ciphertext, two.Ciphertext))
		}
		if bytes.Contains(one.Ciphertext, []byte("ada@")) {
			e.t.Error("the ciphertext holds the plaintext")
		}
		a.mustOpen(s, one, "ada@example.com")
		a.mustCommit()
		b := e.begin("b")
		b.mustOpen(s, two, "ada@example.com")
		key, found := b.mustRead("customer-1")
		if !found || key.KeyID != one.KeyID || key.WrappingKeyID != "w1" || bytes.Contains(key.WrappedKey, one.Ciphertext) {
			e.t.Errorf("the stored key: %+v (found %v)", key, found)
		}
		// A fresh shredder (another process) opens it from the table.
		b.mustOpen(e.shredder(shred.Config{Wrapper: w}), one, "ada@example.com")
	})

	runKeys(t, h, "SealJSONAndOpenJSON", func(e *kenv[TX]) {
		s := e.shredder(shred.Config{Wrapper: newWrapper(e.t, "w")})
		a := e.begin("a")
		payload := []byte(`{"id":"c-1","email":"ada@example.com","address":{"city":"London"},"note":null,"total":3}`)
		sealed, err := s.SealJSON(e.ctx, a.tx, payload,
			shred.Field{Name: "email", Subject: "c-1"}, shred.Field{Name: "address", Subject: "c-1"},
			shred.Field{Name: "missing", Subject: "c-1"})
		if err != nil {
			e.t.Fatalf("SealJSON: %v", err)
		}
		if bytes.Contains(sealed, []byte("ada@")) || bytes.Contains(sealed, []byte("London")) || !bytes.HasPrefix(sealed, []byte(`{"id":"c-1","email":{"$sealed":{"v":1,"sub":"c-1","kid":"`)) {
			e.t.Errorf("sealed payload: %s", sealed)
		}
		if !shred.HasSealed(sealed) || shred.HasSealed(payload) {
			e.t.Error("HasSealed does not tell the sealed payload from the plain one")
		}
		if _, err := s.SealJSON(e.ctx, a.tx, sealed, shred.Field{Name: "email", Subject: "c-1"}); !errors.Is(err, core.ErrInvalidArgument) {
			e.t.Errorf("sealing a sealed member: %v, want ErrInvalidArgument", err)
		}
		for _, bad := range []string{`[1]`, `{"a":`, `{"a":1} {}`, ``} {
			if _, err := s.SealJSON(e.ctx, a.tx, []byte(bad), shred.Field{Name: "a", Subject: "c-1"}); !errors.Is(err, core.ErrInvalidArgument) {
				e.t.Errorf("sealing in %q: %v, want ErrInvalidArgument", bad, err)
			}
		}
		a.mustCommit()
		b := e.begin("b")
		opened, erased, err := s.OpenJSON(e.ctx, b.tx, sealed)
		if err != nil || len(erased) != 0 || string(opened) != string(payload) {
			e.t.Errorf("OpenJSON: %s, erased %q, %v; want %s", opened, erased, err, payload)
		}
		forget := e.begin("forget")
		if ok, err := s.Forget(e.ctx, forget.tx, "c-1"); err != nil || !ok {
			e.t.Fatalf("Forget: %v, %v", ok, err)
		}
		forget.mustCommit()
		opened, erased, err = s.OpenJSON(e.ctx, b.tx, sealed)
		want := `{"id":"c-1","email":null,"address":null,"note":null,"total":3}`
		if err != nil || string(opened) != want || !slices.Equal(erased, []string{"email", "address"}) {
			e.t.Errorf("OpenJSON of a forgotten subject: %s, erased %q, %v; want %s with email and address erased", opened, erased, err, want)
		}
	})

	runKeys(t, h, "BoundSealerReadsKeysAgainAfterForget", func(e *kenv[TX]) {
		s := e.shredder(shred.Config{Wrapper: newWrapper(e.t, "w")})
		a := e.begin("a")
		in := s.In(e.ctx, a.tx)
		first, err := in.SealJSON([]byte(`{"email":"a@example.com"}`), shred.Field{Name: "email", Subject: "s"})
		if err != nil {
			e.t.Fatal(err)
		}
		if _, err := s.Forget(e.ctx, a.tx, "s"); err != nil {
			e.t.Fatal(err)
		}
		second, err := in.SealJSON([]byte(`{"email":"b@example.com"}`), shred.Field{Name: "email", Subject: "s"})
		if err != nil {
			e.t.Fatal(err)
		}
		a.mustCommit()
		b := e.begin("b")
		opened, erased, err := s.In(e.ctx, b.tx).OpenJSON(first)
		if err != nil || string(opened) != `{"email":null}` || len(erased) != 1 {
			e.t.Errorf("the value sealed before Forget: %s, erased %q, %v; want it erased", opened, erased, err)
		}
		opened, erased, err = s.In(e.ctx, b.tx).OpenJSON(second)
		if err != nil || string(opened) != `{"email":"b@example.com"}` || len(erased) != 0 {
			e.t.Errorf("the value sealed after Forget: %s, erased %q, %v; want it readable under the new key", opened, erased, err)
		}
	})

	runKeys(t, h, "ForgetErasesInThisProcessAtOnce", func(e *kenv[TX]) {
		// The default cache: the key is cached by the first Open.
		s := e.shredder(shred.Config{Wrapper: newWrapper(e.t, "w")})
		a := e.begin("a")
		sealed := a.mustSeal(s, "s", "secret")
		keep := a.mustSeal(s, "other", "kept")
		a.mustCommit()
		b := e.begin("b")
		b.mustOpen(s, sealed, "secret")
		b.mustCommit()
		f := e.begin("forget")
		if ok, err := s.Forget(e.ctx, f.tx, "s"); err != nil || !ok {
			e.t.Fatalf("Forget: %v, %v", ok, err)
		}
		f.mustCommit()
		c := e.begin("c")
		c.mustOpen(s, sealed, "")
		c.mustOpen(s, keep, "kept")
		if ok, err := s.Forget(e.ctx, c.tx, "s"); err != nil || ok {
			e.t.Errorf("forgetting twice: %v, %v; want false", ok, err)
		}
		// Sealing again makes a new key; the old value stays erased.
		again := c.mustSeal(s, "s", "new secret")
		if again.KeyID == sealed.KeyID {
			e.t.Error("the subject got its forgotten key back")
		}
		c.mustCommit()
		d := e.begin("d")
		d.mustOpen(s, again, "new secret")
		d.mustOpen(s, sealed, "")
	})

	runKeys(t, h, "ForgetErasesInAnotherProcessWithoutCache", func(e *kenv[TX]) {
		w := newWrapper(e.t, "w")
		writer := e.shredder(shred.Config{Wrapper: w})
		reader := e.shredder(shred.Config{Wrapper: w, CacheTTL: -1})
		a := e.begin("a")
		sealed := a.mustSeal(writer, "s", "secret")
		a.mustCommit()
		b := e.begin("b")
		b.mustOpen(reader, sealed, "secret")
		b.mustCommit()
		f := e.begin("forget")
		if _, err := writer.Forget(e.ctx, f.tx, "s"); err != nil {
			e.t.Fatal(err)
		}
		f.mustCommit()
		c := e.begin("c")
		c.mustOpen(reader, sealed, "")
	})

	runKeys(t, h, "ForgetRolledBackErasesNothing", func(e *kenv[TX]) {
		s := e.shredder(shred.Config{Wrapper: newWrapper(e.t, "w")})
		a := e.begin("a")
		sealed := a.mustSeal(s, "s", "secret")
		a.mustCommit()
		f := e.begin("forget")
		if _, err := s.Forget(e.ctx, f.tx, "s"); err != nil {
			e.t.Fatal(err)
		}
		f.mustOpen(s, sealed, "") // the forgetting transaction sees it gone
		other := e.begin("other")
		other.mustOpen(s, sealed, "secret") // others see the committed key
		f.mustRollback()
		other.mustOpen(s, sealed, "secret")
		if again := other.mustSeal(s, "s", "x"); again.KeyID != sealed.KeyID {
			e.t.Error("a rolled-back Forget changed the subject's key")
		}
	})

	runKeys(t, h, "SealRolledBackLeavesNoKeyBehind", func(e *kenv[TX]) {
		s := e.shredder(shred.Config{Wrapper: newWrapper(e.t, "w")})
		a := e.begin("a")
		lost := a.mustSeal(s, "s", "lost")
		a.mustRollback()
		b := e.begin("b")
		kept := b.mustSeal(s, "s", "kept")
		if kept.KeyID == lost.KeyID {
			e.t.Fatal("a seal after a rolled-back seal used the rolled-back key")
		}
		b.mustCommit()
		c := e.begin("c")
		c.mustOpen(s, kept, "kept")
		c.mustOpen(s, lost, "")
	})

	runKeys(t, h, "ConcurrentSealsForANewSubjectShareOneKey", func(e *kenv[TX]) {
		w := newWrapper(e.t, "w")
		p1, p2 := e.shredder(shred.Config{Wrapper: w}), e.shredder(shred.Config{Wrapper: w})
		a, b := e.begin("a"), e.begin("b")
		first := a.mustSeal(p1, "new", "from a")
		type result struct {
			sealed shred.Sealed
			err    error
		}
		done := make(chan result, 1)
		go func() {
			sealed, err := p2.Seal(e.ctx, b.tx, "new", []byte("from b"))
			done <- result{sealed, err}
		}()
		if err := e.inst.AwaitLockWait(e.ctx, b.tx); err != nil {
			e.t.Fatalf("the second seal did not wait for the first's key: %v", err)
		}
		a.mustCommit()
		r := <-done
		if r.err != nil {
			e.t.Fatalf("the second seal: %v", r.err)
		}
		if r.sealed.KeyID != first.KeyID {
			e.t.Errorf("the seals used keys %v and %v, want one", first.KeyID, r.sealed.KeyID)
		}
		b.mustCommit()
		c := e.begin("c")
		c.mustOpen(p1, r.sealed, "from b")
		c.mustOpen(p2, first, "from a")
	})

	runKeys(t, h, "RotationRewrapsEveryKeyResumably", func(e *kenv[TX]) {
		oldW, newW := newWrapper(e.t, "2024"), newWrapper(e.t, "2025")
		s := e.shredder(shred.Config{Wrapper: oldW})
		a := e.begin("a")
		const n = 7
		sealed := make([]shred.Sealed, n)
		for i := range sealed {
			sealed[i] = a.mustSeal(s, fmt.Sprintf("subject-%d", i), fmt.Sprintf("value %d", i))
		}
		a.mustCommit()
		// During the rotation: new keys are wrapped by the new key, old ones
		// still open.
		during := e.shredder(shred.Config{Wrapper: newW, Previous: []shred.KeyWrapper{oldW}})
		b := e.begin("b")
		fresh := b.mustSeal(during, "fresh", "fresh value")
		for i := range sealed {
			b.mustOpen(during, sealed[i], fmt.Sprintf("value %d", i))
		}
		// One batch of 3 by hand, committed, then an interrupted batch
		// rolled back: the rest is left for RewrapKeys.
		n1, last, err := during.RewrapBatch(e.ctx, b.tx, oldW, newW, "", 3)
		if err != nil || n1 != 3 || last != "subject-2" {
			e.t.Fatalf("RewrapBatch: %d, %q, %v; want 3 up to subject-2", n1, last, err)
		}
		b.mustCommit()
		c := e.begin("interrupted")
		if n, _, err := during.RewrapBatch(e.ctx, c.tx, oldW, newW, "", 2); err != nil || n != 2 {
			e.t.Fatalf("the interrupted batch: %d, %v", n, err)
		}
		c.mustRollback()
		total, err := during.RewrapKeys(e.ctx, e.inst.Transactions, oldW, newW)
		if err != nil || total != n-3 {
			e.t.Fatalf("RewrapKeys: %d, %v; want %d", total, err, n-3)
		}
		if again, err := during.RewrapKeys(e.ctx, e.inst.Transactions, oldW, newW); err != nil || again != 0 {
			e.t.Errorf("RewrapKeys again: %d, %v; want 0", again, err)
		}
		// After it: the old wrapping key is not needed.
		after := e.shredder(shred.Config{Wrapper: newW})
		d := e.begin("d")
		if left := d.mustList("2024", "", 100); len(left) != 0 {
			e.t.Errorf("%d keys still wrapped by the old key", len(left))
		}
		for i := range sealed {
			d.mustOpen(after, sealed[i], fmt.Sprintf("value %d", i))
		}
		d.mustOpen(after, fresh, "fresh value")
		// A process still holding only the old key cannot unwrap any more.
		stale := e.shredder(shred.Config{Wrapper: oldW})
		if _, _, err := stale.Open(e.ctx, d.tx, sealed[0]); !errors.Is(err, shred.ErrUnknownWrappingKey) {
			e.t.Errorf("opening with only the retired key: %v, want ErrUnknownWrappingKey", err)
		}
		if _, _, err := during.RewrapBatch(e.ctx, d.tx, newW, newW, "", 1); !errors.Is(err, shred.ErrInvalidConfig) {
			e.t.Errorf("rewrapping to the same key: %v, want ErrInvalidConfig", err)
		}
	})

	runKeys(t, h, "CorruptValuesAreErrors", func(e *kenv[TX]) {
		s := e.shredder(shred.Config{Wrapper: newWrapper(e.t, "w")})
		a := e.begin("a")
		sealed := a.mustSeal(s, "s", "secret")
		a.mustSeal(s, "t", "other")
		tampered := sealed
		tampered.Ciphertext = slices.Clone(sealed.Ciphertext)
		tampered.Ciphertext[0] ^= 1
		if _, _, err := s.Open(e.ctx, a.tx, tampered); !errors.Is(err, shred.ErrCorrupt) {
			e.t.Errorf("opening a changed ciphertext: %v, want ErrCorrupt", err)
		}
		short := sealed
		short.Nonce = sealed.Nonce[:4]
		if _, _, err := s.Open(e.ctx, a.tx, short); !errors.Is(err, shred.ErrCorrupt) {
			e.t.Errorf("opening a short nonce: %v, want ErrCorrupt", err)
		}
		payload := []byte(`{"x":{"$sealed":{"v":1,"sub":"s","kid":"not-a-uuid","n":"","ct":""}}}`)
		if _, _, err := s.OpenJSON(e.ctx, a.tx, payload); !errors.Is(err, shred.ErrCorrupt) {
			e.t.Errorf("opening a malformed member: %v, want ErrCorrupt", err)
		}
		if _, _, err := s.Open(e.ctx, a.tx, shred.Sealed{}); !errors.Is(err, shred.ErrCorrupt) {
			e.t.Errorf("opening the zero Sealed: %v, want ErrCorrupt", err)
		}
		var zero TX
		if _, err := s.Seal(e.ctx, zero, "s", nil); !errors.Is(err, core.ErrInvalidArgument) {
			e.t.Errorf("sealing in a nil transaction: %v, want ErrInvalidArgument", err)
		}
		if _, err := s.Seal(e.ctx, a.tx, "", nil); !errors.Is(err, core.ErrInvalidArgument) {
			e.t.Errorf("sealing for an empty subject: %v, want ErrInvalidArgument", err)
		}
		other := e.shredder(shred.Config{Wrapper: newWrapper(e.t, "elsewhere")})
		if _, _, err := other.Open(e.ctx, a.tx, sealed); !errors.Is(err, shred.ErrUnknownWrappingKey) {
			e.t.Errorf("opening with another wrapping key: %v, want ErrUnknownWrappingKey", err)
		}
		a.mustCommit()
	})

	runKeys(t, h, "SealedFormRoundTrips", func(e *kenv[TX]) {
		s := e.shredder(shred.Config{Wrapper: newWrapper(e.t, "w"), CacheSize: -1})
		a := e.begin("a")
		sealed := a.mustSeal(s, "s", `"ada"`)
		text, err := sealed.MarshalJSON()
		if err != nil {
			e.t.Fatal(err)
		}
		var back shred.Sealed
		if err := back.UnmarshalJSON(text); err != nil {
			e.t.Fatalf("UnmarshalJSON(%s): %v", text, err)
		}
		if !shred.IsSealed(text) {
			e.t.Errorf("IsSealed(%s) is false", text)
		}
		a.mustOpen(s, back, `"ada"`)
		a.mustCommit()
	})
}
