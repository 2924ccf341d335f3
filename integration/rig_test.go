package integration_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"

	pgxstore "github.com/chronicle-go/chronicle/adapters/postgres-pgx"
	pqstore "github.com/chronicle-go/chronicle/adapters/postgres-pq"
	"github.com/chronicle-go/chronicle/core"
	"github.com/chronicle-go/chronicle/internal/pgstore"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// rig drives one store with its driver's transactions, so that a
// PostgreSQL-only test is written once and runs on both adapters.
type rig[TX any] struct {
	name  string
	store core.Store[TX]
	names pgstore.Names
	// begin starts a transaction; repeatable selects REPEATABLE READ.
	begin    func(ctx context.Context, repeatable bool) (TX, error)
	commit   func(ctx context.Context, tx TX) error
	rollback func(ctx context.Context, tx TX) error
	// scalar runs a query returning one bigint in tx.
	scalar func(ctx context.Context, tx TX, query string, args ...any) (int64, error)
}

// pgxRig migrates a fresh schema and drives a pgx store over it.
func pgxRig(t testing.TB, pool *pgxpool.Pool, opts ...pgxstore.StoreOption) rig[pgx.Tx] {
	store, names := newPgxStore(t, opts...)
	return pgxRigFor(pool, store, names)
}

// pgxRigFor drives store, whose schema exists, over pool.
func pgxRigFor(pool *pgxpool.Pool, store core.Store[pgx.Tx], names pgstore.Names) rig[pgx.Tx] {
	return rig[pgx.Tx]{
		name: "pgx", store: store, names: names,
		begin: func(ctx context.Context, repeatable bool) (pgx.Tx, error) {
			if repeatable {
				return pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead})
			}
			return pool.Begin(ctx)
		},
		commit:   func(ctx context.Context, tx pgx.Tx) error { return tx.Commit(ctx) },
		rollback: func(ctx context.Context, tx pgx.Tx) error { return tx.Rollback(ctx) },
		scalar: func(ctx context.Context, tx pgx.Tx, query string, args ...any) (v int64, err error) {
			err = tx.QueryRow(ctx, query, args...).Scan(&v)
			return v, err
		},
	}
}

// sqlRig migrates a fresh schema and drives a database/sql store over it.
func sqlRig(t testing.TB, db *sql.DB, opts ...pqstore.StoreOption) rig[*sql.Tx] {
	store, names := newPqStore(t, opts...)
	return sqlRigFor(db, store, names)
}

// sqlRigFor drives store, whose schema exists, over db.
func sqlRigFor(db *sql.DB, store core.Store[*sql.Tx], names pgstore.Names) rig[*sql.Tx] {
	return rig[*sql.Tx]{
		name: "database/sql", store: store, names: names,
		begin: func(ctx context.Context, repeatable bool) (*sql.Tx, error) {
			if repeatable {
				return db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead})
			}
			return db.BeginTx(ctx, nil)
		},
		commit:   func(_ context.Context, tx *sql.Tx) error { return tx.Commit() },
		rollback: func(_ context.Context, tx *sql.Tx) error { return tx.Rollback() },
		scalar: func(ctx context.Context, tx *sql.Tx, query string, args ...any) (v int64, err error) {
			err = tx.QueryRowContext(ctx, query, args...).Scan(&v)
			return v, err
		},
	}
}

// mustBegin starts a transaction that is rolled back when t ends unless
// committed before (a second rollback is harmless).
func (r rig[TX]) mustBegin(t testing.TB, ctx context.Context, repeatable bool) TX {
	t.Helper()
	tx, err := r.begin(ctx, repeatable)
	if err != nil {
		t.Fatalf("%s: beginning: %v", r.name, err)
	}
	t.Cleanup(func() { _ = r.rollback(context.Background(), tx) })
	return tx
}

func (r rig[TX]) mustAppend(t testing.TB, ctx context.Context, tx TX, expected core.ExpectedVersion, events ...core.Event) core.AppendResult {
	t.Helper()
	res, err := r.store.Append(ctx, tx, expected, events)
	if err != nil {
		t.Fatalf("%s: appending %d event(s) with %s: %v", r.name, len(events), expected, err)
	}
	return res
}

func (r rig[TX]) mustCommit(t testing.TB, ctx context.Context, tx TX) {
	t.Helper()
	if err := r.commit(ctx, tx); err != nil {
		t.Fatalf("%s: committing: %v", r.name, err)
	}
}

// appendCommitted appends in a transaction of its own.
func (r rig[TX]) appendCommitted(t testing.TB, ctx context.Context, expected core.ExpectedVersion, events ...core.Event) core.AppendResult {
	t.Helper()
	tx := r.mustBegin(t, ctx, false)
	res := r.mustAppend(t, ctx, tx, expected, events...)
	r.mustCommit(t, ctx, tx)
	return res
}

// readStream reads an aggregate's whole stream in a transaction of its own.
func (r rig[TX]) readStream(t testing.TB, ctx context.Context, aggregateType, aggregateID string) core.Stream {
	t.Helper()
	tx := r.mustBegin(t, ctx, false)
	defer func() { _ = r.rollback(ctx, tx) }()
	s, err := r.store.ReadAggregateStream(ctx, tx, aggregateType, aggregateID, nil, nil)
	if err != nil {
		t.Fatalf("%s: reading %s/%s: %v", r.name, aggregateType, aggregateID, err)
	}
	return s
}

// newEvents returns n events for a new aggregate of aggregateType.
func newEvents(aggregateType string, n int) []core.Event {
	id := aggregateType + "-" + uuid.NewString()
	events := make([]core.Event, n)
	for i := range events {
		events[i] = core.Event{
			AggregateType: aggregateType, AggregateID: id, EventID: uuid.New(),
			EventType: fmt.Sprintf("Happened%d", i), Payload: []byte(fmt.Sprintf(`{"n":%d}`, i)),
		}
	}
	return events
}

// moreEvents returns n further events for the aggregate of like.
func moreEvents(like core.Event, n int) []core.Event {
	events := newEvents(like.AggregateType, n)
	for i := range events {
		events[i].AggregateID = like.AggregateID
	}
	return events
}

// both runs body once per adapter, as subtests.
func both(t *testing.T, pgxBody func(t *testing.T, r rig[pgx.Tx]), sqlBody func(t *testing.T, r rig[*sql.Tx])) {
	t.Run("pgx", func(t *testing.T) {
		t.Parallel()
		pgxBody(t, pgxRig(t, newPool(t, 0, 8)))
	})
	t.Run("lib-pq", func(t *testing.T) {
		t.Parallel()
		sqlBody(t, sqlRig(t, openDB(t, "postgres")))
	})
}
