package pgtest

import (
	"context"
	"os"
	"testing"
	"time"
)

// TestCluster exercises the last fallback even where a server already runs,
// so that a machine without one is known to work.
func TestCluster(t *testing.T) {
	if _, err := BinDir(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI needs a local PostgreSQL installation: %v", err)
		}
		t.Skipf("no local PostgreSQL installation: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	s, err := StartCluster(ctx)
	if err != nil {
		t.Fatal(err)
	}
	serverURL := s.URL
	dbURL, err := s.CreateDatabase(ctx, "pgtest_cluster")
	if err != nil {
		t.Fatal(err)
	}
	if err := Ping(ctx, dbURL); err != nil {
		t.Fatalf("connecting to the new database: %v", err)
	}
	if err := s.Restart(ctx); err != nil {
		t.Fatalf("restarting: %v", err)
	}
	if err := Ping(ctx, dbURL); err != nil {
		t.Fatalf("connecting after the restart: %v", err)
	}
	if err := s.DropDatabase(ctx, "pgtest_cluster"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := Ping(ctx, serverURL); err == nil {
		t.Fatal("the cluster still answers after Close")
	}
}

func TestRestartNeedsAClusterOfOurOwn(t *testing.T) {
	if err := (&Server{URL: LocalURL, Source: "local"}).Restart(t.Context()); err != ErrNotRestartable {
		t.Fatalf("Restart of a found server = %v, want ErrNotRestartable", err)
	}
}
