package postgres

import (
	"context"
	"fmt"

	pgsql "github.com/chronicle-go/chronicle/adapters/postgres-sql"
	"github.com/chronicle-go/chronicle/core"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
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

// appendArgs builds the statement's parameters. The arrays are pgtype
// FlatArrays of pgx's own element types: pgx encodes them without
// reflection, event ids travel as 16 binary bytes rather than 36-byte
// strings the server must parse, absent values need no pointer each, and
// times need no wrapper each.
// Every element type has a registered text form too, which pgx's simple
// protocol needs.
func (s *Store) appendArgs(expected core.ExpectedVersion, events []core.Event) []any {
	n := len(events)
	ids := make(pgtype.FlatArray[pgtype.UUID], n)
	types := make(pgtype.FlatArray[string], n)
	versions := make(pgtype.FlatArray[int32], n)
	metadata := make(pgtype.FlatArray[pgtype.Text], n)
	created := make(pgtype.FlatArray[pgtype.Timestamptz], n)
	traces := make(pgtype.FlatArray[pgtype.Text], n)
	correlations := make(pgtype.FlatArray[pgtype.Text], n)
	causations := make(pgtype.FlatArray[pgtype.Text], n)
	payloads := make(pgtype.FlatArray[[]byte], n)
	for i := range events {
		e := &events[i]
		ids[i] = pgtype.UUID{Bytes: e.EventID, Valid: true}
		types[i] = e.EventType
		versions[i] = int32(e.EventVersion) // PrepareEvents bounds it to 32 bits
		if e.Metadata != nil {
			metadata[i] = pgtype.Text{String: string(e.Metadata), Valid: true}
		}
		created[i] = pgtype.Timestamptz{Time: e.CreatedAt, Valid: true}
		traces[i] = text(e.TraceID)
		correlations[i] = text(e.CorrelationID)
		causations[i] = text(e.CausationID)
		payloads[i] = e.Payload
		if payloads[i] == nil {
			payloads[i] = []byte{} // nil would be NULL
		}
	}
	args := make([]any, 13, 14)
	args[0], args[1], args[2], args[3] = events[0].AggregateType, events[0].AggregateID, pgsql.ExpectedParam(expected), int64(n)
	args[4], args[5], args[6], args[7], args[8] = ids, types, versions, metadata, created
	args[9], args[10], args[11], args[12] = traces, correlations, causations, payloads
	if s.channel != "" {
		args = append(args, s.channel)
	}
	return args
}

func text(s core.NullString) pgtype.Text {
	return pgtype.Text{String: s.String, Valid: s.Valid}
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
