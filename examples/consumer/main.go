// Command consumer keeps a read model (order totals) up to date with the
// consumer runtime on PostgreSQL: the projection's rows and its checkpoint
// commit together, LISTEN/NOTIFY wakes it when events commit, and a replay
// rebuilds it from the log. Then it rebuilds the projection as a new
// version split into partitions, run by two processors that stand for two
// processes sharing the work, and switches reads to it. It connects to
// $DATABASE_URL.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap"
	"go.uber.org/zap/exp/zapslog"

	"github.com/chronicle-go/chronicle/adapters/postgres-pgx" // package postgres
	"github.com/chronicle-go/chronicle/consumer"
	"github.com/chronicle-go/chronicle/core"
)

// orderTotals projects OrderLineAdded events into the order_totals table.
// It is a ScopedConsumer: the processor gives it Order events only.
type orderTotals struct{}

func (orderTotals) Name() string             { return "order-totals" }
func (orderTotals) AggregateTypes() []string { return []string{"Order"} }

// Handle writes through tx, the processor's transaction, so the row and the
// consumer's checkpoint commit together: each event counts exactly once.
func (orderTotals) Handle(ctx context.Context, tx pgx.Tx, e core.PersistedEvent) error {
	return projectLine(ctx, tx, "order_totals", e)
}

// orderTotalsV2 is the next version of order-totals: the same totals in a
// table of its own, its events split by order into 4 partitions that
// processes running it share (a consumer group). It has a name of its own
// because a consumer's partitions cannot change in place; it is rebuilt
// from the start of the log beside the live version.
type orderTotalsV2 struct{}

func (orderTotalsV2) Name() string             { return "order-totals.v2" }
func (orderTotalsV2) AggregateTypes() []string { return []string{"Order"} }
func (orderTotalsV2) Partitions() int          { return 4 }

// Handle is order-totals' Handle into order_totals_v2. An order's events
// all fall in one partition, so they still arrive in version order.
func (orderTotalsV2) Handle(ctx context.Context, tx pgx.Tx, e core.PersistedEvent) error {
	return projectLine(ctx, tx, "order_totals_v2", e)
}

// projectLine adds an OrderLineAdded event to its order's row in table.
func projectLine(ctx context.Context, tx pgx.Tx, table string, e core.PersistedEvent) error {
	if e.EventType != "OrderLineAdded" {
		return nil
	}
	var line struct{ Amount int64 }
	if err := json.Unmarshal(e.Payload, &line); err != nil {
		return fmt.Errorf("decoding %s: %w", e.EventID, err)
	}
	t := pgx.Identifier{table}.Sanitize()
	_, err := tx.Exec(ctx, `INSERT INTO `+t+` (order_id, total, lines) VALUES ($1, $2, 1)
		ON CONFLICT (order_id) DO UPDATE SET total = `+t+`.total + $2, lines = `+t+`.lines + 1`,
		e.AggregateID, line.Amount)
	return err
}

