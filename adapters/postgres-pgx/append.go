package postgres

import (
	"context"
	"fmt"
	"time"

	pgsql "github.com/chronicle-go/chronicle/adapters/postgres-sql"
	"github.com/chronicle-go/chronicle/core"
	"github.com/jackc/pgx/v5"
)

// Append implements core.EventStore: one statement, one round trip, for any
// batch size. See the core port for the contract and package pgsql for the
// statement.
func (s *Store) Append(ctx context.Context, tx pgx.Tx, expected core.ExpectedVersion, events []core.Event) (core.AppendResult, error) {
	if err := expected.Validate(); err != nil {
		return core.AppendResult{}, err
	}
	prepared, err := core.PrepareEvents(events, s.now())
	if err != nil {
		return core.AppendResult{}, err
	}
	rows, err := tx.Query(ctx, s.queries.Append, s.appendArgs(expected, prepared)...)
	if err != nil {
		return core.AppendResult{}, s.appendError(ctx, err, prepared, expected)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (pgsql.AppendRow, error) {
		var r pgsql.AppendRow
		err := row.Scan(&r.GlobalPosition, &r.AggregateVersion, &r.TransactionOrder)
		return r, err
	})
	if err != nil {
		return core.AppendResult{}, s.appendError(ctx, err, prepared, expected)
	}
	result, conflict, actual, err := pgsql.AppendOutcome(prepared, out)
	if err != nil {
		return core.AppendResult{}, err
	}
	if conflict {
		return core.AppendResult{}, s.conflict(ctx, tx, prepared, expected, actual)
	}
	s.logger.Debug(ctx, "chronicle: appended events", "aggregate_type", prepared[0].AggregateType,
		"aggregate_id", prepared[0].AggregateID, "from_version", result.FromVersion(), "to_version", result.ToVersion())
	return result, nil
}

func (s *Store) appendArgs(expected core.ExpectedVersion, events []core.Event) []any {
	n := len(events)
	// Event ids go as text: pgx's simple protocol has no text encoding for
	// a []uuid.UUID of unknown type, and the statement casts to uuid[].
	ids := make([]string, n)
	types := make([]string, n)
	versions := make([]int32, n)
	metadata := make([]*string, n)
	created := make([]time.Time, n)
	traces := make([]*string, n)
	correlations := make([]*string, n)
	causations := make([]*string, n)
	payloads := make([][]byte, n)
	for i := range events {
		e := &events[i]
		ids[i] = e.EventID.String()
		types[i] = e.EventType
		versions[i] = int32(e.EventVersion) // PrepareEvents bounds it to 32 bits
		if e.Metadata != nil {
			m := string(e.Metadata)
			metadata[i] = &m
		}
		created[i] = e.CreatedAt
		traces[i] = nullable(e.TraceID)
		correlations[i] = nullable(e.CorrelationID)
		causations[i] = nullable(e.CausationID)
		payloads[i] = e.Payload
		if payloads[i] == nil {
			payloads[i] = []byte{}
		}
	}
	args := []any{events[0].AggregateType, events[0].AggregateID, pgsql.ExpectedParam(expected), int64(n),
		ids, types, versions, metadata, created, traces, correlations, causations, payloads}
	if s.channel != "" {
		args = append(args, s.channel)
	}
	return args
}

func nullable(s core.NullString) *string {
	if !s.Valid {
		return nil
	}
	v := s.String
	return &v
}

// conflict builds the ConcurrencyError. actual is the head's version in the
// statement's snapshot; when that still matches the expectation, the head
// changed after the snapshot (a concurrent writer committed while the
// statement waited), and under READ COMMITTED a new statement sees the
// version that caused the conflict.
func (s *Store) conflict(ctx context.Context, tx pgx.Tx, events []core.Event, expected core.ExpectedVersion, actual int64) error {
	if expected.Matches(actual) {
		if err := tx.QueryRow(ctx, s.queries.CurrentVersion, events[0].AggregateType, events[0].AggregateID).Scan(&actual); err != nil {
			return fmt.Errorf("error reading the version of aggregate %s/%s after a conflict: %w", events[0].AggregateType, events[0].AggregateID, err)
		}
	}
	s.logger.Debug(ctx, "chronicle: append conflict", "aggregate_type", events[0].AggregateType,
		"aggregate_id", events[0].AggregateID, "expected", expected.String(), "actual", actual)
	return pgsql.ConflictError(events, expected, actual, nil)
}

func (s *Store) appendError(ctx context.Context, err error, events []core.Event, expected core.ExpectedVersion) error {
	return pgsql.AppendError(ctx, err, databaseError(err), s.constraints, events, expected)
}
