package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	pgxstore "github.com/chronicle-go/chronicle/adapters/postgres-pgx"
	pqstore "github.com/chronicle-go/chronicle/adapters/postgres-pq"
	"github.com/chronicle-go/chronicle/core"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// hotAggregates per type take most appends, so that writers contend.
const hotAggregates = 20

// opTimeout bounds one writer or reader operation, which runs to its end
// even when the load's time is up, so that none is left ambiguous.
const opTimeout = 30 * time.Second

// stats are the run's counters.
type stats struct {
	appends, conflicts, failedAppends, rollbacks, bigBatches atomic.Int64
	eventsCommitted                                          atomic.Int64
	reads, readViolations                                    atomic.Int64
	kills, killsInTransaction                                atomic.Int64
	orderViolations                                          atomic.Int64
}

// ledger records the fate of every event a writer tried to append.
type ledger struct {
	mu sync.Mutex
	// committed: the commit succeeded. ambiguous: the commit's outcome is
	// unknown (its connection was killed). rolledBack: never committed.
	committed, ambiguous, rolledBack map[uuid.UUID]bool
}

func newLedger() *ledger {
	return &ledger{committed: map[uuid.UUID]bool{}, ambiguous: map[uuid.UUID]bool{}, rolledBack: map[uuid.UUID]bool{}}
}

func (l *ledger) record(events []core.Event, into map[uuid.UUID]bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range events {
		into[e.EventID] = true
	}
}

// txWriter appends through one adapter.
type txWriter interface {
	// appendOnce runs one transaction: it reads the aggregate's version
	// first when expected is nil (then appends with Exact of it), appends,
	// and commits unless rollback. commitErr reports a failed commit.
	appendOnce(ctx context.Context, expected *core.ExpectedVersion, events []core.Event, rollback bool) (res core.AppendResult, err, commitErr error)
}

type writerOf[TX any] struct {
	store    core.Store[TX]
	begin    func(context.Context) (TX, error)
	commit   func(context.Context, TX) error
	rollback func(context.Context, TX) error
}

func (w writerOf[TX]) appendOnce(ctx context.Context, expected *core.ExpectedVersion, events []core.Event, rollback bool) (core.AppendResult, error, error) {
	tx, err := w.begin(ctx)
	if err != nil {
		return core.AppendResult{}, err, nil
	}
	defer func() { _ = w.rollback(context.WithoutCancel(ctx), tx) }()
	var exp core.ExpectedVersion
	if expected != nil {
		exp = *expected
	} else {
		s, err := w.store.ReadAggregateStream(ctx, tx, events[0].AggregateType, events[0].AggregateID, nil, nil)
		if err != nil {
			return core.AppendResult{}, err, nil
		}
		exp = core.Exact(s.Version())
	}
	res, err := w.store.Append(ctx, tx, exp, events)
	if err != nil || rollback {
		return res, err, nil
	}
	return res, nil, w.commit(ctx, tx)
}

func pgxWriter(pool *pgxpool.Pool, store *pgxstore.Store) txWriter {
	return writerOf[pgx.Tx]{store: store,
		begin:    func(ctx context.Context) (pgx.Tx, error) { return pool.Begin(ctx) },
		commit:   func(ctx context.Context, tx pgx.Tx) error { return tx.Commit(ctx) },
		rollback: func(ctx context.Context, tx pgx.Tx) error { return tx.Rollback(ctx) },
	}
}

func sqlWriter(db *sql.DB, store *pqstore.Store) txWriter {
	return writerOf[*sql.Tx]{store: store,
		begin:    func(ctx context.Context) (*sql.Tx, error) { return db.BeginTx(ctx, nil) },
		commit:   func(_ context.Context, tx *sql.Tx) error { return tx.Commit() },
		rollback: func(_ context.Context, tx *sql.Tx) error { return tx.Rollback() },
	}
}

