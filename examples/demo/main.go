// Command demo runs the pgx quick start (examples/basic/pgx) end to end
// against a real PostgreSQL, from nothing: it finds or starts a server,
// makes a database of its own, generates the schema with migrate-gen,
// applies it, runs the example, and cleans up, printing each step.
//
// The server is, in order: $DATABASE_URL, used as it is (nothing is
// created or dropped there); a server on 127.0.0.1:5432 (user postgres, no
// password), where the demo creates a database and drops it afterwards; a
// throw-away cluster made with the local initdb and pg_ctl in a temporary
// directory on a free port, removed afterwards. With -initdb it goes
// straight to the throw-away cluster; -sql prints the whole migration. When there is no PostgreSQL at all it
// says how to get one.
//
// Run it with make demo, or go run ./examples/demo from the repository
// root; it needs the repository's go.work, since it runs the tool and the
// example with go run.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	initdb := flag.Bool("initdb", false, "always make a throw-away cluster with initdb, ignoring $DATABASE_URL and 127.0.0.1:5432")
	showSQL := flag.Bool("sql", false, "print the whole generated migration, not only its statements")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Stdout, *initdb, *showSQL); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
	fmt.Println()
	fmt.Println("The demo ran successfully.")
}

// run does the demo's steps in order; whatever it made is removed before
// it returns, also when a step fails.
func run(ctx context.Context, w io.Writer, initdb, showSQL bool) (err error) {
	root, err := workspaceRoot(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "Chronicle demo: examples/basic/pgx against a real PostgreSQL")
	fmt.Fprintln(w)

	fmt.Fprintln(w, "1. PostgreSQL")
	db, err := openDatabase(ctx, w, initdb)
	if err != nil {
		return err
	}
	defer func() {
		fmt.Fprintln(w)
		fmt.Fprintln(w, "5. Clean up")
		if cerr := db.close(w); err == nil {
			err = cerr
		}
	}()
	fmt.Fprintln(w)

	fmt.Fprintln(w, "2. Schema")
	if err := migrate(ctx, w, root, db.url, showSQL); err != nil {
		return err
	}
	fmt.Fprintln(w)

	fmt.Fprintln(w, "3. The quick start")
	if err := runExample(ctx, w, root, db.url); err != nil {
		return err
	}
	fmt.Fprintln(w)

	fmt.Fprintln(w, "4. Check")
	if err := check(ctx, w, db.url); err != nil {
		return err
	}
	return nil
}
