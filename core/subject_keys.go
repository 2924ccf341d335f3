package core

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// SubjectKey is a subject's data key as stored: the key that encrypts the
// subject's personal fields (package core/shred), wrapped by a key the
// application holds. One row per subject; deleting it makes every field
// sealed with it unreadable (crypto-shredding).
type SubjectKey struct {
	// Subject names whose personal data the key protects, e.g. a customer
	// id. It is stored in clear, in the key table and in every sealed
	// field: use a pseudonymous id, never the personal data itself.
	Subject string
	// KeyID identifies this key among the subject's keys over time: a
	// subject forgotten and then sealed for again gets a new key with a
	// new id, and fields sealed under the old id stay erased.
	KeyID uuid.UUID
	// WrappedKey is the data key encrypted by the wrapping key.
	WrappedKey []byte
	// WrappingKeyID names the wrapping key that WrappedKey needs.
	WrappingKeyID string
	// CreatedAt is when the key was stored (the database's clock, UTC, to
	// the microsecond); the store sets it, the value given is ignored.
	CreatedAt time.Time
}

// MaxSubjectLength, MaxWrappingKeyIDLength and MaxWrappedKeyLength bound a
// SubjectKey's fields, so that a key row and a sealed field stay small.
const (
	MaxSubjectLength       = 1000
	MaxWrappingKeyIDLength = 200
	MaxWrappedKeyLength    = 8192
)

// ValidateSubject checks a subject: 1 to MaxSubjectLength bytes of valid
// UTF-8 without NUL bytes (PostgreSQL text holds no NUL). It returns an
// *InvalidArgumentError (Argument "subject") or nil.
func ValidateSubject(subject string) error {
	return validateKeyText("subject", "the subject", subject, MaxSubjectLength)
}

// ValidateWrappingKeyID checks a wrapping key's id as ValidateSubject
// checks a subject, with at most MaxWrappingKeyIDLength bytes (Argument
// "wrappingKeyID").
func ValidateWrappingKeyID(id string) error {
	return validateKeyText("wrappingKeyID", "the wrapping key id", id, MaxWrappingKeyIDLength)
}

func validateKeyText(argument, what, s string, limit int) error {
	switch {
	case s == "":
		return &InvalidArgumentError{Argument: argument, Reason: what + " must not be empty"}
	case len(s) > limit:
		return &InvalidArgumentError{Argument: argument, Reason: fmt.Sprintf("%s is %d bytes long, more than the %d allowed", what, len(s), limit)}
	case strings.IndexByte(s, 0) >= 0:
		return &InvalidArgumentError{Argument: argument, Reason: fmt.Sprintf("%s %q must not contain NUL bytes (PostgreSQL text cannot hold them)", what, s)}
	case !utf8.ValidString(s):
		return &InvalidArgumentError{Argument: argument, Reason: fmt.Sprintf("%s %q must be valid UTF-8", what, s)}
	}
	return nil
}

// Validate checks a key before it is stored: a valid Subject and
// WrappingKeyID, a KeyID other than uuid.Nil and a WrappedKey of 1 to
// MaxWrappedKeyLength bytes. It returns an *InvalidArgumentError or nil;
// the stores call it before any I/O.
func (k SubjectKey) Validate() error {
	if err := ValidateSubject(k.Subject); err != nil {
		return err
	}
	if k.KeyID == uuid.Nil {
		return &InvalidArgumentError{Argument: "keyID", Reason: "must not be the nil UUID: give every key a random id (uuid.New)"}
	}
	if len(k.WrappedKey) == 0 || len(k.WrappedKey) > MaxWrappedKeyLength {
		return &InvalidArgumentError{Argument: "wrappedKey", Reason: fmt.Sprintf("must be 1 to %d bytes, got %d", MaxWrappedKeyLength, len(k.WrappedKey))}
	}
	return ValidateWrappingKeyID(k.WrappingKeyID)
}

// SubjectKeyStore stores subjects' data keys: the storage port of
// crypto-shredding (package core/shred). Every method runs in the caller's
// transaction, with PostgreSQL's READ COMMITTED semantics on every
// adapter: a key another transaction created or deleted is seen once that
// transaction commits. Implementations are safe for concurrent use with
// different transactions. Invalid arguments are an *InvalidArgumentError
// before any I/O, leaving tx as it was; any other error aborts tx, as a
// PostgreSQL error does.
type SubjectKeyStore[TX any] interface {
	// CreateSubjectKey stores key (see SubjectKey.Validate) unless its
	// subject has a key already, and returns the subject's key as tx sees
	// it afterwards: key with its CreatedAt when created reports true, else
	// the key that was there. While another transaction is creating a key
	// for the subject and has not committed, it waits for it (the unique
	// key), then returns that key if the other committed, or creates key
	// if it rolled back: two transactions creating a key for a new subject
	// at once end with one key, which both return.
	CreateSubjectKey(ctx context.Context, tx TX, key SubjectKey) (stored SubjectKey, created bool, err error)
	// ReadSubjectKey returns the subject's key as tx sees it; found is false
	// when it has none (never created, or deleted). It never waits.
	ReadSubjectKey(ctx context.Context, tx TX, subject string) (key SubjectKey, found bool, err error)
	// DeleteSubjectKey deletes the subject's key and returns its KeyID;
	// deleted is false when tx sees none (a key another transaction is
	// still creating is not seen). It waits while another transaction
	// deletes or rewraps the same key.
	DeleteSubjectKey(ctx context.Context, tx TX, subject string) (keyID uuid.UUID, deleted bool, err error)
	// SubjectKeysWrappedBy returns up to limit (>= 1) keys wrapped by the
	// wrapping key wrappingKeyID, ordered by subject (bytewise), whose
	// subject sorts after afterSubject ("" for the first). It never waits.
	SubjectKeysWrappedBy(ctx context.Context, tx TX, wrappingKeyID, afterSubject string, limit int) ([]SubjectKey, error)
	// RewrapSubjectKey replaces the wrapped key of key.Subject with
	// key.WrappedKey and key.WrappingKeyID, if the subject's key is still
	// key.KeyID wrapped by previousWrappingKeyID; rewrapped is false, and
	// nothing written, otherwise (the key was deleted or rewrapped
	// meanwhile). It waits while another transaction deletes or rewraps the
	// key, then re-checks.
	RewrapSubjectKey(ctx context.Context, tx TX, key SubjectKey, previousWrappingKeyID string) (rewrapped bool, err error)
}