// write appends until ctx ends, mixing every kind of expected version,
// batch sizes from 1 to 200 and rolled-back transactions.
func (s *soak) write(ctx context.Context, n int, w txWriter) {
	rng := rand.New(rand.NewPCG(uint64(n), uint64(time.Now().UnixNano())))
	for ctx.Err() == nil {
		var (
			events   []core.Event
			expected *core.ExpectedVersion
			rollback bool
		)
		hot := func() (string, string) {
			typ := "Order"
			if rng.IntN(2) == 0 {
				typ = "Invoice"
			}
			return typ, fmt.Sprintf("%s-hot-%d", typ, rng.IntN(hotAggregates))
		}
		exp := func(e core.ExpectedVersion) *core.ExpectedVersion { return &e }
		switch op := rng.IntN(100); {
		case op < 40:
			events, expected = batch(hot, 1+rng.IntN(5)), exp(core.Any())
		case op < 55:
			events, expected = batch(fresh(rng), 1+rng.IntN(3)), exp(core.NoStream())
		case op < 75:
			events = batch(hot, 1+rng.IntN(3)) // Exact of the version read
		case op < 85:
			events, expected = batch(hot, 1), exp(core.StreamExists())
		case op < 99:
			events, expected, rollback = batch(hot, 1+rng.IntN(5)), exp(core.Any()), true
		default:
			events, expected = batch(fresh(rng), 200), exp(core.Any())
			s.stats.bigBatches.Add(1)
		}
		opCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opTimeout)
		res, err, commitErr := w.appendOnce(opCtx, expected, events, rollback)
		cancel()
		switch {
		case errors.Is(err, core.ErrOptimisticConcurrency):
			s.stats.conflicts.Add(1)
			s.ledger.record(events, s.ledger.rolledBack)
		case err != nil:
			s.stats.failedAppends.Add(1)
			s.ledger.record(events, s.ledger.rolledBack)
		case rollback:
			s.stats.rollbacks.Add(1)
			s.ledger.record(events, s.ledger.rolledBack)
		case commitErr != nil:
			s.stats.failedAppends.Add(1)
			s.ledger.record(events, s.ledger.ambiguous)
		default:
			s.stats.appends.Add(1)
			s.stats.eventsCommitted.Add(int64(len(res.Events)))
			s.ledger.record(events, s.ledger.committed)
		}
	}
}

// fresh names a new aggregate.
func fresh(rng *rand.Rand) func() (string, string) {
	return func() (string, string) {
		typ := "Order"
		if rng.IntN(2) == 0 {
			typ = "Invoice"
		}
		return typ, typ + "-" + uuid.NewString()
	}
}

func batch(aggregate func() (string, string), n int) []core.Event {
	typ, id := aggregate()
	events := make([]core.Event, n)
	for i := range events {
		events[i] = core.Event{AggregateType: typ, AggregateID: id, EventID: uuid.New(), EventType: "Happened",
			Payload: []byte(`{"soak":true}`), Metadata: []byte(`{"by":"soak"}`)}
	}
	return events
}

// read checks what readers see while the load runs: each stream's
// versions contiguous from 1, the log's positions ascending.
func (s *soak) read(ctx context.Context, n int, pool *pgxpool.Pool) {
	rng := rand.New(rand.NewPCG(uint64(n)+1000, uint64(time.Now().UnixNano())))
	for ctx.Err() == nil {
		opCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), opTimeout)
		err := pgx.BeginFunc(opCtx, pool, func(tx pgx.Tx) error {
			typ := "Order"
			if rng.IntN(2) == 0 {
				typ = "Invoice"
			}
			stream, err := s.pgxStore.ReadAggregateStream(opCtx, tx, typ, fmt.Sprintf("%s-hot-%d", typ, rng.IntN(hotAggregates)), nil, nil)
			if err != nil {
				return err
			}
			for i, e := range stream.Events {
				if e.AggregateVersion != int64(i+1) {
					s.stats.readViolations.Add(1)
				}
			}
			latest, err := s.pgxStore.GetLatestGlobalPosition(opCtx, tx)
			if err != nil {
				return err
			}
			events, err := s.pgxStore.ReadEvents(opCtx, tx, rng.Int64N(latest+1), 100)
			if err != nil {
				return err
			}
			for i := 1; i < len(events); i++ {
				if events[i].GlobalPosition <= events[i-1].GlobalPosition {
					s.stats.readViolations.Add(1)
				}
			}
			return nil
		})
		cancel()
		if err == nil {
			s.stats.reads.Add(1)
		}
	}
}
