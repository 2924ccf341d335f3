// Command sql is the quick start on PostgreSQL over database/sql with
// lib/pq: apply the schema, append an event to a new aggregate, read the
// aggregate back, and read the end of the global log. It connects to
// $DATABASE_URL and logs through zap, which Chronicle reaches through
// log/slog and zapslog.
package main

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"

	"github.com/google/uuid"
	_ "github.com/lib/pq" // or _ "github.com/jackc/pgx/v5/stdlib" with sql.Open("pgx", …)
	"go.uber.org/zap"
	"go.uber.org/zap/exp/zapslog"

	"github.com/chronicle-go/chronicle/adapters/postgres-pq" // package postgres
	"github.com/chronicle-go/chronicle/core"
)

func main() {
	ctx := context.Background()
	logger := zap.Must(zap.NewProduction())
	defer logger.Sync()
	db, err := sql.Open("postgres", os.Getenv("DATABASE_URL"))
	if err != nil {
		logger.Fatal("connecting", zap.Error(err))
	}
	defer db.Close()

	store, err := postgres.NewStore(postgres.NewStoreConfig(
		postgres.WithLogger(slog.New(zapslog.NewHandler(logger.Core()))), // optional: default no logs
	))
	if err != nil {
		logger.Fatal("configuring the store", zap.Error(err))
	}
	ddl, err := store.SchemaSQL(postgres.SchemaOptions{})
	if err != nil {
		logger.Fatal("generating the schema", zap.Error(err))
	}
	if _, err := db.ExecContext(ctx, ddl); err != nil {
		logger.Fatal("applying the schema", zap.Error(err))
	}

	orderID := "order-" + uuid.NewString()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		logger.Fatal("beginning a transaction", zap.Error(err))
	}
	result, err := store.Append(ctx, tx, core.NoStream(), []core.Event{{
		AggregateType: "Order",
		AggregateID:   orderID,
		EventID:       uuid.New(),
		EventType:     "OrderPlaced",
		Payload:       []byte(`{"total":1999}`),
	}})
	if err != nil {
		_ = tx.Rollback()
		logger.Fatal("appending", zap.Error(err))
	}
	if err := tx.Commit(); err != nil {
		logger.Fatal("committing", zap.Error(err))
	}
	fmt.Println("the order is at version", result.ToVersion())

	tx, err = db.BeginTx(ctx, nil)
	if err != nil {
		logger.Fatal("beginning a transaction", zap.Error(err))
	}
	defer tx.Rollback()
	stream, err := store.ReadAggregateStream(ctx, tx, "Order", orderID, nil, nil)
	if err != nil {
		logger.Fatal("reading the order", zap.Error(err))
	}
	for _, e := range stream.Events {
		fmt.Println("stream:", e.AggregateVersion, e.EventType, string(e.Payload))
	}
	latest, err := store.GetLatestGlobalPosition(ctx, tx)
	if err != nil {
		logger.Fatal("reading the latest position", zap.Error(err))
	}
	events, err := store.ReadEvents(ctx, tx, max(latest-5, 0), 5)
	if err != nil {
		logger.Fatal("reading the global log", zap.Error(err))
	}
	for _, e := range events {
		fmt.Println("log:", e.GlobalPosition, e.AggregateType, e.EventType)
	}
}
