package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
)

// workspaceRoot returns the folder of the repository's go.work, where the
// tool and the example are run from.
func workspaceRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOWORK").Output()
	if err != nil {
		return "", fmt.Errorf("error running go env GOWORK (is Go installed?): %w", err)
	}
	gowork := strings.TrimSpace(string(out))
	if gowork == "" || gowork == "off" {
		return "", errors.New("run the demo inside the Chronicle repository (make demo), where go.work ties its modules together")
	}
	return filepath.Dir(gowork), nil
}

// migrate generates the schema with tools/migrate-gen into a temporary
// folder, as a user would into their migrations folder, shows its
// statements (all of them with showSQL) and applies each migration in a
// transaction of its own, in order.
func migrate(ctx context.Context, w io.Writer, root, dbURL string, showSQL bool) error {
	dir, err := os.MkdirTemp("", "chronicle-demo-migrations-")
	if err != nil {
		return fmt.Errorf("error making a folder for the migration: %w", err)
	}
	defer os.RemoveAll(dir)
	args := []string{"run", "github.com/chronicle-go/chronicle/tools/migrate-gen", "-output", dir}
	fmt.Fprintf(w, "   $ go %s\n", strings.Join(args, " "))
	if err := goCommand(ctx, w, root, nil, args...); err != nil {
		return err
	}
	// The numbered migrations, in order; their downs are in dir/down.
	files, _ := filepath.Glob(filepath.Join(dir, "*.sql"))
	if len(files) == 0 {
		return fmt.Errorf("migrate-gen wrote no migration to %s", dir)
	}
	sort.Strings(files)
	scripts := make([][]byte, len(files))
	for i, file := range files {
		sql, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("error reading the migration: %w", err)
		}
		scripts[i] = sql
		fmt.Fprintf(w, "   wrote %s (%d lines); its statements:\n", filepath.Base(file), bytes.Count(sql, []byte("\n")))
		if showSQL {
			for _, line := range strings.Split(strings.TrimRight(string(sql), "\n"), "\n") {
				fmt.Fprintf(w, "     %s\n", line)
			}
			continue
		}
		for _, line := range strings.Split(string(sql), "\n") {
			if line = strings.TrimSpace(line); statementStart(line) {
				fmt.Fprintf(w, "     %s\n", strings.TrimSuffix(strings.TrimSuffix(line, " ("), ";"))
			}
		}
	}
	if !showSQL {
		fmt.Fprintln(w, "     (the whole files: make demo DEMOFLAGS=-sql)")
	}

	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("error connecting to %s: %w", redact(dbURL), err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for i, sql := range scripts {
		if err := applyMigration(ctx, conn, filepath.Base(files[i]), sql); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "   applied them to %s, each in one transaction (as psql --single-transaction -f would)\n", redact(dbURL))
	return nil
}

// applyMigration runs one migration file in a transaction of its own.
func applyMigration(ctx context.Context, conn *pgx.Conn, name string, sql []byte) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("error beginning the transaction of %s: %w", name, err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if _, err := tx.Exec(ctx, string(sql)); err != nil {
		return fmt.Errorf("error applying %s: %w", name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("error committing %s: %w", name, err)
	}
	return nil
}

// statementStart reports whether a line of the migration begins a
// statement worth listing.
func statementStart(line string) bool {
	for _, p := range []string{"CREATE ", "INSERT "} {
		if strings.HasPrefix(line, p) {
			return true
		}
	}
	return false
}

// runExample runs examples/basic/pgx with go run against the database.
func runExample(ctx context.Context, w io.Writer, root, dbURL string) error {
	fmt.Fprintf(w, "   $ DATABASE_URL=%s go run ./examples/basic/pgx\n", redact(dbURL))
	return goCommand(ctx, w, root, []string{"DATABASE_URL=" + dbURL}, "run", "./examples/basic/pgx")
}

// check counts what the example left in the events table.
func check(ctx context.Context, w io.Writer, dbURL string) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return fmt.Errorf("error connecting to %s: %w", redact(dbURL), err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var events, aggregates int64
	if err := conn.QueryRow(ctx, `SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM aggregate_heads)`).Scan(&events, &aggregates); err != nil {
		return fmt.Errorf("error counting events: %w", err)
	}
	fmt.Fprintf(w, "   the events table holds %d event(s) of %d aggregate(s)\n", events, aggregates)
	if events == 0 {
		return errors.New("the example ran but the events table is empty")
	}
	return nil
}

// goCommand runs the go command in root with env added, indenting its
// output under the step.
func goCommand(ctx context.Context, w io.Writer, root string, env []string, args ...string) error {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if line != "" {
			fmt.Fprintf(w, "   | %s\n", line)
		}
	}
	if err != nil {
		return fmt.Errorf("error running go %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// redact hides a password in a URL before it is printed.
func redact(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "(the database URL)"
	}
	return u.Redacted()
}
