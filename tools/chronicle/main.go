package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	postgres "github.com/chronicle-go/chronicle/adapters/postgres-pgx"
	"github.com/chronicle-go/chronicle/consumer"
	"github.com/chronicle-go/chronicle/core"
)

func main() {
	// SIGTERM too: serve and watch run until stopped, also by a service
	// manager or timeout(1).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage: chronicle [flags] COMMAND [ARGS]

commands:
  status                               every consumer: cursor, events behind, delivered, rate, ETA, what it waits for, held,
                                       owner (present or gone), last error; a partitioned consumer's partitions under its totals
  holders                              per consumer, the running transactions its cursor waits for, oldest first
  reset CONSUMER                       replay CONSUMER from the start of the log
  start-from-now CONSUMER              skip exactly the events visible now; handle every later one
  set-cursor CONSUMER CURSOR           move CONSUMER to a cursor as status prints it (never one after now)
  delete CONSUMER                      remove CONSUMER's checkpoint
  check-order                          exit 1 if the log's transaction order is ahead of the database's
  recover-order                        after a restore into another cluster: raise the order offset
  delete-stream TYPE ID                hard-delete one aggregate's events and snapshots (needs -confirm)
  serve [-addr 127.0.0.1:8080]         a read-only status page of the consumers, refreshing itself
        [-interval 2s] [-window 10m]   (-timeout bounds each status read instead of the command)
  watch [-interval 2s]                 progress per consumer (all, or CONSUMER) until interrupted: events done of total,
        [-until-caught-up] [CONSUMER]  rate over the last refresh, ETA; a live bar on a terminal, else a line when it
                                       changes (-json: an object per consumer per refresh); -until-caught-up exits 0
                                       once no watched consumer is behind (-timeout bounds each status read)

reset, start-from-now, set-cursor, delete and watch refuse a consumer without
a checkpoint (a typo would create a phantom consumer); -create lets the first
three create it. A partitioned consumer's name ("orders") stands for all its
partitions' checkpoints ("orders[0/4]" .. "orders[3/4]").

delete-stream cannot be undone: it removes every event and snapshot of the
aggregate TYPE/ID and leaves the stream closed and marked deleted (appends to
it fail from then on). It runs only with -confirm TYPE/ID, repeating the
stream's name, and needs a role with DELETE on the events table: the tables'
owner, not the application role.

flags:
`

// run is main without the process: it returns the exit status (0 ok, 1 the
// command failed, 2 bad usage). Nothing it prints holds the database URL's
// password: the flag's default is not shown, and every error passes
// through redact.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("chronicle", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	dbURL := fs.String("database-url", "", "PostgreSQL connection URL or key=value string (default: $DATABASE_URL)")
	schema := fs.String("schema", "", "schema of the tables (default: none, the search_path)")
	events := fs.String("events-table", "events", "events table name")
	heads := fs.String("aggregate-heads-table", "aggregate_heads", "aggregate heads table name")
	checkpoints := fs.String("checkpoints-table", "consumer_checkpoints", "consumer checkpoints table name")
	offset := fs.String("order-offset-table", "transaction_order_offset", "transaction order offset table name")
	timeout := fs.Duration("timeout", time.Minute, "give up after this long")
	jsonOut := fs.Bool("json", false, "print the result, and errors, as JSON")
	create := fs.Bool("create", false, "let reset, start-from-now and set-cursor create a consumer that has no checkpoint")
	confirm := fs.String("confirm", "", "delete-stream only: the stream to delete again, as TYPE/ID")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *dbURL == "" {
		*dbURL = os.Getenv("DATABASE_URL")
	}
	out := output{json: *jsonOut, stdout: stdout, stderr: stderr, secret: *dbURL}
	cmd, rest := fs.Arg(0), fs.Args()
	if len(rest) > 0 {
		rest = rest[1:]
	}
	want := map[string]int{"status": 0, "holders": 0, "reset": 1, "start-from-now": 1, "set-cursor": 2, "delete": 1, "check-order": 0, "recover-order": 0,
		"delete-stream": 2, "serve": 0, "watch": 0}
	n, known := want[cmd]
	var (
		serving  serveOptions
		watching watchOptions
	)
	if cmd == "serve" || cmd == "watch" {
		// Their own flags follow the command.
		var err error
		if cmd == "serve" {
			serving, err = parseServe(rest, stderr)
		} else {
			watching, err = parseWatch(rest, stderr)
		}
		if err != nil {
			switch {
			case errors.Is(err, flag.ErrHelp):
				return 0
			case errors.Is(err, errUsagePrinted):
				return 2
			}
			return out.fail(2, cmd, err)
		}
		rest = nil
	}
	switch {
	case cmd == "":
		return out.fail(2, "", errors.New("no command given; run chronicle -h for the list"))
	case !known:
		return out.fail(2, "", fmt.Errorf("unknown command %q; run chronicle -h for the list", cmd))
	case len(rest) != n:
		return out.fail(2, "", fmt.Errorf("%s takes %d argument(s), got %d", cmd, n, len(rest)))
	case *dbURL == "":
		return out.fail(2, "", errors.New("-database-url: no database given (flag or $DATABASE_URL)"))
	case cmd == "delete-stream" && *confirm != rest[0]+"/"+rest[1]:
		return out.fail(2, cmd, fmt.Errorf("deleting stream %s/%s cannot be undone: pass -confirm %s/%s to go ahead", rest[0], rest[1], rest[0], rest[1]))
	case cmd == "delete-stream":
		if err := core.ValidateAggregate(rest[0], rest[1]); err != nil {
			return out.fail(2, cmd, err)
		}
	}
	store, err := postgres.NewStore(postgres.NewStoreConfig(postgres.WithSchema(*schema), postgres.WithEventsTable(*events),
		postgres.WithAggregateHeadsTable(*heads), postgres.WithCheckpointsTable(*checkpoints), postgres.WithOrderOffsetTable(*offset)))
	if err != nil {
		return out.fail(2, "", err)
	}
	var at core.Cursor
	if cmd == "set-cursor" {
		if at, err = core.ParseCursor(rest[1]); err != nil {
			return out.fail(2, "", err)
		}
	}

	if cmd != "serve" && cmd != "watch" {
		// serve and watch run until interrupted; -timeout bounds each of
		// their reads.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	pool, err := pgxpool.New(ctx, *dbURL)
	if err != nil {
		return out.fail(2, "", fmt.Errorf("-database-url: %w", err))
	}
	defer pool.Close()
	cs, err := postgres.NewConsumerStore(pool, store)
	if err != nil {
		return out.fail(1, cmd, err)
	}
	if cmd == "delete-stream" {
		if err := out.deleteStream(ctx, pool, store, rest[0], rest[1]); err != nil {
			return out.fail(1, cmd, err)
		}
		return 0
	}
	ops := consumer.NewOperations[pgx.Tx](cs)
	if cmd == "reset" || cmd == "start-from-now" || cmd == "set-cursor" || cmd == "delete" {
		if err := checkKnown(ctx, ops, rest[0], *create && cmd != "delete", cmd != "delete"); err != nil {
			return out.fail(1, cmd, err)
		}
	}
	if cmd == "watch" {
		if watching.consumer != "" {
			read, cancel := context.WithTimeout(ctx, *timeout)
			err := checkKnown(read, ops, watching.consumer, false, false)
			cancel()
			if err != nil {
				return out.fail(1, cmd, err)
			}
		}
		w := newWatcher(out, ops, watching, *timeout)
		w.terminal(stdout)
		if err := w.run(ctx); err != nil {
			return out.fail(1, cmd, err)
		}
		return 0
	}
	if cmd == "serve" {
		page, err := out.statusPage(ops, serving, *timeout)
		if err != nil {
			return out.fail(2, cmd, err)
		}
		if err := out.serve(ctx, page, serving); err != nil {
			return out.fail(1, cmd, err)
		}
		return 0
	}
	if err := out.do(ctx, ops, cmd, rest, at); err != nil {
		return out.fail(1, cmd, err)
	}
	return 0
}

// checkKnown fails for a consumer without a checkpoint unless create is
// set: acting on a misspelt name would create a phantom consumer. A
// partitioned consumer's name ("orders") is known when one of its
// partitions' checkpoints ("orders[0/4]") exists, as is each partition's
// checkpoint name. canCreate adds the hint that -create would create it.
func checkKnown(ctx context.Context, ops *consumer.Operations[pgx.Tx], name string, create, canCreate bool) error {
	if create {
		return nil
	}
	st, err := ops.Status(ctx)
	if err != nil {
		return err
	}
	var names []string
	for _, s := range st {
		if s.ConsumerName == name || s.Consumer == name {
			return nil
		}
		if !slices.Contains(names, s.Consumer) {
			names = append(names, s.Consumer)
		}
	}
	known := "there are none"
	if len(names) > 0 {
		known = "known: " + strings.Join(names, ", ")
	}
	if !canCreate {
		return fmt.Errorf("consumer %q has no checkpoint (%s)", name, known)
	}
	return fmt.Errorf("consumer %q has no checkpoint (%s); pass -create to create it", name, known)
}

// output prints a command's result as text or JSON, and its errors with the
// database URL's password removed.
type output struct {
	json           bool
	stdout, stderr io.Writer
	// secret is the database URL, whose password must never be printed.
	secret string
}

// fail prints err (redacted) and returns code.
func (o output) fail(code int, cmd string, err error) int {
	msg := redact(err.Error(), o.secret)
	if o.json {
		_ = json.NewEncoder(o.stderr).Encode(struct {
			Command string `json:"command,omitempty"`
			Error   string `json:"error"`
		}{cmd, msg})
		return code
	}
	if cmd != "" {
		fmt.Fprintf(o.stderr, "chronicle: %s: %s\n", cmd, msg)
	} else {
		fmt.Fprintf(o.stderr, "chronicle: %s\n", msg)
	}
	return code
}

// emit prints v as JSON, or text as it is.
func (o output) emit(v any, text string) error {
	if o.json {
		enc := json.NewEncoder(o.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	_, err := io.WriteString(o.stdout, text)
	return err
}

// done is the JSON result of the commands that change a consumer.
type done struct {
	Consumer string `json:"consumer"`
	Action   string `json:"action"`
	Cursor   string `json:"cursor,omitempty"`
	Deleted  *bool  `json:"deleted,omitempty"`
}

// orderJSON is the JSON result of check-order and recover-order.
type orderJSON struct {
	StoredMax int64 `json:"stored_max"`
	Current   int64 `json:"current"`
	Offset    int64 `json:"offset"`
	Moved     bool  `json:"moved"`
}

func (o output) do(ctx context.Context, ops *consumer.Operations[pgx.Tx], cmd string, rest []string, at core.Cursor) error {
	switch cmd {
	case "status":
		st, err := ops.Status(ctx)
		if err != nil {
			return err
		}
		return o.emit(statusJSON(st), statusText(st))
	case "holders":
		st, err := ops.Status(ctx)
		if err != nil {
			return err
		}
		return o.emit(holdersJSON(st), holdersText(st))
	case "reset":
		if err := ops.Reset(ctx, rest[0]); err != nil {
			return err
		}
		return o.emit(done{Consumer: rest[0], Action: "reset"}, rest[0]+" will replay from the start of the log\n")
	case "start-from-now":
		if err := ops.StartFromNow(ctx, rest[0]); err != nil {
			return err
		}
		return o.emit(done{Consumer: rest[0], Action: "start-from-now"}, rest[0]+" will handle only events committed from now on\n")
	case "set-cursor":
		if err := ops.SetCursor(ctx, rest[0], at); err != nil {
			return err
		}
		return o.emit(done{Consumer: rest[0], Action: "set-cursor", Cursor: at.String()}, fmt.Sprintf("%s moved to %s\n", rest[0], at))
	case "delete":
		deleted, err := ops.Delete(ctx, rest[0])
		if err != nil {
			return err
		}
		text := rest[0] + " deleted\n"
		if !deleted {
			text = rest[0] + " has no checkpoint\n"
		}
		return o.emit(done{Consumer: rest[0], Action: "delete", Deleted: &deleted}, text)
	case "check-order", "recover-order":
		var st core.OrderStatus
		var err error
		if cmd == "check-order" {
			st, err = ops.CheckTransactionOrder(ctx)
		} else {
			st, err = ops.RecoverTransactionOrder(ctx)
		}
		if err != nil {
			return err
		}
		return o.emit(orderJSON{StoredMax: st.StoredMax, Current: st.Current, Offset: st.Offset, Moved: st.Moved()},
			fmt.Sprintf("ok: stored max %d, current %d, offset %d\n", st.StoredMax, st.Current, st.Offset))
	}
	return fmt.Errorf("unknown command %q", cmd)
}

// deletedJSON is the JSON result of delete-stream.
type deletedJSON struct {
	AggregateType string `json:"aggregate_type"`
	AggregateID   string `json:"aggregate_id"`
	Existed       bool   `json:"existed"`
	Version       int64  `json:"version"`
	Events        int64  `json:"events"`
	Snapshots     int64  `json:"snapshots"`
}

// deleteStream runs Store.DeleteStream in a transaction of its own and
// prints what it removed.
func (o output) deleteStream(ctx context.Context, pool *pgxpool.Pool, store *postgres.Store, typ, id string) error {
	var d core.DeletedStream
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var err error
		d, err = store.DeleteStream(ctx, tx, typ, id)
		return err
	})
	if err != nil {
		return err
	}
	text := fmt.Sprintf("%s/%s: deleted %d events and %d snapshots; the stream stays closed at version %d\n", typ, id, d.Events, d.Snapshots, d.Version)
	if !d.Existed {
		text = fmt.Sprintf("%s/%s has no events: nothing deleted\n", typ, id)
	}
	return o.emit(deletedJSON{AggregateType: typ, AggregateID: id, Existed: d.Existed, Version: d.Version, Events: d.Events, Snapshots: d.Snapshots}, text)
}

// writerJSON is a running writer a consumer waits for.
type writerJSON struct {
	Consumer      string     `json:"consumer,omitempty"`
	PID           int        `json:"pid"`
	TransactionID int64      `json:"transaction_id"`
	Started       *time.Time `json:"started,omitempty"`
	State         string     `json:"state"`
	Query         string     `json:"query"`
	Application   string     `json:"application"`
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func writerOf(consumer string, w core.Writer) writerJSON {
	return writerJSON{Consumer: consumer, PID: w.PID, TransactionID: w.TransactionID, Started: timeOrNil(w.Started),
		State: w.State, Query: w.Query, Application: w.Application}
}

func holdersJSON(st []consumer.Status) []writerJSON {
	out := []writerJSON{}
	for _, s := range st {
		for _, w := range s.WaitingFor {
			out = append(out, writerOf(s.ConsumerName, w))
		}
	}
	return out
}

func holdersText(st []consumer.Status) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CONSUMER\tPID\tXID\tAGE\tSTATE\tAPPLICATION\tQUERY")
	waiting := slices.ContainsFunc(st, func(s consumer.Status) bool { return len(s.WaitingFor) > 0 })
	if !waiting {
		return "no consumer waits for a running transaction\n"
	}
	for _, s := range st {
		for _, h := range s.WaitingFor {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\n", s.ConsumerName, h.PID, h.TransactionID, age(h.Started), orDash(h.State),
				orDash(h.Application), firstLine(h.Query))
		}
	}
	_ = tw.Flush()
	return b.String()
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
