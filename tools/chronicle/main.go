package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	postgres "github.com/chronicle-go/chronicle/adapters/postgres-pgx"
	"github.com/chronicle-go/chronicle/consumer"
	"github.com/chronicle-go/chronicle/core"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: chronicle [flags] COMMAND [ARGS]

commands:
  status                               every consumer: cursor, events behind, what it waits for, held, last error
  holders                              per consumer, the running transactions its cursor waits for, oldest first
  reset CONSUMER                       replay CONSUMER from the start of the log
  start-from-now CONSUMER              skip exactly the events visible now; handle every later one
  set-cursor CONSUMER CURSOR           move CONSUMER to a cursor as status prints it (never one after now)
  delete CONSUMER                      remove CONSUMER's checkpoint
  check-order                          exit 1 if the log's transaction order is ahead of the database's
  recover-order                        after a restore into another cluster: raise the order offset

flags:
`

// run is main without the process: it returns the exit status (0 ok, 1 the
// command failed, 2 bad usage).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("chronicle", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	dbURL := fs.String("database-url", os.Getenv("DATABASE_URL"), "PostgreSQL connection URL (default $DATABASE_URL)")
	schema := fs.String("schema", "", "schema of the tables (default: none, the search_path)")
	events := fs.String("events-table", "events", "events table name")
	heads := fs.String("aggregate-heads-table", "aggregate_heads", "aggregate heads table name")
	checkpoints := fs.String("checkpoints-table", "consumer_checkpoints", "consumer checkpoints table name")
	offset := fs.String("order-offset-table", "transaction_order_offset", "transaction order offset table name")
	timeout := fs.Duration("timeout", time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	cmd, rest := fs.Arg(0), fs.Args()
	if len(rest) > 0 {
		rest = rest[1:]
	}
	want := map[string]int{"status": 0, "holders": 0, "reset": 1, "start-from-now": 1, "set-cursor": 2, "delete": 1, "check-order": 0, "recover-order": 0}
	n, known := want[cmd]
	switch {
	case cmd == "":
		fmt.Fprintln(stderr, "chronicle: no command given; run chronicle -h for the list")
		return 2
	case !known:
		fmt.Fprintf(stderr, "chronicle: unknown command %q; run chronicle -h for the list\n", cmd)
		return 2
	case len(rest) != n:
		fmt.Fprintf(stderr, "chronicle: %s takes %d argument(s), got %d\n", cmd, n, len(rest))
		return 2
	case *dbURL == "":
		fmt.Fprintln(stderr, "chronicle: -database-url: no database given (flag or $DATABASE_URL)")
		return 2
	}
	store, err := postgres.NewStore(postgres.NewStoreConfig(postgres.WithSchema(*schema), postgres.WithEventsTable(*events),
		postgres.WithAggregateHeadsTable(*heads), postgres.WithCheckpointsTable(*checkpoints), postgres.WithOrderOffsetTable(*offset)))
	if err != nil {
		fmt.Fprintf(stderr, "chronicle: %v\n", err)
		return 2
	}
	var at core.Cursor
	if cmd == "set-cursor" {
		if at, err = core.ParseCursor(rest[1]); err != nil {
			fmt.Fprintf(stderr, "chronicle: %v\n", err)
			return 2
		}
	}

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	pool, err := pgxpool.New(ctx, *dbURL)
	if err != nil {
		fmt.Fprintf(stderr, "chronicle: -database-url: %v\n", err)
		return 2
	}
	defer pool.Close()
	cs, err := postgres.NewConsumerStore(pool, store)
	if err != nil {
		fmt.Fprintf(stderr, "chronicle: %v\n", err)
		return 1
	}
	ops := consumer.NewOperations[pgx.Tx](cs)

	switch cmd {
	case "status":
		err = printStatus(ctx, ops, stdout)
	case "holders":
		err = printHolders(ctx, ops, stdout)
	case "reset":
		if err = ops.Reset(ctx, rest[0]); err == nil {
			fmt.Fprintf(stdout, "%s will replay from the start of the log\n", rest[0])
		}
	case "start-from-now":
		if err = ops.StartFromNow(ctx, rest[0]); err == nil {
			fmt.Fprintf(stdout, "%s will handle only events committed from now on\n", rest[0])
		}
	case "set-cursor":
		if err = ops.SetCursor(ctx, rest[0], at); err == nil {
			fmt.Fprintf(stdout, "%s moved to %s\n", rest[0], at)
		}
	case "delete":
		var deleted bool
		if deleted, err = ops.Delete(ctx, rest[0]); err == nil {
			if deleted {
				fmt.Fprintf(stdout, "%s deleted\n", rest[0])
			} else {
				fmt.Fprintf(stdout, "%s has no checkpoint\n", rest[0])
			}
		}
	case "check-order":
		var st core.OrderStatus
		st, err = ops.CheckTransactionOrder(ctx)
		if err == nil {
			fmt.Fprintf(stdout, "ok: stored max %d, current %d, offset %d\n", st.StoredMax, st.Current, st.Offset)
		}
	case "recover-order":
		var st core.OrderStatus
		if st, err = ops.RecoverTransactionOrder(ctx); err == nil {
			fmt.Fprintf(stdout, "ok: stored max %d, current %d, offset %d\n", st.StoredMax, st.Current, st.Offset)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "chronicle: %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

func printStatus(ctx context.Context, ops *consumer.Operations[pgx.Tx], w io.Writer) error {
	st, err := ops.Status(ctx)
	if err != nil {
		return err
	}
	if len(st) == 0 {
		fmt.Fprintln(w, "no consumers yet")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CONSUMER\tCURSOR\tBEHIND\tWAITING FOR\tSTATE\tOWNER\tUPDATED\tLAST ERROR")
	for _, s := range st {
		state := "idle"
		switch {
		case s.Stopped:
			state = "stopped " + s.StoppedAt.UTC().Format(time.RFC3339)
		case s.Held:
			state = "in batch"
		case s.FailedAttempts > 0:
			state = fmt.Sprintf("retrying (%d failed)", s.FailedAttempts)
		}
		lastErr := "-"
		if s.LastError != "" {
			lastErr = fmt.Sprintf("%s at position %d: %s", s.LastErrorAt.UTC().Format(time.RFC3339), s.LastErrorPosition, firstLine(s.LastError))
		}
		behind := fmt.Sprint(s.Behind)
		if s.BehindEstimated {
			behind = "~" + behind
		}
		waiting := "-"
		if len(s.WaitingFor) > 0 {
			w := s.WaitingFor[0]
			waiting = fmt.Sprintf("pid %d (%s, %s)", w.PID, orDash(w.State), age(w.Started))
			if n := len(s.WaitingFor); n > 1 {
				waiting += fmt.Sprintf(" +%d", n-1)
			}
		}
		updated := "-"
		if !s.UpdatedAt.IsZero() {
			updated = s.UpdatedAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.ConsumerName, s.Cursor, behind, waiting, state, orDash(s.Owner),
			updated, lastErr)
	}
	return tw.Flush()
}

func printHolders(ctx context.Context, ops *consumer.Operations[pgx.Tx], w io.Writer) error {
	st, err := ops.Status(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CONSUMER\tPID\tXID\tAGE\tSTATE\tAPPLICATION\tQUERY")
	any := false
	for _, s := range st {
		for _, h := range s.WaitingFor {
			any = true
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\n", s.ConsumerName, h.PID, h.TransactionID, age(h.Started), orDash(h.State),
				orDash(h.Application), firstLine(h.Query))
		}
	}
	if !any {
		fmt.Fprintln(w, "no consumer waits for a running transaction")
		return nil
	}
	return tw.Flush()
}

// age is how long ago t was, "-" when unknown.
func age(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return time.Since(t).Round(time.Millisecond).String()
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if r := []rune(s); len(r) > 120 {
		s = string(r[:117]) + "..."
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
