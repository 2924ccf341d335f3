package integration_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chronicle-go/chronicle/consumer"
	"github.com/chronicle-go/chronicle/core"
	"github.com/jackc/pgx/v5"
)

// swallower runs a failing statement in the batch's transaction for every
// event and returns nil, as a handler that logs and ignores an SQL error
// would. First, in the same transaction, it reads its consumer's
// failed_attempts, so that the test sees the count rise across attempts.
type swallower struct {
	name, checkpoints string
	mu                sync.Mutex
	attempts          []int
}

func (s *swallower) Name() string { return s.name }

func (s *swallower) Handle(ctx context.Context, tx pgx.Tx, _ core.PersistedEvent) error {
	var failed int
	err := tx.QueryRow(ctx, "SELECT COALESCE((SELECT failed_attempts FROM "+s.checkpoints+" WHERE consumer_name = $1), 0)", s.name).Scan(&failed)
	if err == nil {
		s.mu.Lock()
		s.attempts = append(s.attempts, failed)
		s.mu.Unlock()
	}
	_, _ = tx.Exec(ctx, "SELECT 1/0") // the error is swallowed; the transaction is aborted
	return nil
}

// TestSwallowedSQLErrorFailsTheBatch: a handler that swallows an SQL error
// leaves the batch's transaction aborted; the batch then fails at saving
// its checkpoint. That failure counts like a handler's — FailedAttempts
// rises, the error is stored and shown by status — and after MaxAttempts
// the consumer stops, rather than retry forever with no failed attempt,
// while another consumer of the processor delivers everything.
func TestSwallowedSQLErrorFailsTheBatch(t *testing.T) {
	ctx := testContext(t)
	store, names := newPgxStore(t)
	pool := newPool(t, 0, 4)
	events := appendN(t, ctx, pool, store, "Order", "o-1", 3)
	table := createProjection(t, ctx, pool, names.Schema, "healthy_projection")
	healthy := &rowProjector{name: "healthy", table: table}
	bad := &swallower{name: "swallower", checkpoints: qualified(names.Schema, names.CheckpointsTable)}

	type stop struct {
		name string
		err  error
	}
	stopped := make(chan stop, 2)
	cfg := fastRetries
	cfg.MaxAttempts = 3
	cfg.OnStop = func(name string, err error) { stopped <- stop{name, err} }
	p := newProcessor(t, newPool(t, 0, 4), store, cfg, bad, healthy)
	stopProcessor := startProcessor(t, p)

	var s stop
	select {
	case s = <-stopped:
	case <-time.After(time.Minute):
		t.Fatal("the consumer whose handler swallowed an SQL error never stopped")
	}
	if s.name != "swallower" || s.err == nil || !strings.Contains(s.err.Error(), "aborted") {
		t.Fatalf("OnStop(%q, %v), want the swallower stopped by its aborted transaction", s.name, s.err)
	}
	waitRows(t, ctx, pool, table, len(events), time.Minute)
	st, err := p.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stopProcessor(); err != nil {
		t.Fatal(err)
	}
	b := st[0]
	if b.ConsumerName != "swallower" || !b.Stopped || b.FailedAttempts != 3 || !strings.Contains(b.LastError, "aborted") ||
		b.LastErrorAt.IsZero() || b.Behind != int64(len(events)) {
		t.Fatalf("swallower status = %+v; want stopped after 3 failed attempts, the aborted transaction's error, %d events behind", b, len(events))
	}
	if h := st[1]; h.Stopped || h.FailedAttempts != 0 || h.Behind != 0 {
		t.Fatalf("healthy consumer status = %+v", h)
	}
	ops, err := consumer.NewOperations[pgx.Tx](mustConsumerStore(t, pool, store)).Status(ctx)
	if err != nil || len(ops) != 2 || ops[1].ConsumerName != "swallower" || !ops[1].Stopped || ops[1].FailedAttempts != 3 || ops[1].LastError != b.LastError {
		t.Fatalf("Operations.Status = %+v, %v; want the swallower stopped with its error", ops, err)
	}
	// Each attempt read the batch again and saw the count so far.
	bad.mu.Lock()
	attempts := append([]int(nil), bad.attempts...)
	bad.mu.Unlock()
	seen := map[int]bool{}
	for _, a := range attempts {
		seen[a] = true
	}
	if !seen[0] || !seen[1] || !seen[2] || seen[3] || len(seen) != 3 {
		t.Fatalf("failed_attempts seen by the handler across attempts: %v, want 0, 1 and 2", attempts)
	}
	if v := judge(committedIDs(events), projectionRows(t, ctx, pool, table)); v != (verdict{}) {
		t.Fatalf("healthy projection: %+v", v)
	}
}
