package main

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// injectFaults terminates a random client backend of the database, other
// than its own and the checker's, every killEvery until ctx ends: writers
// in and out of transactions, processors' batches, their listener,
// readers. It returns once its own connection is closed.
func (s *soak) injectFaults(ctx context.Context) {
	// A connection of its own, which ctx's end may break without harm.
	conn, err := pgx.Connect(ctx, s.url)
	if err != nil {
		return
	}
	defer func() { _ = conn.Close(context.Background()) }()
	checker := s.check.PgConn().PID()
	t := time.NewTicker(s.cfg.killEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var (
			killed bool
			state  string
		)
		err := conn.QueryRow(context.WithoutCancel(ctx), `SELECT pg_terminate_backend(pid), coalesce(state, '') FROM pg_stat_activity
WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND pid <> $1
ORDER BY random() LIMIT 1`, int32(checker)).Scan(&killed, &state)
		if err != nil || !killed {
			continue
		}
		s.stats.kills.Add(1)
		if state == "active" || state == "idle in transaction" {
			s.stats.killsInTransaction.Add(1)
		}
	}
}
