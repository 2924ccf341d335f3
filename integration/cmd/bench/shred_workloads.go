package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	mrand "math/rand/v2"

	"github.com/chronicle-go/chronicle/core"
	"github.com/chronicle-go/chronicle/core/shred"
)

// shredCustomers is the number of customers whose keys W1e and W2e seal
// with: few enough that every key exists after the warm-up, so that the
// runs measure sealing for a known customer (a read of its key row and
// the cached unwrap), not the creation of keys.
const shredCustomers = 1000

// benchWrappingKey is the wrapping key of W1e and W2e: fixed, so that the
// adapters, which share the store's tables, and a rerun on the same
// database all unwrap the keys the first one made. Only for the benchmark:
// a real wrapping key is random and kept secret.
var benchWrappingKey = sha256.Sum256([]byte("chronicle bench wrapping key"))

// newShredder returns a shredder over the subject keys of store.
func newShredder[TX any](a *adapter[TX], store core.Store[TX]) (*shred.Shredder[TX], error) {
	keys, err := a.newKeys(store)
	if err != nil {
		return nil, err
	}
	w, err := shred.NewAESKeyWrapper("bench", benchWrappingKey[:])
	if err != nil {
		return nil, err
	}
	return shred.New(keys, shred.Config{Wrapper: w})
}

// appendSealed is W1e (size 1) and W2e (size 100): W1 and W2 with one
// personal field per event, the customer's email, sealed for the customer
// (one of shredCustomers, the same for every event of the append, as the
// events of one order belong to one customer) in the append's transaction
// before the Append.
func appendSealed[TX any](a *adapter[TX], store core.Store[TX], shredder *shred.Shredder[TX], size int) func(ctx context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		events := orderEvents(size)
		customer := fmt.Sprintf("C-%06d", mrand.IntN(shredCustomers))
		fields := []shred.Field{{Name: "email", Subject: customer}}
		return size, a.inTx(ctx, func(tx TX) error {
			sealer := shredder.In(ctx, tx)
			for i := range events {
				plain := append(events[i].Payload[:len(events[i].Payload)-1:len(events[i].Payload)-1],
					fmt.Sprintf(`,"email":"%s@example.com"}`, customer)...)
				sealed, err := sealer.SealJSON(plain, fields...)
				if err != nil {
					return err
				}
				events[i].Payload = sealed
			}
			_, err := store.Append(ctx, tx, core.NoStream(), events)
			return err
		})
	}
}

// warmShredder creates the key of every customer, so that the timed runs
// find them.
func warmShredder[TX any](ctx context.Context, a *adapter[TX], shredder *shred.Shredder[TX]) error {
	return a.inTx(ctx, func(tx TX) error {
		for i := range shredCustomers {
			if _, err := shredder.Seal(ctx, tx, fmt.Sprintf("C-%06d", i), nil); err != nil {
				return err
			}
		}
		return nil
	})
}
