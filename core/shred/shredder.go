package shred

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"fmt"
	"reflect"
	"sync/atomic"
	"time"

	"github.com/chronicle-go/chronicle/core"
	"github.com/google/uuid"
)

// Defaults of Config.
const (
	// DefaultCacheSize is the number of unwrapped data keys a Shredder
	// keeps when Config.CacheSize is 0.
	DefaultCacheSize = 10000
	// DefaultCacheTTL is how long a Shredder uses a data key it read from
	// the database without reading it again, when Config.CacheTTL is 0: the
	// bound on how long another process may still open a subject's fields
	// after Forget commits.
	DefaultCacheTTL = time.Minute
)

// Config configures a Shredder.
type Config struct {
	// Wrapper wraps the data keys of new subjects and unwraps those it
	// wrapped. Required.
	Wrapper KeyWrapper
	// Previous are older wrapping keys, used only to unwrap data keys they
	// wrapped: during a rotation, until RewrapKeys has moved every key to
	// Wrapper. Default: none. Ids must differ from each other and from
	// Wrapper's.
	Previous []KeyWrapper
	// CacheSize bounds the unwrapped data keys kept in process, least
	// recently used evicted first. 0 means DefaultCacheSize; negative
	// disables the cache (every Open reads and unwraps the key).
	CacheSize int
	// CacheTTL is how long a cached data key opens fields before Open reads
	// it from the database again. After Forget commits in another process,
	// this process opens the subject's fields for at most this long. 0
	// means DefaultCacheTTL; negative disables the cache.
	CacheTTL time.Duration
}

// Shredder seals and opens subjects' personal data and forgets subjects
// (crypto-shredding): each subject has a random 256-bit data key, stored
// wrapped in its key table row (core.SubjectKeyStore); a value is sealed
// with AES-256-GCM under it, and deleting the row — Forget — leaves every
// value sealed for the subject unreadable, while the events holding them
// stay as they are.
//
// Every method runs in the caller's transaction TX, on the key store of
// the event store the events are appended to, so that a key and the events
// sealed with it commit together. A Shredder is safe for concurrent use.
//
// # The key cache
//
// Unwrapping a data key may cost a call to a key management service, so a
// Shredder keeps unwrapped keys in process (Config.CacheSize,
// Config.CacheTTL). Seal reads the subject's key row in tx every time (one
// indexed read), so it never seals with a key that is deleted, or that
// another transaction created and rolled back; only the unwrapping is
// cached. Open uses a cached key without reading the row, for at most
// CacheTTL after the row was read. Forget drops the subject's key from this
// Shredder's cache and keeps it from being cached again, so once Forget's
// transaction commits this process opens none of the subject's values. A
// Shredder in another process (or another Shredder in this one) opens them
// for at most CacheTTL after that commit; a negative CacheTTL makes every
// Open read the row, when even that bound is too long.
type Shredder[TX any] struct {
	keys     core.SubjectKeyStore[TX]
	wrapper  KeyWrapper
	wrappers map[string]KeyWrapper
	cache    *keyCache
	now      func() time.Time
	// forgets counts the Forget calls that deleted a key, so that the
	// sealers of In drop the keys they hold.
	forgets atomic.Int64
}

// New returns a Shredder storing keys in keys (NewKeyStore of the PostgreSQL
// drivers, or the memory store). A nil keys or Wrapper, a wrapper with an
// invalid id and two wrappers with one id are an error wrapping
// ErrInvalidConfig.
func New[TX any](keys core.SubjectKeyStore[TX], cfg Config) (*Shredder[TX], error) {
	if isNil(keys) {
		return nil, &ConfigError{Field: "keys", Reason: "must not be nil: pass the event store's subject key store (NewKeyStore)"}
	}
	if isNil(cfg.Wrapper) {
		return nil, &ConfigError{Field: "Wrapper", Reason: "must not be nil: pass the wrapping key (NewAESKeyWrapper, or a KMS wrapper)"}
	}
	wrappers := map[string]KeyWrapper{}
	for i, w := range append([]KeyWrapper{cfg.Wrapper}, cfg.Previous...) {
		field := "Wrapper"
		if i > 0 {
			field = fmt.Sprintf("Previous[%d]", i-1)
		}
		if isNil(w) {
			return nil, &ConfigError{Field: field, Reason: "must not be nil"}
		}
		if err := core.ValidateWrappingKeyID(w.KeyID()); err != nil {
			return nil, &ConfigError{Field: field, Reason: "its KeyID: " + err.Error()}
		}
		if _, dup := wrappers[w.KeyID()]; dup {
			return nil, &ConfigError{Field: field, Reason: fmt.Sprintf("its KeyID %q is also an earlier wrapper's: give every wrapping key its own id", w.KeyID())}
		}
		wrappers[w.KeyID()] = w
	}
	size, ttl := cfg.CacheSize, cfg.CacheTTL
	if size == 0 {
		size = DefaultCacheSize
	}
	if ttl == 0 {
		ttl = DefaultCacheTTL
	}
	return &Shredder[TX]{keys: keys, wrapper: cfg.Wrapper, wrappers: wrappers, cache: newKeyCache(size, ttl, time.Now), now: time.Now}, nil
}

