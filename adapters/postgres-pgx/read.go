package postgres

import (
	"context"
	"fmt"
	"math"

	"github.com/chronicle-go/chronicle/core"
	"github.com/jackc/pgx/v5"
)

// ReadAggregateStream implements core.AggregateStreamReader.
func (s *Store) ReadAggregateStream(ctx context.Context, tx pgx.Tx, aggregateType, aggregateID string, fromVersion, toVersion *int64) (core.Stream, error) {
	if err := core.ValidateVersionBounds(fromVersion, toVersion); err != nil {
		return core.Stream{}, err
	}
	from, to := int64(1), int64(math.MaxInt64)
	if fromVersion != nil {
		from = *fromVersion
	}
	if toVersion != nil {
		to = *toVersion
	}
	events, err := collectEvents(tx.Query(ctx, s.queries.ReadStream, aggregateType, aggregateID, from, to))
	if err != nil {
		return core.Stream{}, fmt.Errorf("error reading aggregate %s/%s: %w", aggregateType, aggregateID, err)
	}
	return core.Stream{AggregateType: aggregateType, AggregateID: aggregateID, Events: events}, nil
}

// ReadEvents implements core.EventReader.
func (s *Store) ReadEvents(ctx context.Context, tx pgx.Tx, fromPosition int64, limit int) ([]core.PersistedEvent, error) {
	if err := core.ValidateReadLimit(fromPosition, limit); err != nil {
		return nil, err
	}
	events, err := collectEvents(tx.Query(ctx, s.queries.ReadEvents, fromPosition, int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("error reading events after global position %d: %w", fromPosition, err)
	}
	return events, nil
}

// GetLatestGlobalPosition implements core.GlobalPositionReader.
func (s *Store) GetLatestGlobalPosition(ctx context.Context, tx pgx.Tx) (int64, error) {
	var pos int64
	if err := tx.QueryRow(ctx, s.queries.LatestPosition).Scan(&pos); err != nil {
		return 0, fmt.Errorf("error reading the latest global position: %w", err)
	}
	return pos, nil
}

// collectEvents scans rows of pgsql.EventColumns.
func collectEvents(rows pgx.Rows, err error) ([]core.PersistedEvent, error) {
	if err != nil {
		return nil, err
	}
	events, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (core.PersistedEvent, error) {
		var (
			e                             core.PersistedEvent
			eventVersion                  int32
			metadata                      *string
			trace, correlation, causation *string
		)
		err := row.Scan(&e.GlobalPosition, &e.AggregateType, &e.AggregateID, &e.AggregateVersion, &e.EventID, &e.EventType,
			&eventVersion, &e.Payload, &metadata, &e.CreatedAt, &trace, &correlation, &causation, &e.TransactionOrder)
		if err != nil {
			return e, err
		}
		e.EventVersion = int(eventVersion)
		if e.Payload == nil {
			e.Payload = []byte{}
		}
		if metadata != nil {
			e.Metadata = []byte(*metadata)
		}
		e.CreatedAt = e.CreatedAt.UTC()
		e.TraceID, e.CorrelationID, e.CausationID = nullString(trace), nullString(correlation), nullString(causation)
		return e, nil
	})
	if events == nil && err == nil {
		events = []core.PersistedEvent{}
	}
	return events, err
}

func nullString(s *string) core.NullString {
	if s == nil {
		return core.NullString{}
	}
	return core.NewNullString(*s)
}