func main() {
	ctx := context.Background()
	logger, _ := zap.NewDevelopment(zap.IncreaseLevel(zap.WarnLevel))
	defer logger.Sync()
	// Chronicle logs to a *slog.Logger; zapslog hands its records to zap.
	log := slog.New(zapslog.NewHandler(logger.Core()))

	pool, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
	if err != nil {
		logger.Fatal("connecting", zap.Error(err))
	}
	defer pool.Close()
	store, err := postgres.NewStore(postgres.NewStoreConfig(
		postgres.WithNotifyChannel("chronicle_events"),
		postgres.WithLogger(log),
	))
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
	if _, err := pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS order_totals (
		order_id text PRIMARY KEY, total bigint NOT NULL, lines int NOT NULL)`); err != nil {
		logger.Fatal("creating the read model", zap.Error(err))
	}

	consumers, err := postgres.NewConsumerStore(pool, store)
	if err != nil {
		logger.Fatal("configuring the consumer store", zap.Error(err))
	}
	processor, err := consumer.NewProcessor[pgx.Tx](consumers, []consumer.Consumer[pgx.Tx]{orderTotals{}},
		consumer.Config{Logger: log})
	if err != nil {
		logger.Fatal("configuring the processor", zap.Error(err))
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- processor.Run(runCtx) }()

	// Write some orders while the processor runs; each commit notifies it.
	order := "order-" + uuid.NewString()[:8]
	for _, amount := range []int64{1999, 500, 250} {
		if err := addLine(ctx, pool, store, order, amount); err != nil {
			logger.Fatal("appending", zap.Error(err))
		}
	}
	if err := waitCaughtUp(ctx, processor, "order-totals"); err != nil {
		logger.Fatal("waiting for the projection", zap.Error(err))
	}
	if err := printTotal(ctx, pool, "order_totals", order); err != nil {
		logger.Fatal("reading the projection", zap.Error(err))
	}

	ops := consumer.NewOperations[pgx.Tx](consumers)
	status, err := processor.Status(ctx)
	if err != nil {
		logger.Fatal("reading the status", zap.Error(err))
	}
	for _, s := range status {
		fmt.Printf("consumer %s: %d events behind, stopped: %t, last error: %q\n", s.ConsumerName, s.Behind, s.Stopped, s.LastError)
	}

	// Replay while the processor runs: rewind the consumer and clear its
	// read model in one transaction. ResetTx takes the consumer's checkpoint
	// first, waiting for a batch in flight, and only then calls the clear,
	// so no batch's rows escape it. The totals come back the same.
	tx, err := pool.Begin(ctx)
	if err != nil {
		logger.Fatal("beginning the replay", zap.Error(err))
	}
	defer tx.Rollback(ctx)
	if err := ops.ResetTx(ctx, tx, "order-totals", func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "DELETE FROM order_totals")
		return err
	}); err != nil {
		logger.Fatal("rewinding the consumer and clearing its read model", zap.Error(err))
	}
	if err := tx.Commit(ctx); err != nil {
		logger.Fatal("committing the replay", zap.Error(err))
	}
	if err := waitCaughtUp(ctx, processor, "order-totals"); err != nil {
		logger.Fatal("waiting for the replay", zap.Error(err))
	}
	fmt.Print("after replay: ")
	if err := printTotal(ctx, pool, "order_totals", order); err != nil {
		logger.Fatal("reading the projection", zap.Error(err))
	}

	// Partitions cannot be added to order-totals in place: its checkpoint
	// has none, and Run refuses the new count before it handles anything.
	grouped := consumer.Partitioned[pgx.Tx](orderTotals{}, 4)
	inPlace, err := consumer.NewProcessor[pgx.Tx](consumers, []consumer.Consumer[pgx.Tx]{grouped}, consumer.Config{Logger: log})
	if err != nil {
		logger.Fatal("configuring the processor", zap.Error(err))
	}
	refusedCtx, cancel := context.WithTimeout(ctx, time.Minute)
	err = inPlace.Run(refusedCtx)
	cancel()
	if !errors.Is(err, consumer.ErrPartitionsChanged) {
		logger.Fatal("order-totals with 4 partitions ran in place", zap.Error(err))
	}
	fmt.Println("order-totals with 4 partitions:", consumer.ErrPartitionsChanged)

	// So the partitioned projection is a new version, order-totals.v2, that
	// starts from the start of the log with an empty table while
	// order-totals goes on serving reads. (This program starts it over each
	// time it runs: it deletes what an earlier run left.)
	if _, err := ops.Delete(ctx, "order-totals.v2"); err != nil {
		logger.Fatal("deleting an earlier run's order-totals.v2", zap.Error(err))
	}
	if _, err := pool.Exec(ctx, `DROP TABLE IF EXISTS order_totals_v2;
		CREATE TABLE order_totals_v2 (order_id text PRIMARY KEY, total bigint NOT NULL, lines int NOT NULL)`); err != nil {
		logger.Fatal("creating the new read model", zap.Error(err))
	}
	// An order in each partition: core.PartitionOf is where the stores put
	// an aggregate's events.
	var perPartition [4]string
	for found := 0; found < len(perPartition); {
		id := "order-" + uuid.NewString()[:8]
		if i := core.PartitionOf("Order", id, 4); perPartition[i] == "" {
			perPartition[i], found = id, found+1
		}
	}
	for _, id := range perPartition {
		if err := addLine(ctx, pool, store, id, 1000); err != nil {
			logger.Fatal("appending", zap.Error(err))
		}
	}
	fmt.Println("added an order of 1000 in each of the 4 partitions")

	// Two processors with owners of their own, each over its own pool,
	// stand for two processes running this program. Owner must differ
	// between processes: balancing counts the owners.
	var group [2]*consumer.Processor[pgx.Tx]
	for i, owner := range []string{"process-a", "process-b"} {
		own, err := pgxpool.New(ctx, os.Getenv("DATABASE_URL"))
		if err != nil {
			logger.Fatal("connecting", zap.Error(err))
		}
		defer own.Close()
		cs, err := postgres.NewConsumerStore(own, store)
		if err != nil {
			logger.Fatal("configuring the consumer store", zap.Error(err))
		}
		group[i], err = consumer.NewProcessor[pgx.Tx](cs, []consumer.Consumer[pgx.Tx]{orderTotalsV2{}},
			consumer.Config{Logger: log, Owner: owner})
		if err != nil {
			logger.Fatal("configuring the processor", zap.Error(err))
		}
	}
	if err := printProgress(ctx, group[0], "order-totals.v2", "rebuilding from the start of the log"); err != nil {
		logger.Fatal("reading the status", zap.Error(err))
	}
	stopA, stopB := start(ctx, group[0]), start(ctx, group[1])
	// WaitCaughtUp returns once every partition, whichever process runs
	// it, has delivered every event committed before the call.
	if err := waitCaughtUp(ctx, group[0], "order-totals.v2"); err != nil {
		logger.Fatal("waiting for the rebuild", zap.Error(err))
	}
	if err := printProgress(ctx, group[0], "order-totals.v2", "caught up"); err != nil {
		logger.Fatal("reading the status", zap.Error(err))
	}
	// Which process runs which partition depends on who looked first;
	// each process balancing every PollInterval evens the shares out.
	shares, err := waitForShares(ctx, ops, "order-totals.v2", 2)
	if err != nil {
		logger.Fatal("waiting for the partitions to be shared", zap.Error(err))
	}
	fmt.Println("partitions of order-totals.v2:", shares)

	// The new read model is complete: it agrees with the live one on every
	// order (the live one caught up with the new orders too).
	if err := waitCaughtUp(ctx, processor, "order-totals"); err != nil {
		logger.Fatal("waiting for the projection", zap.Error(err))
	}
	var differ int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM order_totals o FULL JOIN order_totals_v2 n USING (order_id)
		WHERE (o.total, o.lines) IS DISTINCT FROM (n.total, n.lines)`).Scan(&differ); err != nil {
		logger.Fatal("comparing the read models", zap.Error(err))
	}
	fmt.Printf("order-totals.v2 and order-totals differ on %d orders\n", differ)
	var total, lines int64
	if err := pool.QueryRow(ctx, "SELECT sum(total), sum(lines) FROM order_totals_v2 WHERE order_id = ANY($1)",
		perPartition[:]).Scan(&total, &lines); err != nil {
		logger.Fatal("reading the new projection", zap.Error(err))
	}
	fmt.Printf("order-totals.v2 holds the order of each partition: %d in %d lines\n", total, lines)
	fmt.Println("reads switch to order-totals.v2")
	fmt.Print("order-totals.v2: ")
	if err := printTotal(ctx, pool, "order_totals_v2", order); err != nil {
		logger.Fatal("reading the new projection", zap.Error(err))
	}

	// The old version retires: stop it, then delete its checkpoint (and
	// here its table; this program creates both again when it reruns).
	stop()
	if err := <-done; err != nil {
		logger.Fatal("running the processor", zap.Error(err))
	}
	deleted, err := ops.Delete(ctx, "order-totals")
	if err != nil {
		logger.Fatal("deleting the old checkpoint", zap.Error(err))
	}
	if _, err := pool.Exec(ctx, "DROP TABLE order_totals"); err != nil {
		logger.Fatal("dropping the old read model", zap.Error(err))
	}
	fmt.Printf("deleted the checkpoint of order-totals: %t\n", deleted)

	// A process that stops, or dies, ends its presence; the others take
	// its partitions over at their next balancing.
	if err := stopB(); err != nil {
		logger.Fatal("running process-b", zap.Error(err))
	}
	if shares, err = waitForShares(ctx, ops, "order-totals.v2", 1); err != nil {
		logger.Fatal("waiting for the takeover", zap.Error(err))
	}
	fmt.Println("process-b stopped; partitions of order-totals.v2:", shares)
	if err := stopA(); err != nil {
		logger.Fatal("running process-a", zap.Error(err))
	}
}