// usable returns the error of a zero Shredder or a nil transaction.
func (s *Shredder[TX]) usable(tx TX) error {
	if s == nil || s.keys == nil {
		return &ConfigError{Field: "Shredder", Reason: "is not initialised: make it with New"}
	}
	if isNil(tx) {
		return &core.InvalidArgumentError{Argument: "tx", Reason: "must not be nil: pass the transaction the call runs in"}
	}
	return nil
}

// Seal encrypts plaintext for subject (see core.ValidateSubject) under the
// subject's data key, creating the key in tx when the subject has none (two
// transactions doing so at once end with one key: the second waits for the
// first, see core.SubjectKeyStore.CreateSubjectKey). A subject forgotten
// before gets a new key; its old values stay erased. The key is created
// in tx, so it commits or rolls back with the events holding the value.
func (s *Shredder[TX]) Seal(ctx context.Context, tx TX, subject string, plaintext []byte) (Sealed, error) {
	if err := s.usable(tx); err != nil {
		return Sealed{}, err
	}
	if err := core.ValidateSubject(subject); err != nil {
		return Sealed{}, err
	}
	kid, aead, err := s.sealingKey(ctx, tx, subject)
	if err != nil {
		return Sealed{}, err
	}
	return seal(subject, kid, aead, plaintext)
}

// seal encrypts plaintext with a fresh random nonce.
func seal(subject string, kid uuid.UUID, aead cipher.AEAD, plaintext []byte) (Sealed, error) {
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(nonce); err != nil {
		return Sealed{}, fmt.Errorf("error drawing a nonce: %w", err)
	}
	return Sealed{Subject: subject, KeyID: kid, Nonce: nonce, Ciphertext: aead.Seal(nil, nonce, plaintext, valueAD(subject, kid))}, nil
}

// sealingKey returns the subject's current key as tx sees it, created if
// missing.
func (s *Shredder[TX]) sealingKey(ctx context.Context, tx TX, subject string) (uuid.UUID, cipher.AEAD, error) {
	loadedAt := s.now()
	key, found, err := s.keys.ReadSubjectKey(ctx, tx, subject)
	if err != nil {
		return uuid.Nil, nil, fmt.Errorf("error sealing for subject %q: %w", subject, err)
	}
	if !found {
		dataKey := make([]byte, 32)
		if _, err := rand.Read(dataKey); err != nil {
			return uuid.Nil, nil, fmt.Errorf("error drawing a data key: %w", err)
		}
		kid := uuid.New()
		wrapped, err := s.wrapper.Wrap(ctx, dataKey, keyAD(subject, kid))
		if err != nil {
			return uuid.Nil, nil, fmt.Errorf("error wrapping the new data key of subject %q with wrapping key %q: %w", subject, s.wrapper.KeyID(), err)
		}
		stored, created, err := s.keys.CreateSubjectKey(ctx, tx, core.SubjectKey{Subject: subject, KeyID: kid, WrappedKey: wrapped, WrappingKeyID: s.wrapper.KeyID()})
		if err != nil {
			return uuid.Nil, nil, fmt.Errorf("error sealing for subject %q: %w", subject, err)
		}
		if created {
			// Not cached: tx may still roll back, and the key with it.
			aead, err := newAEAD(dataKey)
			return kid, aead, err
		}
		key = stored // another transaction created the subject's key first
	}
	aead, err := s.dataKey(ctx, key, loadedAt)
	return key.KeyID, aead, err
}

