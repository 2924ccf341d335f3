package shred

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestAESKeyWrapper(t *testing.T) {
	ctx := context.Background()
	if _, err := NewAESKeyWrapper("k", make([]byte, 16)); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("a 16-byte key: %v, want ErrInvalidConfig", err)
	}
	if _, err := NewAESKeyWrapper("", make([]byte, 32)); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("an empty id: %v, want ErrInvalidConfig", err)
	}
	w, err := NewAESKeyWrapper("k", bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte{1}, 32)
	a, err := w.Wrap(ctx, data, []byte("ad"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := w.Wrap(ctx, data, []byte("ad"))
	if bytes.Equal(a, b) || bytes.Contains(a, data) || len(a) != 12+32+16 {
		t.Errorf("wrapped %x and %x: want fresh nonces, no plaintext, 60 bytes", a, b)
	}
	if got, err := w.Unwrap(ctx, a, []byte("ad")); err != nil || !bytes.Equal(got, data) {
		t.Errorf("Unwrap = %x, %v", got, err)
	}
	if _, err := w.Unwrap(ctx, a, []byte("other")); err == nil {
		t.Error("unwrapping with other associated data succeeded")
	}
	if _, err := w.Unwrap(ctx, a[:10], []byte("ad")); err == nil {
		t.Error("unwrapping a short key succeeded")
	}
	var zero AESKeyWrapper
	if _, err := zero.Wrap(ctx, data, nil); err == nil {
		t.Error("the zero wrapper wrapped")
	}
}

func TestSealedForm(t *testing.T) {
	s := Sealed{Subject: "c-1", KeyID: uuid.MustParse("6f1c2a7e-0000-4000-8000-000000000001"), Nonce: make([]byte, 12), Ciphertext: make([]byte, 20)}
	text, err := s.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"$sealed":{"v":1,"sub":"c-1","kid":"6f1c2a7e-0000-4000-8000-000000000001","n":"AAAAAAAAAAAAAAAA","ct":"AAAAAAAAAAAAAAAAAAAAAAAAAAA="}}`
	if string(text) != want {
		t.Errorf("MarshalJSON = %s, want %s", text, want)
	}
	var back Sealed
	if err := back.UnmarshalJSON(text); err != nil || back.Subject != s.Subject || back.KeyID != s.KeyID {
		t.Errorf("UnmarshalJSON = %+v, %v", back, err)
	}
	for _, bad := range []string{
		`{"$sealed":{"v":2,"sub":"c","kid":"6f1c2a7e-0000-4000-8000-000000000001","n":"AAAAAAAAAAAAAAAA","ct":"AAAAAAAAAAAAAAAAAAAAAA=="}}`,
		`{"$sealed":{"v":1,"sub":"","kid":"6f1c2a7e-0000-4000-8000-000000000001","n":"AAAAAAAAAAAAAAAA","ct":"AAAAAAAAAAAAAAAAAAAAAA=="}}`,
		`{"$sealed":{"v":1,"sub":"c","kid":"x","n":"AAAAAAAAAAAAAAAA","ct":"AAAAAAAAAAAAAAAAAAAAAA=="}}`,
		`{"$sealed":{"v":1,"sub":"c","kid":"6f1c2a7e-0000-4000-8000-000000000001","n":"AAAA","ct":"AAAAAAAAAAAAAAAAAAAAAA=="}}`,
		`{"$sealed":{"v":1,"sub":"c","kid":"6f1c2a7e-0000-4000-8000-000000000001","n":"AAAAAAAAAAAAAAAA","ct":"AAAA"}}`,
		`{"$sealed":{"v":1,"sub":"c","extra":1}}`,
		`{"$sealed":{},"other":1}`,
		`[1]`,
	} {
		if err := new(Sealed).UnmarshalJSON([]byte(bad)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("UnmarshalJSON(%s) = %v, want ErrCorrupt", bad, err)
		}
	}
	if !IsSealed(text) || IsSealed([]byte(`{"$sealed":1,"x":2}`)) || IsSealed([]byte(`"$sealed"`)) {
		t.Error("IsSealed is wrong")
	}
	if !HasSealed([]byte(`{"a":1,"b":`+string(text)+`}`)) || HasSealed([]byte(`{"a":"$sealed"}`)) || HasSealed([]byte(`[`+string(text)+`]`)) {
		t.Error("HasSealed is wrong")
	}
}

func TestSplitObjectKeepsOrderAndValues(t *testing.T) {
	in := `{"z":1, "a":{"b":[1,2]},"m":"x\u00e9","n":null}`
	members, err := splitObject([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	out := joinObject(members)
	if string(out) != `{"z":1,"a":{"b":[1,2]},"m":"x\u00e9","n":null}` {
		t.Errorf("joined: %s", out)
	}
	for _, bad := range []string{``, `1`, `{"a":}`, `{"a":1} 2`, `{"a":1`} {
		if _, err := splitObject([]byte(bad)); err == nil {
			t.Errorf("splitObject(%q) succeeded", bad)
		}
	}
}

func TestKeyCache(t *testing.T) {
	now := time.Unix(0, 0)
	c := newKeyCache(2, time.Minute, func() time.Time { return now })
	a, b, d := cacheKey{"a", uuid.New()}, cacheKey{"b", uuid.New()}, cacheKey{"d", uuid.New()}
	c.put(a, nil, now)
	c.put(b, nil, now)
	if _, ok := c.get(a); !ok {
		t.Fatal("a is not cached")
	}
	c.put(d, nil, now) // evicts b, the least recently used
	if _, ok := c.get(b); ok {
		t.Error("b was not evicted")
	}
	now = now.Add(time.Minute)
	if _, ok := c.get(a); ok {
		t.Error("a outlived its TTL")
	}
	c.put(a, nil, now)
	c.forget(a)
	if _, ok := c.get(a); ok {
		t.Error("a forgotten is still cached")
	}
	c.put(a, nil, now)
	if _, ok := c.get(a); ok {
		t.Error("a forgotten key was cached again")
	}
	if newKeyCache(-1, time.Minute, time.Now) != nil || newKeyCache(1, -1, time.Now) != nil {
		t.Error("a negative size or TTL still makes a cache")
	}
	var off *keyCache
	off.put(a, nil, now)
	off.forget(a)
	if _, ok := off.get(a); ok {
		t.Error("the nil cache returned a key")
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	w, _ := NewAESKeyWrapper("k", make([]byte, 32))
	if _, err := New[int](nil, Config{Wrapper: w}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("nil keys: %v", err)
	}
}

// FuzzSplitObject: any input either fails to split or joins back to an
// object that encoding/json reads as the same value.
func FuzzSplitObject(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":{"$sealed":{}}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, in []byte) {
		members, err := splitObject(in)
		if err != nil {
			return
		}
		out := joinObject(members)
		var x, y map[string]any
		if err := json.Unmarshal(in, &x); err != nil {
			t.Fatalf("split %q, which encoding/json rejects: %v", in, err)
		}
		if err := json.Unmarshal(out, &y); err != nil {
			t.Fatalf("joined %q from %q is not JSON: %v", out, in, err)
		}
		a, _ := json.Marshal(x)
		b, _ := json.Marshal(y)
		if !bytes.Equal(a, b) {
			t.Fatalf("%q joined to %q", in, out)
		}
	})
}
