package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chronicle-go/chronicle/core"
	"github.com/google/uuid"
)

// KeyStore is the storage of crypto-shredding's subject keys,
// core.SubjectKeyStore[TX], in the subject keys table of a Store's schema
// (Names.SubjectKeysTable, migration 0004). It runs every statement in the
// caller's transaction and holds no state besides the Store, so it is safe
// for concurrent use. The zero KeyStore is not usable: its methods return
// an error wrapping ErrInvalidConfig.
type KeyStore[TX any] struct {
	store *Store[TX]
}

// NewKeyStore returns the subject key storage for store's schema. A nil or
// zero store returns an error wrapping ErrInvalidConfig.
func NewKeyStore[TX any](store *Store[TX]) (*KeyStore[TX], error) {
	if store == nil {
		return nil, &ConfigError{Field: "store", Reason: "must not be nil: pass the *Store from NewStore whose schema holds the subject keys"}
	}
	if store.exec == nil {
		return nil, errNotInitialised("store", "NewStore")
	}
	return &KeyStore[TX]{store: store}, nil
}

// ready returns the error of a zero KeyStore or a nil transaction, then
// checks the schema version at first use (see Store.usable).
func (k *KeyStore[TX]) ready(ctx context.Context, tx TX) error {
	if k == nil || k.store == nil {
		return errNotInitialised("KeyStore", "NewKeyStore")
	}
	if err := k.store.usable(tx); err != nil {
		return err
	}
	return k.store.checkSchema(ctx, tx)
}

// keyError wraps a statement's failure as "error doing: err".
func (k *KeyStore[TX]) keyError(ctx context.Context, doing string, err error) error {
	return fmt.Errorf("error %s: %w", doing, statementError(ctx, err, k.store.exec.DatabaseError(err)))
}

// maxCreateAttempts bounds CreateSubjectKey's insert-then-read rounds. A
// round finds no key only when the key it conflicted with was deleted
// before the read; a second round then normally creates one.
const maxCreateAttempts = 3

// CreateSubjectKey implements core.SubjectKeyStore: INSERT … ON CONFLICT
// DO NOTHING (sql/subject_key_create.sql), which waits for a concurrent
// creator of the same subject, then, when the subject had a key, a read in
// a statement of its own (sql/subject_key_read.sql), whose snapshot sees
// the key that creator committed. CreatedAt is the transaction's now().
func (k *KeyStore[TX]) CreateSubjectKey(ctx context.Context, tx TX, key core.SubjectKey) (core.SubjectKey, bool, error) {
	if err := key.Validate(); err != nil {
		return core.SubjectKey{}, false, err
	}
	if err := k.ready(ctx, tx); err != nil {
		return core.SubjectKey{}, false, err
	}
	doing := fmt.Sprintf("creating the key of subject %q", key.Subject)
	args := []any{key.Subject, key.KeyID.String(), key.WrappedKey, key.WrappingKeyID}
	for range maxCreateAttempts {
		stored, found, err := k.queryKey(ctx, tx, k.store.sql.CreateSubjectKey, args...)
		if err != nil {
			return core.SubjectKey{}, false, k.keyError(ctx, doing, err)
		}
		if found {
			return stored, true, nil
		}
		stored, found, err = k.queryKey(ctx, tx, k.store.sql.ReadSubjectKey, key.Subject)
		if err != nil {
			return core.SubjectKey{}, false, k.keyError(ctx, doing, err)
		}
		if found {
			return stored, false, nil
		}
	}
	return core.SubjectKey{}, false, fmt.Errorf("%s: the subject's key was deleted each time after a conflict, %d times; try again", doing, maxCreateAttempts)
}

// ReadSubjectKey implements core.SubjectKeyStore (sql/subject_key_read.sql).
func (k *KeyStore[TX]) ReadSubjectKey(ctx context.Context, tx TX, subject string) (core.SubjectKey, bool, error) {
	if err := core.ValidateSubject(subject); err != nil {
		return core.SubjectKey{}, false, err
	}
	if err := k.ready(ctx, tx); err != nil {
		return core.SubjectKey{}, false, err
	}
	key, found, err := k.queryKey(ctx, tx, k.store.sql.ReadSubjectKey, subject)
	if err != nil {
		return core.SubjectKey{}, false, k.keyError(ctx, fmt.Sprintf("reading the key of subject %q", subject), err)
	}
	return key, found, nil
}

