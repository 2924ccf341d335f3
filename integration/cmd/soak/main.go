// Command soak runs Chronicle under mixed load for a while, with
// connections killed at random, and then checks every invariant of the
// store and the consumer runtime: contiguous versions, unique positions,
// every committed event stored and projected exactly once in order, and no
// goroutine or connection left behind.
//
// It finds PostgreSQL as the integration tests do (see package pgtest),
// works in a database of its own and drops it afterwards.
//
//	go run ./cmd/soak -duration 10m   # make soak DURATION=10m
//
// The exit status is 1 when an invariant fails.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	_ "github.com/chronicle-go/chronicle/integration/pgdocker" // Find may start a Docker container
	"github.com/chronicle-go/chronicle/internal/pgtest"
)

func main() {
	var cfg config
	flag.DurationVar(&cfg.duration, "duration", time.Minute, "how long the load runs")
	flag.DurationVar(&cfg.killEvery, "kill-every", 2*time.Second, "the interval between two terminated connections")
	flag.IntVar(&cfg.writers, "writers", 6, "concurrent writers (one in three uses database/sql with lib/pq)")
	flag.IntVar(&cfg.readers, "readers", 2, "concurrent readers")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

// config is what the flags set.
type config struct {
	duration, killEvery time.Duration
	writers, readers    int
}

func run(ctx context.Context, cfg config) error {
	logf := func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	findCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	server, err := pgtest.Find(findCtx, logf)
	if err != nil {
		return err
	}
	defer func() {
		if err := server.Close(); err != nil {
			logf("soak: %v", err)
		}
	}()
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	name := "chronicle_soak_" + hex.EncodeToString(suffix)
	url, err := server.CreateDatabase(findCtx, name)
	if err != nil {
		return err
	}
	defer func() {
		dropCtx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := server.DropDatabase(dropCtx, name); err != nil {
			logf("soak: %v", err)
		}
	}()
	logf("soak: PostgreSQL from %s, database %s, %s of load, a connection killed every %s", server.Source, name, cfg.duration, cfg.killEvery)
	s, err := newSoak(ctx, url, cfg)
	if err != nil {
		return err
	}
	report, err := s.run(ctx)
	fmt.Println(report)
	return err
}
