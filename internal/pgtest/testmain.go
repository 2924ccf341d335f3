package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"testing"
	"time"
)

// TestDatabase is a fresh database for one test binary: Run creates it
// before the tests and drops it after them.
type TestDatabase struct {
	url        string
	skipReason string
}

// Run finds a server (see Find), creates a database named prefix plus a
// random suffix, runs m, drops the database and returns the exit code for
// os.Exit. Under CI=true a missing server fails the run; otherwise the
// tests that call URL skip with the reason.
func (d *TestDatabase) Run(m *testing.M, prefix string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	logf := func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	server, err := Find(ctx, logf)
	if err != nil {
		if os.Getenv("CI") == "true" {
			logf("%s: CI=true and no PostgreSQL: %v", prefix, err)
			return 1
		}
		d.skipReason = "no PostgreSQL server (set " + EnvDatabaseURL + ", run one on 127.0.0.1:5432, or install PostgreSQL): " + err.Error()
		logf("%s: skipping: %s", prefix, d.skipReason)
		return m.Run()
	}
	defer func() {
		if err := server.Close(); err != nil {
			logf("%s: %v", prefix, err)
		}
	}()
	suffix := make([]byte, 8)
	_, _ = rand.Read(suffix)
	name := prefix + "_" + hex.EncodeToString(suffix)
	if d.url, err = server.CreateDatabase(ctx, name); err != nil {
		logf("%s: %v", prefix, err)
		return 1
	}
	logf("%s: PostgreSQL from %s, database %s", prefix, server.Source, name)
	code := m.Run()
	dropCtx, dropCancel := context.WithTimeout(context.Background(), time.Minute)
	defer dropCancel()
	if err := server.DropDatabase(dropCtx, name); err != nil {
		logf("%s: %v", prefix, err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// URL returns the database's URL, or skips t when no server was found
// (which Run allows only outside CI).
func (d *TestDatabase) URL(t testing.TB) string {
	t.Helper()
	if d.url == "" {
		t.Skip(d.skipReason)
	}
	return d.url
}
