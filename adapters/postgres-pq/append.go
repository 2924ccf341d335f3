package postgres

import (
	"context"
	"database/sql"
	"fmt"

	pgsql "github.com/chronicle-go/chronicle/adapters/postgres-sql"
	"github.com/chronicle-go/chronicle/core"
)

// Append implements core.EventStore: one statement, one round trip, for any
// batch size. See the core port for the contract and package pgsql for the
// statement.
func (s *Store) Append(ctx context.Context, tx *sql.Tx, expected core.ExpectedVersion, events []core.Event) (core.AppendResult, error) {
	if err := expected.Validate(); err != nil {
		return core.AppendResult{}, err
	}
	prepared, err := core.PrepareEvents(events, s.now())
	if err != nil {
		return core.AppendResult{}, err
	}
	out, err := s.execAppend(ctx, tx, expected, prepared)
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

func (s *Store) execAppend(ctx context.Context, tx *sql.Tx, expected core.ExpectedVersion, events []core.Event) ([]pgsql.AppendRow, error) {
	a := buildAppendArrays(events)
	args := []any{events[0].AggregateType, events[0].AggregateID, pgsql.ExpectedParam(expected), int64(len(events)),
		a.ids, a.types, a.versions, a.metadata, a.created, a.traces, a.correlations, a.causations,
		a.payloads, a.payloadStarts, a.payloadLengths}
	if s.channel != "" {
		args = append(args, s.channel)
	}
	rows, err := s.statements.query(ctx, tx, s.queries.Append, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]pgsql.AppendRow, 0, len(events))
	for rows.Next() {
		var r pgsql.AppendRow
		if err := rows.Scan(&r.GlobalPosition, &r.AggregateVersion, &r.TransactionOrder); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// conflict builds the ConcurrencyError. actual is the head's version in the
// statement's snapshot; when that still matches the expectation, the head
// changed after the snapshot (a concurrent writer committed while the
// statement waited), and under READ COMMITTED a new statement sees the
// version that caused the conflict.
func (s *Store) conflict(ctx context.Context, tx *sql.Tx, events []core.Event, expected core.ExpectedVersion, actual int64) error {
	if expected.Matches(actual) {
		if err := tx.QueryRowContext(ctx, s.queries.CurrentVersion, events[0].AggregateType, events[0].AggregateID).Scan(&actual); err != nil {
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
