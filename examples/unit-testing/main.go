// Command unit-testing runs the orders domain (package orders, unit-tested
// on the in-memory store) in production on PostgreSQL over pgx: the same
// generic handlers, with pgx.Tx for TX. Five writers add a line to one
// order at once; the credit limit holds because every append expects the
// version its decision was made on. It connects to $DATABASE_URL.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap"
	"go.uber.org/zap/exp/zapslog"

	"github.com/chronicle-go/chronicle/adapters/postgres-pgx" // package postgres
	"github.com/chronicle-go/chronicle/examples/unit-testing/orders"
)

// poolTransactions is orders.Transactions over a pgx pool: all the
// production wiring the handlers need besides the store.
type poolTransactions struct{ pool *pgxpool.Pool }

func (p poolTransactions) Begin(ctx context.Context) (pgx.Tx, error) { return p.pool.Begin(ctx) }
func (poolTransactions) Commit(ctx context.Context, tx pgx.Tx) error { return tx.Commit(ctx) }
func (poolTransactions) Rollback(ctx context.Context, tx pgx.Tx) error {
	return tx.Rollback(ctx)
}

func main() {
	ctx := context.Background()
	// Raise the level to zap.DebugLevel to see each conflict and retry.
	logger := zap.Must(zap.NewDevelopment(zap.IncreaseLevel(zap.WarnLevel)))
	defer logger.Sync()
	// Chronicle logs to a *slog.Logger; zapslog hands its records to zap.
	log := slog.New(zapslog.NewHandler(logger.Core()))

	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		logger.Fatal("connecting", zap.Error(err))
	}
	defer pool.Close()
	store, err := postgres.NewStore(postgres.NewStoreConfig(postgres.WithLogger(log)))
	if err != nil {
		logger.Fatal("configuring the store", zap.Error(err))
	}
	ddl, err := store.SchemaSQL(postgres.SchemaOptions{})
	if err != nil {
		logger.Fatal("generating the schema", zap.Error(err))
	}
	if _, err := pool.Exec(ctx, ddl); err != nil {
		logger.Fatal("applying the schema", zap.Error(err))
	}
	txs := poolTransactions{pool}

	orderID := "order-" + uuid.NewString()
	if err := orders.Execute(ctx, txs, 3, log, func(ctx context.Context, tx pgx.Tx) error {
		return orders.PlaceOrder(ctx, store, tx, orders.PlaceOrderCommand{OrderID: orderID, Customer: "ada", CreditLimit: 1000})
	}); err != nil {
		logger.Fatal("placing the order", zap.Error(err))
	}
	fmt.Println("placed an order with a credit limit of 1000")

	const writers = 5
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			errs[i] = orders.Execute(ctx, txs, writers, log, func(ctx context.Context, tx pgx.Tx) error {
				return orders.AddLine(ctx, store, tx, orders.AddLineCommand{OrderID: orderID, SKU: "chair", Amount: 300})
			})
		})
	}
	wg.Wait()
	added, refused := 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			added++
		case errors.Is(err, orders.ErrCreditLimit):
			refused++
		default:
			logger.Fatal("adding a line", zap.Error(err))
		}
	}
	fmt.Printf("%d concurrent lines of 300: %d added, %d refused by the credit limit\n", writers, added, refused)

	tx, err := pool.Begin(ctx)
	if err != nil {
		logger.Fatal("beginning a transaction", zap.Error(err))
	}
	defer tx.Rollback(ctx)
	order, err := orders.Load(ctx, store, tx, orderID)
	if err != nil {
		logger.Fatal("loading the order", zap.Error(err))
	}
	fmt.Printf("the order: total %d in %d lines, at version %d\n", order.Total, order.Lines, order.Version)
}