// dataKey returns key's data key as an AEAD, from the cache or unwrapped
// (and then cached), key having been read from the database at loadedAt.
func (s *Shredder[TX]) dataKey(ctx context.Context, key core.SubjectKey, loadedAt time.Time) (cipher.AEAD, error) {
	ck := cacheKey{subject: key.Subject, keyID: key.KeyID}
	if aead, ok := s.cache.get(ck); ok {
		return aead, nil
	}
	w, ok := s.wrappers[key.WrappingKeyID]
	if !ok {
		return nil, &UnknownWrappingKeyError{Subject: key.Subject, WrappingKeyID: key.WrappingKeyID}
	}
	dataKey, err := w.Unwrap(ctx, key.WrappedKey, keyAD(key.Subject, key.KeyID))
	if err != nil {
		return nil, fmt.Errorf("error unwrapping the data key of subject %q with wrapping key %q: %w", key.Subject, key.WrappingKeyID, err)
	}
	if len(dataKey) != 32 {
		return nil, fmt.Errorf("the data key of subject %q unwrapped to %d bytes, want 32", key.Subject, len(dataKey))
	}
	aead, err := newAEAD(dataKey)
	if err != nil {
		return nil, err
	}
	s.cache.put(ck, aead, loadedAt)
	return aead, nil
}

// Open decrypts sealed. erased is true, with no plaintext and no error,
// when its subject was forgotten (the key is gone, or the subject has a
// newer key than the one that sealed it): reading the events of a
// forgotten subject goes on. A value that does not authenticate under its
// key, or is malformed, is an error wrapping ErrCorrupt; a key wrapped by a
// wrapping key not configured is one wrapping ErrUnknownWrappingKey.
func (s *Shredder[TX]) Open(ctx context.Context, tx TX, sealed Sealed) (plaintext []byte, erased bool, err error) {
	if err := s.usable(tx); err != nil {
		return nil, false, err
	}
	if err := sealed.validate(); err != nil {
		return nil, false, err
	}
	aead, ok := s.cache.get(cacheKey{subject: sealed.Subject, keyID: sealed.KeyID})
	if !ok {
		loadedAt := s.now()
		key, found, err := s.keys.ReadSubjectKey(ctx, tx, sealed.Subject)
		if err != nil {
			return nil, false, fmt.Errorf("error opening a value of subject %q: %w", sealed.Subject, err)
		}
		if !found || key.KeyID != sealed.KeyID {
			return nil, true, nil
		}
		if aead, err = s.dataKey(ctx, key, loadedAt); err != nil {
			return nil, false, err
		}
	}
	plaintext, err = aead.Open(nil, sealed.Nonce, sealed.Ciphertext, valueAD(sealed.Subject, sealed.KeyID))
	if err != nil {
		return nil, false, &CorruptError{Subject: sealed.Subject, KeyID: sealed.KeyID,
			Reason: "it does not authenticate under the subject's key: it was changed, or copied from another subject"}
	}
	return plaintext, false, nil
}

// Forget deletes the subject's data key in tx: once tx commits, every value
// sealed for the subject is erased for good (Open reports erased), in this
// process at once and in others within their CacheTTL (see Shredder).
// forgotten is false when the subject had no key. Sealing for the subject
// afterwards creates a new key. Forget takes the key out of this
// Shredder's cache before it returns, whether or not tx commits; a
// rollback only costs this process a cache miss on the key later.
func (s *Shredder[TX]) Forget(ctx context.Context, tx TX, subject string) (forgotten bool, err error) {
	if err := s.usable(tx); err != nil {
		return false, err
	}
	if err := core.ValidateSubject(subject); err != nil {
		return false, err
	}
	kid, deleted, err := s.keys.DeleteSubjectKey(ctx, tx, subject)
	if err != nil {
		return false, fmt.Errorf("error forgetting subject %q: %w", subject, err)
	}
	if deleted {
		s.cache.forget(cacheKey{subject: subject, keyID: kid})
		s.forgets.Add(1)
	}
	return deleted, nil
}

// keyAD is the associated data of a wrapped data key: it binds the key to
// its subject and id.
func keyAD(subject string, kid uuid.UUID) []byte {
	return associatedData("chronicle.shred.key.v1", subject, kid)
}

// valueAD is the associated data of a sealed value.
func valueAD(subject string, kid uuid.UUID) []byte {
	return associatedData("chronicle.shred.value.v1", subject, kid)
}

// associatedData is purpose, NUL, subject (which holds no NUL), NUL, and
// the key id's 16 bytes: unambiguous for every subject.
func associatedData(purpose, subject string, kid uuid.UUID) []byte {
	b := make([]byte, 0, len(purpose)+len(subject)+2+len(kid))
	b = append(b, purpose...)
	b = append(b, 0)
	b = append(b, subject...)
	b = append(b, 0)
	return append(b, kid[:]...)
}

// isNil reports whether v is nil: a nil interface, pointer, map, slice,
// channel or function.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Chan, reflect.Func, reflect.Interface:
		return rv.IsNil()
	}
	return false
}
