// Command lifecycle shows a long-lived aggregate's life on PostgreSQL over
// pgx: a command handler that saves a snapshot every 100 events
// (core.SnapshotPolicy) and loads the aggregate from its snapshot plus the
// events after it (LoadAggregate, one round trip); a tombstone that closes
// the stream, after which appends fail with core.ErrStreamClosed; and the
// operator's hard deletion of the stream (DeleteStream, which needs the
// tables' owner — `chronicle delete-stream` does the same from a shell).
// It connects to $DATABASE_URL as the tables' owner.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/chronicle-go/chronicle/adapters/postgres-pgx" // package postgres
	"github.com/chronicle-go/chronicle/core"
)

// account is the aggregate's state; stateSchema is the version of its
// JSON form. Raise it when the form changes: older snapshots are then
// ignored, and the aggregate is replayed from its events once.
type account struct {
	Balance int64 `json:"balance"`
}

const stateSchema = 1

var policy = core.SnapshotEvery(100)

func (a *account) apply(e core.PersistedEvent) error {
	if e.EventType != "Deposited" {
		return nil
	}
	var d struct{ Amount int64 }
	if err := json.Unmarshal(e.Payload, &d); err != nil {
		return err
	}
	a.Balance += d.Amount
	return nil
}

// load rebuilds the account from its snapshot, if any, and the events after it.
func load(ctx context.Context, store *postgres.Store, tx pgx.Tx, id string) (account, core.LoadedAggregate, error) {
	var a account
	l, err := store.LoadAggregate(ctx, tx, "Account", id, stateSchema)
	if err != nil {
		return a, l, err
	}
	if l.Snapshot != nil {
		if err := json.Unmarshal(l.Snapshot.State, &a); err != nil {
			return a, l, err
		}
	}
	for _, e := range l.Stream.Events {
		if err := a.apply(e); err != nil {
			return a, l, err
		}
	}
	return a, l, nil
}

// deposit is the command handler: load, decide, append under the version
// loaded, and snapshot when the policy says so, all in one transaction.
func deposit(ctx context.Context, pool *pgxpool.Pool, store *postgres.Store, id string, amount int64) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		a, l, err := load(ctx, store, tx, id)
		if err != nil {
			return err
		}
		payload, _ := json.Marshal(map[string]int64{"amount": amount})
		res, err := store.Append(ctx, tx, core.Exact(l.Version()), []core.Event{{
			AggregateType: "Account", AggregateID: id, EventID: uuid.New(), EventType: "Deposited", Payload: payload,
		}})
		if err != nil {
			return err
		}
		a.Balance += amount
		if policy.Due(res) {
			state, _ := json.Marshal(a)
			return store.SaveSnapshot(ctx, tx, "Account", id, res.ToVersion(), stateSchema, state)
		}
		return nil
	})
}

func main() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	store, err := postgres.NewStore(postgres.DefaultStoreConfig())
	if err != nil {
		log.Fatal(err)
	}
	ddl, err := store.SchemaSQL(postgres.SchemaOptions{})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := pool.Exec(ctx, ddl); err != nil {
		log.Fatal(err)
	}

	id := "account-" + uuid.NewString()
	for range 250 {
		if err := deposit(ctx, pool, store, id, 10); err != nil {
			log.Fatal(err)
		}
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		a, l, err := load(ctx, store, tx, id)
		if err != nil {
			return err
		}
		fmt.Printf("balance %d at version %d: snapshot at version %d, %d events replayed\n",
			a.Balance, l.Version(), l.Snapshot.Version, len(l.Stream.Events))
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}

	// Closing the account ends its stream with a tombstone that consumers
	// see as its last event.
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		res, err := store.Tombstone(ctx, tx, "Account", id, core.Exact(250), core.Tombstone{Payload: []byte(`{"reason":"closed by the customer"}`)})
		if err == nil {
			fmt.Printf("closed with %s at version %d\n", res.Events[0].EventType, res.ToVersion())
		}
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
	err = deposit(ctx, pool, store, id, 10)
	var closed *core.StreamClosedError
	if !errors.As(err, &closed) {
		log.Fatalf("a deposit after the tombstone: %v, want core.ErrStreamClosed", err)
	}
	fmt.Println("deposit refused:", errors.Is(err, core.ErrStreamClosed))

	// Erasure: the operator deletes the stream's events and snapshots.
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		d, err := store.DeleteStream(ctx, tx, "Account", id)
		if err != nil {
			return err
		}
		fmt.Printf("deleted %d events and %d snapshots\n", d.Events, d.Snapshots)
		s, err := store.ReadAggregateStream(ctx, tx, "Account", id, nil, nil)
		if err == nil {
			fmt.Printf("stream now: %d events, closed %v, deleted %v\n", s.Len(), s.Closed, s.Deleted)
		}
		return err
	})
	if err != nil {
		log.Fatal(err)
	}
}