// addLine appends an OrderLineAdded event in a transaction of its own.
func addLine(ctx context.Context, pool *pgxpool.Pool, store *postgres.Store, order string, amount int64) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	payload, _ := json.Marshal(map[string]int64{"amount": amount})
	if _, err := store.Append(ctx, tx, core.Any(), []core.Event{{
		AggregateType: "Order", AggregateID: order, EventID: uuid.New(), EventType: "OrderLineAdded", Payload: payload,
	}}); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// start runs p on a goroutine of its own until stop is called; stop
// returns Run's error.
func start(ctx context.Context, p *consumer.Processor[pgx.Tx]) (stop func() error) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	return func() error {
		cancel()
		return <-done
	}
}

// waitCaughtUp waits, a minute at most, until the processor's consumer has
// delivered every event committed before the call.
func waitCaughtUp(ctx context.Context, p *consumer.Processor[pgx.Tx], name string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return p.WaitCaughtUp(ctx, name)
}

// printProgress prints the events a consumer has delivered since its
// cursor was set and the events it is behind, summed over its partitions.
// It reads the processor's Status, which counts Behind within the
// consumer's aggregate types (Operations.Status counts every type) and
// lists partitions that have no checkpoint yet.
func printProgress(ctx context.Context, p *consumer.Processor[pgx.Tx], name, what string) error {
	status, err := p.Status(ctx)
	if err != nil {
		return err
	}
	var delivered, behind int64
	for _, s := range status {
		if s.Consumer == name {
			delivered, behind = delivered+s.Delivered, behind+s.Behind
		}
	}
	fmt.Printf("%s: %s: %d events delivered, %d behind\n", name, what, delivered, behind)
	return nil
}

