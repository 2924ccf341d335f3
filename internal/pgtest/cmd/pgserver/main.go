// Command pgserver is the Makefile's PostgreSQL helper, built on package
// pgtest:
//
//	pgserver wait [-timeout 60s] URL
//	    connect to URL until it answers (exit 0) or the timeout passes
//	    (exit 1, saying why);
//	pgserver initdb -- COMMAND [ARG…]
//	    start a throw-away cluster with the local initdb and pg_ctl
//	    (pgtest.StartCluster), run COMMAND with CHRONICLE_TEST_DATABASE_URL
//	    and DATABASE_URL pointing at it, then stop the cluster and remove its
//	    directory; the exit status is COMMAND's.
//
// make test-integration waits for its server with it, and make
// test-integration-local runs the integration tests on a cluster of its
// own with it when no Docker engine answers.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/chronicle-go/chronicle/internal/pgtest"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

const usage = "usage: pgserver wait [-timeout 60s] URL | pgserver initdb -- COMMAND [ARG…]"

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch args[0] {
	case "wait":
		fs := flag.NewFlagSet("pgserver wait", flag.ContinueOnError)
		fs.SetOutput(stderr)
		timeout := fs.Duration("timeout", 60*time.Second, "give up after this long")
		if err := fs.Parse(args[1:]); err != nil || fs.NArg() != 1 {
			fmt.Fprintln(stderr, usage)
			return 2
		}
		if err := wait(ctx, fs.Arg(0), *timeout); err != nil {
			fmt.Fprintln(stderr, "pgserver:", err)
			return 1
		}
		return 0
	case "initdb":
		rest := args[1:]
		if len(rest) > 0 && rest[0] == "--" {
			rest = rest[1:]
		}
		if len(rest) == 0 {
			fmt.Fprintln(stderr, usage)
			return 2
		}
		return withCluster(ctx, rest, stdout, stderr)
	}
	fmt.Fprintln(stderr, usage)
	return 2
}

// wait pings u until it answers or timeout passes.
func wait(ctx context.Context, u string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		err := pgtest.Ping(ctx, u)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no PostgreSQL answered within %s: %w", timeout, err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// withCluster runs command on a throw-away cluster and returns its exit
// status.
func withCluster(ctx context.Context, command []string, stdout, stderr io.Writer) int {
	bin, err := pgtest.BinDir()
	if err != nil {
		fmt.Fprintln(stderr, "pgserver:", err)
		return 1
	}
	startCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	server, err := pgtest.StartCluster(startCtx)
	cancel()
	if err != nil {
		fmt.Fprintln(stderr, "pgserver: error starting a throw-away cluster:", err)
		return 1
	}
	fmt.Fprintf(stderr, "pgserver: started a throw-away cluster with %s/initdb at %s\n", bin, server.URL)
	defer func() {
		if err := server.Close(); err != nil {
			fmt.Fprintln(stderr, "pgserver:", err)
			return
		}
		fmt.Fprintln(stderr, "pgserver: stopped the cluster and removed its directory")
	}()
	// Not CommandContext: on a signal the command, in the same process
	// group, gets it too and ends on its own; then the cluster is removed.
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, stderr
	cmd.Env = append(os.Environ(), pgtest.EnvDatabaseURL+"="+server.URL, "DATABASE_URL="+server.URL)
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		return exit.ExitCode()
	default:
		fmt.Fprintln(stderr, "pgserver:", err)
		return 1
	}
}
