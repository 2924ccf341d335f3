// Command shredding shows crypto-shredding on PostgreSQL over pgx: a
// customer's email is sealed with the customer's own key before it is
// appended, opened when read, still readable after the wrapping key is
// rotated, and erased for good by forgetting the customer, while the event
// itself stays in the log. It connects to $DATABASE_URL.
package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chronicle-go/chronicle/adapters/postgres-pgx" // package postgres
	"github.com/chronicle-go/chronicle/core"
	"github.com/chronicle-go/chronicle/core/shred"
)

func main() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatalf("connecting: %v", err)
	}
	defer pool.Close()
	store, err := postgres.NewStore(postgres.DefaultStoreConfig())
	if err != nil {
		log.Fatalf("configuring the store: %v", err)
	}
	ddl, err := store.SchemaSQL(postgres.SchemaOptions{})
	if err != nil {
		log.Fatalf("generating the schema: %v", err)
	}
	if _, err := pool.Exec(ctx, ddl); err != nil {
		log.Fatalf("applying the schema: %v", err)
	}
	keys, err := postgres.NewKeyStore(store) // the events table's _subject_keys table
	if err != nil {
		log.Fatalf("configuring the key store: %v", err)
	}

	// The wrapping key comes from a secret store or a KMS in production.
	// This run makes its own, with an id of its own, since earlier runs'
	// keys in the same database were wrapped by keys now lost.
	run := uuid.NewString()[:8]
	wrapper := newWrapper("example-" + run + "-a")
	shredder, err := shred.New(keys, shred.Config{Wrapper: wrapper})
	if err != nil {
		log.Fatalf("configuring shredding: %v", err)
	}

	// Append: the email is sealed with the customer's key, created in the
	// same transaction as the event.
	customer := "customer-" + run
	plain, _ := json.Marshal(map[string]string{"customer_id": customer, "email": "ada@example.com", "plan": "pro"})
	inTx(ctx, pool, func(tx pgx.Tx) error {
		payload, err := shredder.SealJSON(ctx, tx, plain, shred.Field{Name: "email", Subject: customer})
		if err != nil {
			return err
		}
		_, err = store.Append(ctx, tx, core.NoStream(), []core.Event{{
			AggregateType: "Customer", AggregateID: customer, EventID: uuid.New(), EventType: "CustomerRegistered", Payload: payload,
		}})
		return err
	})
	read := func(shredder *shred.Shredder[pgx.Tx]) (email, plan string, erased []string) {
		inTx(ctx, pool, func(tx pgx.Tx) error {
			stream, err := store.ReadAggregateStream(ctx, tx, "Customer", customer, nil, nil)
			if err != nil {
				return err
			}
			stored := stream.Events[0].Payload
			if strings.Contains(string(stored), "ada@") {
				return fmt.Errorf("the stored payload holds the email in clear: %s", stored)
			}
			opened, gone, err := shredder.OpenJSON(ctx, tx, stored)
			if err != nil {
				return err
			}
			var v struct{ Email, Plan string }
			if err := json.Unmarshal(opened, &v); err != nil {
				return err
			}
			email, plan, erased = v.Email, v.Plan, gone
			return nil
		})
		return email, plan, erased
	}
	email, plan, _ := read(shredder)
	fmt.Printf("opened: email %s, plan %s (stored sealed)\n", email, plan)

	// Rotate the wrapping key: configure the new one with the old as
	// Previous, rewrap every data key, then drop the old one.
	next := newWrapper("example-" + run + "-b")
	during, err := shred.New(keys, shred.Config{Wrapper: next, Previous: []shred.KeyWrapper{wrapper}})
	if err != nil {
		log.Fatal(err)
	}
	txs, err := postgres.NewConsumerStore(pool, store) // begins the batches' transactions
	if err != nil {
		log.Fatal(err)
	}
	n, err := during.RewrapKeys(ctx, txs, wrapper, next)
	if err != nil {
		log.Fatalf("rewrapping: %v", err)
	}
	after, err := shred.New(keys, shred.Config{Wrapper: next})
	if err != nil {
		log.Fatal(err)
	}
	email, _, _ = read(after)
	fmt.Printf("rotated the wrapping key: %d data key rewrapped, email still %s\n", n, email)

	// Forget the customer: the key is deleted, the event stays, and the
	// email reads as erased.
	inTx(ctx, pool, func(tx pgx.Tx) error {
		_, err := after.Forget(ctx, tx, "customer-"+run)
		return err
	})
	email, plan, erased := read(after)
	fmt.Printf("forgot the customer: email %q (erased %v), plan %s\n", email, erased, plan)
}

// newWrapper returns an AES-256-GCM wrapper with a random key.
func newWrapper(id string) *shred.AESKeyWrapper {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		log.Fatal(err)
	}
	w, err := shred.NewAESKeyWrapper(id, key)
	if err != nil {
		log.Fatal(err)
	}
	return w
}

// inTx runs fn in a transaction and commits it, or exits on an error.
func inTx(ctx context.Context, pool *pgxpool.Pool, fn func(pgx.Tx) error) {
	if err := pgx.BeginFunc(ctx, pool, fn); err != nil {
		log.Fatal(err)
	}
}
