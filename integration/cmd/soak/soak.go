package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	pgxstore "github.com/chronicle-go/chronicle/adapters/postgres-pgx"
	pqstore "github.com/chronicle-go/chronicle/adapters/postgres-pq"
	"github.com/chronicle-go/chronicle/internal/pgstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/lib/pq" // the database/sql writers' driver
)

// notifyChannel wakes the processors.
const notifyChannel = "chronicle_soak"

// soak is one run: its database, the stores over it and the counters the
// report is made of.
type soak struct {
	cfg      config
	url      string
	names    pgstore.Names
	pgxStore *pgxstore.Store
	pqStore  *pqstore.Store
	// check is the connection the checks and the fault injector use; it is
	// never killed and is the baseline of the connection count.
	check *pgx.Conn
	// ledger records what writers committed.
	ledger *ledger
	stats  stats
}

func newSoak(ctx context.Context, url string, cfg config) (*soak, error) {
	names := pgstore.DefaultNames()
	ddl, err := pgstore.SchemaSQL(names, pgstore.SchemaOptions{})
	if err != nil {
		return nil, err
	}
	check, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, err
	}
	if _, err := check.Exec(ctx, ddl, pgx.QueryExecModeSimpleProtocol); err != nil {
		_ = check.Close(ctx)
		return nil, fmt.Errorf("error migrating: %w", err)
	}
	if _, err := check.Exec(ctx, projectionDDL); err != nil {
		_ = check.Close(ctx)
		return nil, fmt.Errorf("error creating the projections: %w", err)
	}
	ps, err := pgxstore.NewStore(pgxstore.NewStoreConfig(pgxstore.WithNotifyChannel(notifyChannel)))
	if err != nil {
		return nil, err
	}
	qs, err := pqstore.NewStore(pqstore.NewStoreConfig(pqstore.WithNotifyChannel(notifyChannel)))
	if err != nil {
		return nil, err
	}
	return &soak{cfg: cfg, url: url, names: names, pgxStore: ps, pqStore: qs, check: check, ledger: newLedger()}, nil
}

// run loads the store for the configured duration with faults, lets the
// consumers catch up, shuts everything down and checks the invariants.
func (s *soak) run(ctx context.Context) (*report, error) {
	defer func() { _ = s.check.Close(context.Background()) }()
	baseConns, err := s.connections(ctx)
	if err != nil {
		return nil, err
	}
	baseGoroutines := runtime.NumGoroutine()
	started := time.Now()

	pool, err := pgxpool.New(ctx, s.url)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("postgres", s.url)
	if err != nil {
		pool.Close()
		return nil, err
	}
	procs, err := s.startProcessors(ctx)
	if err != nil {
		pool.Close()
		_ = db.Close()
		return nil, err
	}

	loadCtx, stopLoad := context.WithTimeout(ctx, s.cfg.duration)
	var wg sync.WaitGroup
	for i := range s.cfg.writers {
		if i%3 == 2 {
			wg.Go(func() { s.write(loadCtx, i, sqlWriter(db, s.pqStore)) })
		} else {
			wg.Go(func() { s.write(loadCtx, i, pgxWriter(pool, s.pgxStore)) })
		}
	}
	for i := range s.cfg.readers {
		wg.Go(func() { s.read(loadCtx, i, pool) })
	}
	wg.Go(func() { s.injectFaults(loadCtx) })
	<-loadCtx.Done()
	wg.Wait()
	stopLoad()
	loadEnded := time.Now()

	r := &report{duration: loadEnded.Sub(started)}
	var errs []error
	if err := s.awaitCatchUp(ctx, 10*time.Minute); err != nil {
		errs = append(errs, err)
	}
	r.catchUp = time.Since(loadEnded)
	errs = append(errs, procs.stop()...)
	pool.Close()
	if err := db.Close(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, s.checkInvariants(ctx, r)...)
	r.goroutines, r.baseGoroutines = awaitGoroutines(baseGoroutines, 30*time.Second), baseGoroutines
	if r.goroutines > baseGoroutines {
		errs = append(errs, fmt.Errorf("%d goroutines left running, %d before", r.goroutines, baseGoroutines))
	}
	r.connections, r.baseConnections = s.awaitConnections(ctx, baseConns, 30*time.Second), baseConns
	if r.connections != baseConns {
		errs = append(errs, fmt.Errorf("%d connections to the database left, %d before", r.connections, baseConns))
	}
	r.fill(&s.stats, s.ledger, procs)
	r.failures = errs
	return r, errors.Join(errs...)
}

// connections counts the client backends connected to the soak's database.
func (s *soak) connections(ctx context.Context) (int, error) {
	var n int
	err := s.check.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'").Scan(&n)
	return n, err
}

// awaitConnections waits until the count is back at base, or for within.
func (s *soak) awaitConnections(ctx context.Context, base int, within time.Duration) int {
	deadline := time.Now().Add(within)
	for {
		n, err := s.connections(ctx)
		if err == nil && n <= base || time.Now().After(deadline) {
			return n
		}
		time.Sleep(50 * time.Millisecond) // backends exit asynchronously after a close
	}
}

func awaitGoroutines(base int, within time.Duration) int {
	deadline := time.Now().Add(within)
	for {
		n := runtime.NumGoroutine()
		if n <= base || time.Now().After(deadline) {
			return n
		}
		time.Sleep(50 * time.Millisecond) // closed pools stop their goroutines asynchronously
	}
}
