package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/chronicle-go/chronicle/internal/pgtest"
)

// database is where the demo runs, and what to undo when it is done.
type database struct {
	url    string
	server *pgtest.Server // nil for $DATABASE_URL, which is left alone
	name   string         // the database the demo created, if any
}

// openDatabase picks the server (see the package doc) and, unless the user
// gave $DATABASE_URL, creates a database of the demo's own on it so that
// the server's other databases stay untouched.
func openDatabase(ctx context.Context, w io.Writer, initdb bool) (*database, error) {
	u := os.Getenv("DATABASE_URL")
	if u != "" && initdb {
		fmt.Fprintln(w, "   ignoring $DATABASE_URL: -initdb asks for a throw-away cluster")
	}
	if u != "" && !initdb {
		if err := pgtest.Ping(ctx, u); err != nil {
			return nil, fmt.Errorf("error connecting to $DATABASE_URL: %w", err)
		}
		fmt.Fprintln(w, "   using $DATABASE_URL as it is: the schema is created there if missing, and the demo's order stays")
		return &database{url: u}, nil
	}
	server, err := findServer(ctx, w, initdb)
	if err != nil {
		return nil, err
	}
	name := "chronicle_demo_" + randomSuffix()
	u, err = server.CreateDatabase(ctx, name)
	if err != nil {
		_ = server.Close()
		return nil, err
	}
	fmt.Fprintf(w, "   created database %s (dropped at the end)\n", name)
	return &database{url: u, server: server, name: name}, nil
}

// findServer returns the server on 127.0.0.1:5432, or else a throw-away
// cluster.
func findServer(ctx context.Context, w io.Writer, initdb bool) (*pgtest.Server, error) {
	var tried []string
	if !initdb {
		err := pgtest.Ping(ctx, pgtest.LocalURL)
		if err == nil {
			fmt.Fprintln(w, "   found a server on 127.0.0.1:5432")
			return &pgtest.Server{URL: pgtest.LocalURL, Source: "local"}, nil
		}
		fmt.Fprintf(w, "   no usable server on 127.0.0.1:5432 (%v)\n", err)
		tried = append(tried, "$DATABASE_URL is not set", "nothing usable answers on 127.0.0.1:5432")
	}
	bin, err := pgtest.BinDir()
	if err != nil {
		return nil, noPostgreSQL(append(tried, err.Error()))
	}
	fmt.Fprintf(w, "   making a throw-away cluster with %s/initdb in a temporary directory\n", bin)
	server, err := pgtest.StartCluster(ctx)
	if err != nil {
		return nil, fmt.Errorf("error starting a throw-away cluster: %w", err)
	}
	fmt.Fprintf(w, "   started it at %s (stopped and removed at the end)\n", server.URL)
	return server, nil
}

// noPostgreSQL tells a user with no PostgreSQL exactly how to get one;
// tried lists what the demo tried, and why each failed.
func noPostgreSQL(tried []string) error {
	return fmt.Errorf(`no PostgreSQL: %s.
Any one of these will do:
  Debian/Ubuntu:  sudo apt-get install postgresql
                  (the demo uses its initdb and pg_ctl; no service needs to run)
  Fedora/RHEL:    sudo dnf install postgresql-server
  macOS:          brew install postgresql@15 && export PATH="$(brew --prefix postgresql@15)/bin:$PATH"
  any server:     DATABASE_URL='postgres://user:password@host:5432/dbname?sslmode=disable' make demo
then run make demo again`, strings.Join(tried, "; "))
}

// close drops the demo's database and stops a cluster it started.
func (d *database) close(w io.Writer) error {
	if d.server == nil {
		fmt.Fprintln(w, "   nothing to remove: $DATABASE_URL is left as it is")
		return nil
	}
	// A fresh context: an interrupt has cancelled the demo's.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := d.server.DropDatabase(ctx, d.name)
	if err == nil {
		fmt.Fprintf(w, "   dropped database %s\n", d.name)
	}
	if d.server.Source == "initdb" {
		if cerr := d.server.Close(); cerr != nil {
			return errors.Join(err, cerr)
		}
		fmt.Fprintln(w, "   stopped the throw-away cluster and removed its directory")
	}
	return err
}

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