// waitForShares waits, a minute at most, until the partitions of consumer
// are all run by members present owners whose shares differ by one at
// most, and describes the shares sorted by owner: "process-a runs 2, process-b
// runs 2". Balancing has no signal to wait for (each process looks every
// PollInterval), so it reads Operations.Status every 100ms.
func waitForShares(ctx context.Context, ops *consumer.Operations[pgx.Tx], name string, members int) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		status, err := ops.Status(ctx)
		if err != nil {
			return "", err
		}
		shares, partitions := map[string]int{}, 0
		for _, s := range status {
			if s.Consumer != name {
				continue
			}
			partitions = s.Partition.Count
			if s.OwnerPresent {
				shares[s.Owner]++
			} else {
				shares[""]++ // free: no owner, or one that is gone
			}
		}
		counts := slices.Collect(maps.Values(shares))
		if len(shares) == members && shares[""] == 0 && partitions > 0 && sum(counts) == partitions &&
			slices.Max(counts)-slices.Min(counts) <= 1 {
			var parts []string
			for _, o := range slices.Sorted(maps.Keys(shares)) {
				parts = append(parts, fmt.Sprintf("%s runs %d", o, shares[o]))
			}
			return strings.Join(parts, ", "), nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("the partitions of %s were not shared by %d processes within a minute: %v", name, members, shares)
		case <-tick.C:
		}
	}
}

func sum(ns []int) (total int) {
	for _, n := range ns {
		total += n
	}
	return total
}

// printTotal prints an order's row in table.
func printTotal(ctx context.Context, pool *pgxpool.Pool, table, order string) error {
	var total int64
	var lines int
	if err := pool.QueryRow(ctx, "SELECT total, lines FROM "+pgx.Identifier{table}.Sanitize()+" WHERE order_id = $1", order).Scan(&total, &lines); err != nil {
		return err
	}
	fmt.Printf("order total: %d in %d lines\n", total, lines)
	return nil
}
