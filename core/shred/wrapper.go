package shred

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/chronicle-go/chronicle/core"
)

// KeyWrapper encrypts (wraps) and decrypts (unwraps) subjects' data keys
// with a key the application holds: the wrapping key. The data keys are
// stored only wrapped, so the database alone cannot open a sealed field.
// AESKeyWrapper wraps with a 32-byte key in process; a wrapper over a key
// management service (AWS KMS Encrypt/Decrypt with an encryption context,
// Google Cloud KMS, Vault transit) implements the same three methods.
// Implementations must be safe for concurrent use.
type KeyWrapper interface {
	// KeyID names the wrapping key (see core.ValidateWrappingKeyID): it is
	// stored with every data key it wraps, so that Open finds the wrapper
	// that unwraps it and RewrapKeys the keys to rotate. Two wrapping keys
	// must never share an id.
	KeyID() string
	// Wrap encrypts dataKey, authenticating associatedData (which names
	// the subject and the data key's id, so that a wrapped key moved to
	// another subject's row does not unwrap).
	Wrap(ctx context.Context, dataKey, associatedData []byte) ([]byte, error)
	// Unwrap reverses Wrap with the same associatedData; it fails when the
	// wrapped key or associatedData was changed.
	Unwrap(ctx context.Context, wrapped, associatedData []byte) ([]byte, error)
}

// AESKeyWrapper is a KeyWrapper holding a 256-bit wrapping key in process:
// AES-256-GCM with a random 96-bit nonce per wrap, the wrapped form being
// nonce then ciphertext and tag (60 bytes for a 32-byte data key). Make one
// with NewAESKeyWrapper; it is safe for concurrent use.
type AESKeyWrapper struct {
	id   string
	aead cipher.AEAD
}

var _ KeyWrapper = (*AESKeyWrapper)(nil)

// NewAESKeyWrapper returns a wrapper with the wrapping key key, which must
// be 32 bytes (e.g. from crypto/rand, kept in a secret store), named id. A
// bad id or key length is an error wrapping ErrInvalidConfig. The key is
// copied into the cipher; the caller may clear its slice.
func NewAESKeyWrapper(id string, key []byte) (*AESKeyWrapper, error) {
	if err := core.ValidateWrappingKeyID(id); err != nil {
		return nil, &ConfigError{Field: "id", Reason: err.Error()}
	}
	if len(key) != 32 {
		return nil, &ConfigError{Field: "key", Reason: fmt.Sprintf("must be 32 bytes (AES-256), got %d", len(key))}
	}
	aead, err := newAEAD(key)
	if err != nil {
		return nil, &ConfigError{Field: "key", Reason: err.Error()}
	}
	return &AESKeyWrapper{id: id, aead: aead}, nil
}

// KeyID returns the id given to NewAESKeyWrapper.
func (w *AESKeyWrapper) KeyID() string { return w.id }

// Wrap encrypts dataKey with a fresh random nonce.
func (w *AESKeyWrapper) Wrap(_ context.Context, dataKey, associatedData []byte) ([]byte, error) {
	if w == nil || w.aead == nil {
		return nil, errZeroWrapper
	}
	nonce := make([]byte, w.aead.NonceSize(), w.aead.NonceSize()+len(dataKey)+w.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("error drawing a nonce: %w", err)
	}
	return w.aead.Seal(nonce, nonce, dataKey, associatedData), nil
}

// Unwrap decrypts what Wrap returned; a changed wrapped key or
// associatedData, or another wrapping key, is an error.
func (w *AESKeyWrapper) Unwrap(_ context.Context, wrapped, associatedData []byte) ([]byte, error) {
	if w == nil || w.aead == nil {
		return nil, errZeroWrapper
	}
	n := w.aead.NonceSize()
	if len(wrapped) < n+w.aead.Overhead() {
		return nil, fmt.Errorf("the wrapped key is %d bytes, too short for AES-GCM", len(wrapped))
	}
	key, err := w.aead.Open(nil, wrapped[:n], wrapped[n:], associatedData)
	if err != nil {
		return nil, fmt.Errorf("error unwrapping with wrapping key %q: %w", w.id, err)
	}
	return key, nil
}

var errZeroWrapper = errors.New("the AESKeyWrapper is not initialised: make it with NewAESKeyWrapper")

// newAEAD returns AES-GCM with key, which is 32 bytes.
func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
