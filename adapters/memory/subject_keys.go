package memory

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/chronicle-go/chronicle/core"
	"github.com/google/uuid"
)

var _ core.SubjectKeyStore[*Tx] = (*Store)(nil)

// keyRow is a subject's key row: its committed value, and the value its
// lock holder sees while it holds the lock (a transaction that created,
// deleted or rewrapped it and has not ended).
type keyRow struct {
	lock rowLock
	// committed is the value every other transaction sees; exists reports
	// whether the row was committed at all (false: its creator still runs).
	committed core.SubjectKey
	exists    bool
	// pending is the lock holder's value; deleted reports that the lock
	// holder deleted the row instead.
	pending core.SubjectKey
	deleted bool
}

// visibleTo returns the key as tx sees it; ok is false when tx sees none.
// Called with s.mu held.
func (r *keyRow) visibleTo(tx *Tx) (core.SubjectKey, bool) {
	if r.lock.owner == tx {
		return r.pending, !r.deleted
	}
	return r.committed, r.exists
}

// CreateSubjectKey stores key unless its subject has one and returns the
// subject's key as tx sees it; see core.SubjectKeyStore. Like INSERT … ON
// CONFLICT DO NOTHING on PostgreSQL, it waits while another transaction
// creates, deletes or rewraps the subject's key, then looks again. A
// created key gets the store's clock as CreatedAt, gives tx a transaction
// id and is visible to others once tx commits. Errors other than invalid
// arguments or an unusable tx (ctx ending while waiting, ErrDeadlock)
// abort tx.
func (s *Store) CreateSubjectKey(ctx context.Context, tx *Tx, key core.SubjectKey) (core.SubjectKey, bool, error) {
	if err := key.Validate(); err != nil {
		return core.SubjectKey{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	doing := fmt.Sprintf("creating the key of subject %q", key.Subject)
	if err := s.startWrite(ctx, tx, doing); err != nil {
		return core.SubjectKey{}, false, err
	}
	for {
		r := s.keys[key.Subject]
		switch {
		case r == nil:
			r = &keyRow{}
			s.keys[key.Subject] = r
			s.lockKey(tx, key.Subject, r)
			return s.setPendingKey(r, key), true, nil
		case r.lock.owner == tx && r.deleted:
			// The row tx deleted is gone for tx: a new one takes its place.
			r.deleted = false
			return s.setPendingKey(r, key), true, nil
		case r.lock.owner == tx:
			return cloneKey(r.pending), false, nil
		case r.lock.owner == nil:
			return cloneKey(r.committed), false, nil
		}
		if err := s.wait(ctx, tx, r.lock.owner, r.lock.released); err != nil {
			s.abort(tx)
			return core.SubjectKey{}, false, fmt.Errorf("%s: waiting for the transaction writing it: %w", doing, err)
		}
	}
}

// setPendingKey makes key, with the store's clock as CreatedAt, the value
// r's lock holder sees, and returns a copy. Called with s.mu held.
func (s *Store) setPendingKey(r *keyRow, key core.SubjectKey) core.SubjectKey {
	key.CreatedAt = dbTime(s.now())
	r.pending = cloneKey(key)
	return cloneKey(key)
}

// ReadSubjectKey returns the subject's key as tx sees it; see
// core.SubjectKeyStore. It never waits.
func (s *Store) ReadSubjectKey(ctx context.Context, tx *Tx, subject string) (core.SubjectKey, bool, error) {
	if err := core.ValidateSubject(subject); err != nil {
		return core.SubjectKey{}, false, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.readable(ctx, tx); err != nil {
		return core.SubjectKey{}, false, fmt.Errorf("reading the key of subject %q: %w", subject, err)
	}
	r := s.keys[subject]
	if r == nil {
		return core.SubjectKey{}, false, nil
	}
	k, ok := r.visibleTo(tx)
	if !ok {
		return core.SubjectKey{}, false, nil
	}
	return cloneKey(k), true, nil
}

// DeleteSubjectKey deletes the subject's key in tx; see
// core.SubjectKeyStore. A key another transaction is still creating is not
// seen; one another transaction deletes or rewraps is waited for, like a
// DELETE waits for the row lock. A deletion gives tx a transaction id and
// is visible to others once tx commits. Errors other than an invalid
// subject or an unusable tx abort tx.
func (s *Store) DeleteSubjectKey(ctx context.Context, tx *Tx, subject string) (uuid.UUID, bool, error) {
	if err := core.ValidateSubject(subject); err != nil {
		return uuid.Nil, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	doing := fmt.Sprintf("deleting the key of subject %q", subject)
	if err := s.startWrite(ctx, tx, doing); err != nil {
		return uuid.Nil, false, err
	}
	for {
		r := s.keys[subject]
		switch {
		case r == nil || (r.lock.owner != tx && !r.exists):
			return uuid.Nil, false, nil
		case r.lock.owner == tx:
			if r.deleted {
				return uuid.Nil, false, nil
			}
			r.deleted = true
			return r.pending.KeyID, true, nil
		case r.lock.owner == nil:
			s.lockKey(tx, subject, r)
			r.deleted = true
			return r.pending.KeyID, true, nil
		}
		if err := s.wait(ctx, tx, r.lock.owner, r.lock.released); err != nil {
			s.abort(tx)
			return uuid.Nil, false, fmt.Errorf("%s: waiting for its row lock: %w", doing, err)
		}
	}
}

// SubjectKeysWrappedBy returns up to limit keys tx sees that wrappingKeyID
// wraps, with subjects after afterSubject, ordered by subject bytewise
// (PostgreSQL's "C" collation); see core.SubjectKeyStore. It never waits.
func (s *Store) SubjectKeysWrappedBy(ctx context.Context, tx *Tx, wrappingKeyID, afterSubject string, limit int) ([]core.SubjectKey, error) {
	if err := core.ValidateWrappingKeyID(wrappingKeyID); err != nil {
		return nil, err
	}
	if err := core.ValidateReadLimit(0, limit); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.readable(ctx, tx); err != nil {
		return nil, fmt.Errorf("listing the keys wrapped by %q: %w", wrappingKeyID, err)
	}
	var out []core.SubjectKey
	for subject, r := range s.keys {
		if subject <= afterSubject {
			continue
		}
		if k, ok := r.visibleTo(tx); ok && k.WrappingKeyID == wrappingKeyID {
			out = append(out, k)
		}
	}
	slices.SortFunc(out, func(a, b core.SubjectKey) int { return strings.Compare(a.Subject, b.Subject) })
	out = out[:min(limit, len(out))]
	for i := range out {
		out[i] = cloneKey(out[i])
	}
	return out, nil
}

// RewrapSubjectKey replaces the subject's wrapped key if it is still
// key.KeyID wrapped by previousWrappingKeyID; see core.SubjectKeyStore.
// Like an UPDATE with that condition it skips, without waiting, a key that
// does not match or that another transaction is still creating, and waits
// while another transaction deletes or rewraps a matching one, then checks
// again. A rewrap gives tx a transaction id. Errors other than invalid
// arguments or an unusable tx abort tx.
func (s *Store) RewrapSubjectKey(ctx context.Context, tx *Tx, key core.SubjectKey, previousWrappingKeyID string) (bool, error) {
	if err := key.Validate(); err != nil {
		return false, err
	}
	if err := core.ValidateWrappingKeyID(previousWrappingKeyID); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	doing := fmt.Sprintf("rewrapping the key of subject %q", key.Subject)
	if err := s.startWrite(ctx, tx, doing); err != nil {
		return false, err
	}
	matches := func(k core.SubjectKey) bool {
		return k.KeyID == key.KeyID && k.WrappingKeyID == previousWrappingKeyID
	}
	for {
		r := s.keys[key.Subject]
		switch {
		case r == nil:
			return false, nil
		case r.lock.owner == tx:
			if r.deleted || !matches(r.pending) {
				return false, nil
			}
			r.pending.WrappedKey, r.pending.WrappingKeyID = cloneBytes(key.WrappedKey), key.WrappingKeyID
			return true, nil
		case !r.exists || !matches(r.committed):
			return false, nil
		case r.lock.owner == nil:
			s.lockKey(tx, key.Subject, r)
			r.pending.WrappedKey, r.pending.WrappingKeyID = cloneBytes(key.WrappedKey), key.WrappingKeyID
			return true, nil
		}
		if err := s.wait(ctx, tx, r.lock.owner, r.lock.released); err != nil {
			s.abort(tx)
			return false, fmt.Errorf("%s: waiting for its row lock: %w", doing, err)
		}
	}
}

// lockKey locks r, the row of subject, for tx, which sees its committed
// value until it changes it, and gives tx a transaction id. The row must
// not be locked. Called with s.mu held.
func (s *Store) lockKey(tx *Tx, subject string, r *keyRow) {
	r.pending, r.deleted = cloneKey(r.committed), false
	r.lock.take(tx)
	tx.keys = append(tx.keys, subject)
	s.assignXID(tx)
}

// commitKeys applies tx's key writes. Called with s.mu held.
func (s *Store) commitKeys(tx *Tx) {
	for _, subject := range tx.keys {
		r := s.keys[subject]
		if r.deleted {
			delete(s.keys, subject)
		} else {
			r.committed, r.exists = r.pending, true
		}
		r.lock.release()
	}
}

// discardKeys undoes tx's key writes. Called with s.mu held.
func (s *Store) discardKeys(tx *Tx) {
	for _, subject := range tx.keys {
		r := s.keys[subject]
		if !r.exists {
			delete(s.keys, subject) // its creation is undone
		}
		r.pending, r.deleted = core.SubjectKey{}, false
		r.lock.release()
	}
}

// cloneKey returns k with its own WrappedKey.
func cloneKey(k core.SubjectKey) core.SubjectKey {
	k.WrappedKey = cloneBytes(k.WrappedKey)
	return k
}
