// Command bench measures Chronicle against the physical limit: every
// workload of BENCHMARKS.md on each adapter (pgx; database/sql with
// lib/pq) next to raw pgx references on an identical table, in one run on
// one server, reported as events/s (median of the runs, with min–max),
// latency percentiles and ratios to the references.
//
// It finds PostgreSQL as the integration tests do (see package pgtest),
// works in a database of its own and drops it afterwards. The server's
// settings are reported as found and never changed.
//
//	go run ./cmd/bench                  # the full run (make bench)
//	go run ./cmd/bench -quick           # a smoke run of a few seconds
//	go run ./cmd/bench -only 'W1|L1' -cpuprofile cpu.out
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	_ "github.com/chronicle-go/chronicle/integration/pgdocker" // Find may start a Docker container
	"github.com/chronicle-go/chronicle/internal/pgtest"
	"github.com/jackc/pgx/v5/pgxpool"
)

func main() {
	var (
		quick      = flag.Bool("quick", false, "a smoke run of a few seconds: every workload, tiny sizes, one run each")
		jsonFile   = flag.String("json", "", "also write the results to this file as JSON")
		runs       = flag.Int("runs", 0, "runs per workload (default 3; 1 with -quick)")
		duration   = flag.Duration("duration", 0, "length of each timed run (default 5s, in 5 interleaved slices; 300ms with -quick)")
		only       = flag.String("only", "", "run only the workloads or groups matching this regular expression, e.g. 'W1|L1'")
		adapters   = flag.String("adapters", "", "comma-separated adapters to measure: pgx, lib/pq (statements prepared), lib/pq-text (not prepared); default pgx,lib/pq")
		cpuProfile = flag.String("cpuprofile", "", "write a CPU profile of the measured workloads to this file")
		memProfile = flag.String("memprofile", "", "write an allocation profile to this file at the end")
		own        = flag.Bool("own-cluster", false, "start a durable throw-away cluster with initdb for this run alone, instead of finding a server (other sessions add their noise)")
	)
	flag.Parse()
	opts := fullOptions()
	if *quick {
		opts = quickOptions()
	}
	if *runs > 0 {
		opts.runs = *runs
	}
	if *duration > 0 {
		opts.duration = *duration
	}
	opts.only = *only
	opts.ownCluster = *own
	if *adapters != "" {
		opts.adapters = strings.Split(*adapters, ",")
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		fail(err)
	}
	rep, err := run(ctx, opts, os.Stderr)
	if perr := stopProfile(); err == nil {
		err = perr
	}
	if err != nil {
		fail(err)
	}
	rep.Quick = *quick
	if err := rep.print(os.Stdout); err != nil {
		fail(err)
	}
	if *jsonFile != "" {
		if err := rep.writeJSON(*jsonFile); err != nil {
			fail(err)
		}
	}
	if *memProfile != "" {
		if err := writeAllocProfile(*memProfile); err != nil {
			fail(err)
		}
	}
}

// startCPUProfile profiles into file until the returned function is
// called; with file "" both do nothing.
func startCPUProfile(file string) (stop func() error, err error) {
	if file == "" {
		return func() error { return nil }, nil
	}
	f, err := os.Create(file)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() error { pprof.StopCPUProfile(); return f.Close() }, nil
}

// writeAllocProfile writes every allocation since the start (go tool
// pprof -sample_index=alloc_space).
func writeAllocProfile(file string) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}

// run does the whole benchmark in a database of its own and returns the
// report; progress goes to log.
func run(ctx context.Context, opts options, log io.Writer) (rep *report, err error) {
	logf := func(format string, args ...any) { fmt.Fprintf(log, format+"\n", args...) }
	var server *pgtest.Server
	if opts.ownCluster {
		// With the server's durable defaults, and away from other sessions'
		// noise.
		if server, err = pgtest.StartCluster(ctx, pgtest.Durable()); err != nil {
			return nil, err
		}
		server.Source = "own cluster"
		logf("bench: started a cluster of its own")
	} else {
		if server, err = pgtest.Find(ctx, logf); err != nil {
			return nil, err
		}
	}
	defer func() {
		if cerr := server.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	name := "chronicle_bench_" + hex.EncodeToString(suffix)
	url, err := server.CreateDatabase(ctx, name)
	if err != nil {
		return nil, err
	}
	logf("bench: PostgreSQL from %s, database %s", server.Source, name)
	defer func() {
		dropCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if derr := server.DropDatabase(dropCtx, name); derr != nil && err == nil {
			err = derr
		}
	}()
	// A second database, for the sessions a workload needs elsewhere.
	other := name + "_other"
	otherURL, err := server.CreateDatabase(ctx, other)
	if err != nil {
		return nil, err
	}
	defer func() {
		dropCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if derr := server.DropDatabase(dropCtx, other); derr != nil && err == nil {
			err = derr
		}
	}()
	return runIn(ctx, url, otherURL, server.Source, opts, log)
}

// runIn runs the workloads against the empty database at url; otherURL is
// another database of the same server.
func runIn(ctx context.Context, url, otherURL, source string, opts options, log io.Writer) (*report, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = maxConns
	raw, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer raw.Close()
	env := &environment{opts: opts, raw: raw, otherURL: otherURL}
	rep := &report{Started: time.Now(), Server: source, Machine: thisMachine(), RunsPerLoad: opts.runs, Duration: opts.duration.String()}
	if rep.PostgreSQL, err = serverSettings(ctx, raw); err != nil {
		return nil, fmt.Errorf("error reading the server's settings: %w", err)
	}
	for _, s := range []string{storeSchema, rawSchema, logSchema, groupSchema} {
		if err := migrate(ctx, raw, s); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(log, "bench: seeding a log of %d events\n", opts.logEvents)
	if err := seedLog(ctx, raw, opts.logEvents, opts.streamEvents); err != nil {
		return nil, err
	}
	if err := seedBacklog(ctx, raw, opts.groupEvents, opts.groupAggregates); err != nil {
		return nil, err
	}
	groups := referenceGroups(env)
	for _, name := range opts.adapters {
		switch name {
		case adapterPgx:
			a, err := pgxAdapter(ctx, url)
			if err != nil {
				return nil, err
			}
			defer a.close()
			if err := addAdapter(env, groups, a); err != nil {
				return nil, err
			}
		case adapterPq, adapterPqText:
			a, err := pqAdapter(url, name, name == adapterPq)
			if err != nil {
				return nil, err
			}
			defer a.close()
			if err := addAdapter(env, groups, a); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("unknown adapter %q (want %s, %s or %s)", name, adapterPgx, adapterPq, adapterPqText)
		}
	}
	results, err := measure(ctx, groups, opts.runs, opts.slices, opts.only, log)
	if err != nil {
		return nil, err
	}
	rep.Results = results
	rep.link()
	if len(rep.Results) == 0 {
		return nil, errors.New("no workload matched -only")
	}
	return rep, nil
}
