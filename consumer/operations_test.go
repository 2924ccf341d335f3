package consumer_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chronicle-go/chronicle/adapters/memory"
	"github.com/chronicle-go/chronicle/consumer"
	"github.com/chronicle-go/chronicle/core"
)

// ResetTx while a batch is in flight: it waits for the batch to commit and
// only then clears the read model, so the batch's effect is cleared too and
// the replay does not count it twice.
func TestResetTxClearsOnlyAfterTheBatchInFlight(t *testing.T) {
	ctx := t.Context()
	store := memory.NewStore()
	ops := consumer.NewOperations[*memory.Tx](store)
	var handled atomic.Int64 // the read model: events counted, as of the last commit

	// A batch of consumer "c" in flight: it holds the checkpoint, and its
	// effect appears when it commits.
	batch, err := store.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer batch.Rollback()
	if _, claimed, err := store.ClaimCheckpoint(ctx, batch, "c"); err != nil || !claimed {
		t.Fatalf("claiming the checkpoint: %v, %v", claimed, err)
	}
	batch.OnCommit(func() { handled.Add(1) })

	reset, err := store.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer reset.Rollback()
	var clearedAt atomic.Int64
	clearedAt.Store(-1)
	done := make(chan error, 1)
	go func() {
		done <- ops.ResetTx(ctx, reset, "c", func(_ context.Context, tx *memory.Tx) error {
			clearedAt.Store(handled.Load()) // what the clear sees
			tx.OnCommit(func() { handled.Store(0) })
			return nil
		})
	}()
	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := store.AwaitLockWait(waitCtx, reset); err != nil {
		t.Fatalf("ResetTx did not wait for the batch holding the checkpoint: %v", err)
	}
	if at := clearedAt.Load(); at != -1 {
		t.Fatalf("ResetTx cleared the read model while the batch held the checkpoint")
	}
	if err := batch.Commit(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("ResetTx: %v", err)
		}
	case <-waitCtx.Done():
		t.Fatal("ResetTx did not return after the batch committed")
	}
	if at := clearedAt.Load(); at != 1 {
		t.Errorf("the clear saw %d handled events, want 1: it must run after the batch committed", at)
	}
	if err := reset.Commit(); err != nil {
		t.Fatal(err)
	}
	st, err := ops.Status(ctx)
	if err != nil || len(st) != 1 || !st[0].Cursor.Snapshot.IsZero() {
		t.Fatalf("status after the reset: %+v, %v; want c at the start", st, err)
	}
	if n := handled.Load(); n != 0 {
		t.Errorf("read model after the reset holds %d, want 0", n)
	}
}

func TestResetTxRejectsANilClearAndReportsItsError(t *testing.T) {
	ctx := t.Context()
	store := memory.NewStore()
	ops := consumer.NewOperations[*memory.Tx](store)
	tx, err := store.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if err := ops.ResetTx(ctx, tx, "c", nil); !errors.Is(err, core.ErrInvalidArgument) {
		t.Errorf("ResetTx with a nil clear: %v, want ErrInvalidArgument", err)
	}
	boom := errors.New("boom")
	if err := ops.ResetTx(ctx, tx, "c", func(context.Context, *memory.Tx) error { return boom }); !errors.Is(err, boom) {
		t.Errorf("ResetTx whose clear fails: %v, want its error", err)
	}
}

// failingStore is a consumer store whose every read fails the way the
// PostgreSQL stores' do, with an error that already names the operation.
type failingStore struct {
	*memory.Store
}

func (failingStore) Checkpoints(context.Context, *memory.Tx) ([]core.Checkpoint, []bool, error) {
	return nil, nil, errors.New("error reading checkpoints: connection reset")
}

func (failingStore) CurrentSnapshot(context.Context, *memory.Tx) (core.Snapshot, error) {
	return core.Snapshot{}, errors.New("error reading the current snapshot: connection reset")
}

func (failingStore) Begin(context.Context) (*memory.Tx, error) {
	return nil, errors.New("error beginning a transaction: connection refused")
}

// The store's errors name what failed; the runtime adds no second copy of
// the same words ("error reading checkpoints: error reading checkpoints").
func TestErrorsDoNotStutter(t *testing.T) {
	ctx := context.Background()
	store := memory.NewStore()
	ops := consumer.NewOperations[*memory.Tx](failingStore{store})
	for name, call := range map[string]func() error{
		"Status":       func() error { _, err := ops.Status(ctx); return err },
		"StartFromNow": func() error { return ops.StartFromNow(ctx, "c") },
	} {
		err := call()
		if err == nil {
			t.Fatalf("%s: no error", name)
		}
		words := strings.SplitN(err.Error(), ":", 2)[0]
		if strings.Count(err.Error(), words) != 1 {
			t.Errorf("%s: %q says %q twice", name, err, words)
		}
	}
}
