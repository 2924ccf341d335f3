package integration_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/chronicle-go/chronicle/integration/pgdocker" // Find may start a Docker container
	"github.com/chronicle-go/chronicle/internal/pgtest"
	"github.com/google/uuid"
)

// databaseURL is this package run's own database, made fresh by TestMain
// and dropped afterwards. Empty when no server was found outside CI.
var databaseURL string

// skipReason says why the tests skip when databaseURL is empty.
var skipReason string

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	server, err := pgtest.Find(ctx, func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) })
	if err != nil {
		if os.Getenv("CI") == "true" {
			fmt.Fprintf(os.Stderr, "integration: CI=true and no PostgreSQL: %v\n", err)
			return 1
		}
		skipReason = "no PostgreSQL server (set " + pgtest.EnvDatabaseURL + ", run one on 127.0.0.1:5432, or install PostgreSQL): " + err.Error()
		fmt.Fprintln(os.Stderr, "integration: skipping: "+skipReason)
		return m.Run()
	}
	defer func() {
		if err := server.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "integration: %v\n", err)
		}
	}()
	name := "chronicle_it_" + strings.ReplaceAll(uuid.NewString(), "-", "")[:16]
	databaseURL, err = server.CreateDatabase(ctx, name)
	if err != nil {
		fmt.Fprintf(os.Stderr, "integration: %v\n", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "integration: PostgreSQL from %s, database %s\n", server.Source, name)
	code := m.Run()
	dropCtx, dropCancel := context.WithTimeout(context.Background(), time.Minute)
	defer dropCancel()
	if err := server.DropDatabase(dropCtx, name); err != nil {
		fmt.Fprintf(os.Stderr, "integration: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// needDatabase skips t when no server was found (never under CI, where
// TestMain fails instead).
func needDatabase(t testing.TB) {
	t.Helper()
	if databaseURL == "" {
		t.Skip(skipReason)
	}
}
