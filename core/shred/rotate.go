package shred

import (
	"context"
	"errors"
	"fmt"

	"github.com/chronicle-go/chronicle/core"
)

// Transactor begins and ends the transactions RewrapKeys runs its batches
// in. Each driver's ConsumerStore and the memory store implement it.
type Transactor[TX any] interface {
	// Begin starts a transaction.
	Begin(ctx context.Context) (TX, error)
	// Commit commits tx.
	Commit(ctx context.Context, tx TX) error
	// Rollback rolls tx back.
	Rollback(ctx context.Context, tx TX) error
}

// DefaultRewrapBatch is the number of keys RewrapKeys rewraps per
// transaction.
const DefaultRewrapBatch = 500

// RewrapKeys rotates the wrapping key: it rewraps every data key that from
// wraps with to, DefaultRewrapBatch keys per transaction of txs, walking
// the keys in subject order, and returns how many it rewrapped. The data
// keys themselves do not change, so every sealed value stays readable
// throughout, and afterwards from is needed no more.
//
// The rotation, step by step: give every process Config{Wrapper: to,
// Previous: [from]}, so that new subjects' keys are wrapped by to and keys
// still wrapped by from open; run RewrapKeys(ctx, txs, from, to) once; then
// drop from from Previous. RewrapKeys is resumable: it only ever picks the
// keys still wrapped by from, so after an error or an interruption running
// it again does the rest, and a run that finds nothing returns 0. A key
// forgotten or rewrapped by another transaction meanwhile is skipped. An
// error rolls back the batch in progress (the batches before it stay
// committed) and is returned with the count so far.
func (s *Shredder[TX]) RewrapKeys(ctx context.Context, txs Transactor[TX], from, to KeyWrapper) (int, error) {
	if s == nil || s.keys == nil {
		return 0, &ConfigError{Field: "Shredder", Reason: "is not initialised: make it with New"}
	}
	if isNil(txs) {
		return 0, &core.InvalidArgumentError{Argument: "txs", Reason: "must not be nil: pass what begins the batches' transactions (a ConsumerStore, or the memory store)"}
	}
	total, after := 0, ""
	for {
		tx, err := txs.Begin(ctx)
		if err != nil {
			return total, fmt.Errorf("error beginning a rewrap batch: %w", err)
		}
		n, last, err := s.RewrapBatch(ctx, tx, from, to, after, DefaultRewrapBatch)
		if err != nil {
			return total, errors.Join(err, txs.Rollback(ctx, tx))
		}
		if err := txs.Commit(ctx, tx); err != nil {
			return total, fmt.Errorf("error committing a rewrap batch: %w", err)
		}
		total += n
		if last == "" {
			return total, nil
		}
		after = last
	}
}

// RewrapBatch rewraps, in tx, up to limit (>= 1) data keys that from wraps
// and whose subject sorts after afterSubject ("" for the first), with to.
// It returns how many it rewrapped and the last subject it looked at, ""
// when there were no more: pass that as afterSubject to the next batch.
// RewrapKeys runs it in a loop; call it yourself to run the batches in
// transactions of your own. from and to must be distinct wrappers (an
// error wrapping ErrInvalidConfig otherwise).
func (s *Shredder[TX]) RewrapBatch(ctx context.Context, tx TX, from, to KeyWrapper, afterSubject string, limit int) (rewrapped int, last string, err error) {
	if err := s.usable(tx); err != nil {
		return 0, "", err
	}
	if err := checkRotation(from, to); err != nil {
		return 0, "", err
	}
	keys, err := s.keys.SubjectKeysWrappedBy(ctx, tx, from.KeyID(), afterSubject, limit)
	if err != nil {
		return 0, "", fmt.Errorf("error listing the keys wrapped by %q: %w", from.KeyID(), err)
	}
	for _, key := range keys {
		ad := keyAD(key.Subject, key.KeyID)
		dataKey, err := from.Unwrap(ctx, key.WrappedKey, ad)
		if err != nil {
			return rewrapped, "", fmt.Errorf("error unwrapping the data key of subject %q with wrapping key %q: %w", key.Subject, from.KeyID(), err)
		}
		wrapped, err := to.Wrap(ctx, dataKey, ad)
		if err != nil {
			return rewrapped, "", fmt.Errorf("error wrapping the data key of subject %q with wrapping key %q: %w", key.Subject, to.KeyID(), err)
		}
		next := key
		next.WrappedKey, next.WrappingKeyID = wrapped, to.KeyID()
		ok, err := s.keys.RewrapSubjectKey(ctx, tx, next, from.KeyID())
		if err != nil {
			return rewrapped, "", fmt.Errorf("error rewrapping the data key of subject %q: %w", key.Subject, err)
		}
		if ok {
			rewrapped++
		}
	}
	if len(keys) < limit {
		return rewrapped, "", nil
	}
	return rewrapped, keys[len(keys)-1].Subject, nil
}

// checkRotation checks RewrapBatch's wrappers.
func checkRotation(from, to KeyWrapper) error {
	switch {
	case isNil(from):
		return &ConfigError{Field: "from", Reason: "must not be nil: pass the wrapping key being retired"}
	case isNil(to):
		return &ConfigError{Field: "to", Reason: "must not be nil: pass the new wrapping key"}
	case from.KeyID() == to.KeyID():
		return &ConfigError{Field: "to", Reason: fmt.Sprintf("has the KeyID %q of from: a new wrapping key needs its own id", to.KeyID())}
	}
	return core.ValidateWrappingKeyID(to.KeyID())
}
