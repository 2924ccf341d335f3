package postgres

import (
	"context"
	"database/sql"
	"fmt"

	pgsql "github.com/chronicle-go/chronicle/adapters/postgres-sql"
	"github.com/chronicle-go/chronicle/core"
	"github.com/google/uuid"
)

// ReadAggregateStream implements core.AggregateStreamReader.
func (s *Store) ReadAggregateStream(ctx context.Context, tx *sql.Tx, aggregateType, aggregateID string, fromVersion, toVersion *int64) (core.Stream, error) {
	from, to, err := pgsql.VersionRange(fromVersion, toVersion)
	if err != nil {
		return core.Stream{}, err
	}
	events, err := collectEvents(s.statements.query(ctx, tx, s.queries.ReadStream, aggregateType, aggregateID, from, to))
	if err != nil {
		return core.Stream{}, fmt.Errorf("error reading aggregate %s/%s: %w", aggregateType, aggregateID, err)
	}
	return core.Stream{AggregateType: aggregateType, AggregateID: aggregateID, Events: events}, nil
}

// ReadEvents implements core.EventReader.
func (s *Store) ReadEvents(ctx context.Context, tx *sql.Tx, fromPosition int64, limit int) ([]core.PersistedEvent, error) {
	if err := core.ValidateReadLimit(fromPosition, limit); err != nil {
		return nil, err
	}
	events, err := collectEvents(s.statements.query(ctx, tx, s.queries.ReadEvents, fromPosition, int64(limit)))
	if err != nil {
		return nil, fmt.Errorf("error reading events after global position %d: %w", fromPosition, err)
	}
	return events, nil
}

// GetLatestGlobalPosition implements core.GlobalPositionReader.
func (s *Store) GetLatestGlobalPosition(ctx context.Context, tx *sql.Tx) (int64, error) {
	var pos int64
	if err := tx.QueryRowContext(ctx, s.queries.LatestPosition).Scan(&pos); err != nil {
		return 0, fmt.Errorf("error reading the latest global position: %w", err)
	}
	return pos, nil
}

// collectEvents scans rows of pgsql.EventColumns. One set of targets
// serves every row; a row costs only the values the event keeps.
// database/sql hands *[]byte targets a copy of their own, so payload and
// metadata are kept as scanned; the event id is parsed from the driver's
// buffer (sql.RawBytes), which needs no copy at all.
func collectEvents(rows *sql.Rows, err error) ([]core.PersistedEvent, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	events := []core.PersistedEvent{}
	var r eventRow
	targets := r.targets()
	for rows.Next() {
		if err := rows.Scan(targets...); err != nil {
			return nil, err
		}
		e, err := r.persisted()
		if err != nil {
			return nil, err
		}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return events, nil
}

func nullString(s sql.NullString) core.NullString {
	if !s.Valid {
		return core.NullString{}
	}
	return core.NewNullString(s.String)
}

func uuidOf(b []byte) (uuid.UUID, error) {
	id, err := uuid.ParseBytes(b)
	if err != nil {
		return uuid.Nil, fmt.Errorf("error reading event id %q: %w", b, err)
	}
	return id, nil
}
