package postgres_test

import (
	"errors"
	"fmt"
	"log/slog"

	postgres "github.com/chronicle-go/chronicle/adapters/postgres-pgx"
)

func ExampleNewStoreConfig() {
	store, err := postgres.NewStore(postgres.NewStoreConfig(
		postgres.WithSchema("billing"),                     // default: none (the search_path)
		postgres.WithEventsTable("billing_events"),         // default "events"
		postgres.WithAggregateHeadsTable("billing_heads"),  // default "aggregate_heads"
		postgres.WithCheckpointsTable("billing_consumers"), // default "consumer_checkpoints"
		postgres.WithOrderOffsetTable("billing_order"),     // default "transaction_order_offset"
		postgres.WithNotifyChannel("billing_events"),       // default: no pg_notify
		postgres.WithLogger(slog.Default()),                // default: no logs
	))
	fmt.Println(store != nil, err)

	_, err = postgres.NewStore(postgres.NewStoreConfig(postgres.WithEventsTable("events; DROP TABLE users")))
	fmt.Println(errors.Is(err, postgres.ErrInvalidConfig))
	// Output:
	// true <nil>
	// true
}