// DeleteSubjectKey implements core.SubjectKeyStore
// (sql/subject_key_delete.sql).
func (k *KeyStore[TX]) DeleteSubjectKey(ctx context.Context, tx TX, subject string) (uuid.UUID, bool, error) {
	if err := core.ValidateSubject(subject); err != nil {
		return uuid.Nil, false, err
	}
	if err := k.ready(ctx, tx); err != nil {
		return uuid.Nil, false, err
	}
	doing := fmt.Sprintf("deleting the key of subject %q", subject)
	var keyID string
	err := k.store.queryRow(ctx, tx, k.store.sql.DeleteSubjectKey, []any{subject}, &keyID)
	if errors.Is(err, errNoRow) {
		return uuid.Nil, false, nil
	}
	if err != nil {
		return uuid.Nil, false, k.keyError(ctx, doing, err)
	}
	id, err := uuid.Parse(keyID)
	if err != nil {
		return uuid.Nil, false, fmt.Errorf("%s: the stored key id %q is not a UUID: %w", doing, keyID, err)
	}
	return id, true, nil
}

// SubjectKeysWrappedBy implements core.SubjectKeyStore
// (sql/subject_keys_wrapped_by.sql).
func (k *KeyStore[TX]) SubjectKeysWrappedBy(ctx context.Context, tx TX, wrappingKeyID, afterSubject string, limit int) ([]core.SubjectKey, error) {
	if err := core.ValidateWrappingKeyID(wrappingKeyID); err != nil {
		return nil, err
	}
	if err := core.ValidateReadLimit(0, limit); err != nil {
		return nil, err
	}
	if err := k.ready(ctx, tx); err != nil {
		return nil, err
	}
	doing := fmt.Sprintf("listing the keys wrapped by %q", wrappingKeyID)
	rows, err := k.store.exec.Query(ctx, tx, k.store.sql.SubjectKeysWrappedBy, wrappingKeyID, afterSubject, int64(limit))
	if err != nil {
		return nil, k.keyError(ctx, doing, err)
	}
	defer rows.Close()
	var out []core.SubjectKey
	for rows.Next() {
		key, err := scanKey(rows)
		if err != nil {
			return nil, k.keyError(ctx, doing, err)
		}
		out = append(out, key)
	}
	if err := rows.Err(); err != nil {
		return nil, k.keyError(ctx, doing, err)
	}
	return out, nil
}

// RewrapSubjectKey implements core.SubjectKeyStore: an UPDATE conditional
// on the key id and the previous wrapping key (sql/subject_key_rewrap.sql).
func (k *KeyStore[TX]) RewrapSubjectKey(ctx context.Context, tx TX, key core.SubjectKey, previousWrappingKeyID string) (bool, error) {
	if err := key.Validate(); err != nil {
		return false, err
	}
	if err := core.ValidateWrappingKeyID(previousWrappingKeyID); err != nil {
		return false, err
	}
	if err := k.ready(ctx, tx); err != nil {
		return false, err
	}
	var one int64
	err := k.store.queryRow(ctx, tx, k.store.sql.RewrapSubjectKey,
		[]any{key.Subject, key.KeyID.String(), previousWrappingKeyID, key.WrappedKey, key.WrappingKeyID}, &one)
	if errors.Is(err, errNoRow) {
		return false, nil
	}
	if err != nil {
		return false, k.keyError(ctx, fmt.Sprintf("rewrapping the key of subject %q", key.Subject), err)
	}
	return true, nil
}

// queryKey runs a statement returning at most one key row.
func (k *KeyStore[TX]) queryKey(ctx context.Context, tx TX, sql string, args ...any) (core.SubjectKey, bool, error) {
	rows, err := k.store.exec.Query(ctx, tx, sql, args...)
	if err != nil {
		return core.SubjectKey{}, false, err
	}
	defer rows.Close()
	if !rows.Next() {
		return core.SubjectKey{}, false, rows.Err()
	}
	key, err := scanKey(rows)
	if err != nil {
		return core.SubjectKey{}, false, err
	}
	rows.Close()
	return key, true, rows.Err()
}

// scanKey reads a key row (see sql/subject_key_read.sql).
func scanKey(rows Rows) (core.SubjectKey, error) {
	var (
		key     core.SubjectKey
		keyID   string
		created time.Time
	)
	if err := rows.Scan(&key.Subject, &keyID, &key.WrappedKey, &key.WrappingKeyID, &created); err != nil {
		return core.SubjectKey{}, err
	}
	id, err := uuid.Parse(keyID)
	if err != nil {
		return core.SubjectKey{}, fmt.Errorf("the stored key id %q is not a UUID: %w", keyID, err)
	}
	key.KeyID, key.CreatedAt = id, created.UTC()
	// Drivers may reuse the scanned bytes for the next row.
	key.WrappedKey = append([]byte(nil), key.WrappedKey...)
	return key, nil
}
