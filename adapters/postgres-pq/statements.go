package postgres

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// statements runs the store's statements prepared on a *sql.DB (see
// StoreConfig.PrepareOn). database/sql keeps a prepared statement per
// connection and prepares it on a connection the first time a transaction
// there uses it, so after that a call is one round trip with a cached plan.
// Without them lib/pq sends each statement in two round trips (parse and
// describe, then bind and execute) and the server plans it afresh every
// time. A nil *statements runs the text, as before.
type statements struct {
	db *sql.DB
	mu sync.Mutex
	// prepared maps statement text to its statement on db.
	prepared map[string]*sql.Stmt
}

func newStatements(db *sql.DB) *statements {
	if db == nil {
		return nil
	}
	return &statements{db: db, prepared: map[string]*sql.Stmt{}}
}

// prepareWait bounds how long a statement's first use waits for a free
// connection to prepare it on. Every connection may be held by a
// transaction waiting here, the caller's own included; rather than wait for
// ever, the call runs the text and a later one prepares.
const prepareWait = 100 * time.Millisecond

// query runs query with args in tx.
func (s *statements) query(ctx context.Context, tx *sql.Tx, query string, args ...any) (*sql.Rows, error) {
	if stmt := s.stmt(ctx, query); stmt != nil {
		return tx.StmtContext(ctx, stmt).QueryContext(ctx, args...)
	}
	return tx.QueryContext(ctx, query, args...)
}

// exec runs a statement returning no rows in tx.
func (s *statements) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if stmt := s.stmt(ctx, query); stmt != nil {
		return tx.StmtContext(ctx, stmt).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

// stmt returns the prepared statement for query, preparing it on first
// use; nil when s is nil or preparing failed (a table not created yet, no
// free connection), and then the next call tries again.
func (s *statements) stmt(ctx context.Context, query string) *sql.Stmt {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	stmt := s.prepared[query]
	s.mu.Unlock()
	if stmt != nil {
		return stmt
	}
	pctx, cancel := context.WithTimeout(ctx, prepareWait)
	defer cancel()
	stmt, err := s.db.PrepareContext(pctx, query)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if prev := s.prepared[query]; prev != nil { // a concurrent first use won
		_ = stmt.Close()
		return prev
	}
	s.prepared[query] = stmt
	return stmt
}
