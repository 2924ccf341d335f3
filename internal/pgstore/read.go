package pgstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/chronicle-go/chronicle/core"
)

// streamSizeHint is the room a stream read allocates first, when its
// bounds allow that many events; maxSizeHint caps what a limit allocates
// up front.
const (
	streamSizeHint = 64
	maxSizeHint    = 1000
)

// ReadAggregateStream implements core.AggregateStreamReader
// (sql/read_stream.sql).
func (s *Store[TX]) ReadAggregateStream(ctx context.Context, tx TX, aggregateType, aggregateID string, fromVersion, toVersion *int64) (core.Stream, error) {
	if err := s.usable(tx); err != nil {
		return core.Stream{}, err
	}
	from, to, err := versionRange(fromVersion, toVersion)
	if err != nil {
		return core.Stream{}, err
	}
	if err := s.checkSchema(ctx, tx); err != nil {
		return core.Stream{}, err
	}
	out := core.Stream{AggregateType: aggregateType, AggregateID: aggregateID}
	_, err = s.readStreamRows(ctx, tx, s.sql.ReadStream, int(min(to-from+1, streamSizeHint)), &out, aggregateType, aggregateID, from, to)
	if err != nil {
		return core.Stream{}, fmt.Errorf("error reading aggregate %s/%s: %w", aggregateType, aggregateID, err)
	}
	return out, nil
}

// Values of the stream state column of the header row that ReadStream and
// LoadAggregate return first (NULL: no head, read as open).
const (
	stateClosed  = 1
	stateDeleted = 2
)

// readStreamRows runs a statement of read_stream.sql's shape — a header
// row (the stream state and, for LoadAggregate, a snapshot in the event
// columns) and the events by version — into out, allocating room for
// size events first. It returns the header's event columns when they are
// present (the snapshot), else nil.
//
// The statements leave out an ORDER BY over the union (it would sort every
// row); the header may come anywhere, and events out of version order are
// sorted here, so the result never depends on the plan.
func (s *Store[TX]) readStreamRows(ctx context.Context, tx TX, sql string, size int, out *core.Stream, args ...any) (*core.PersistedEvent, error) {
	rows, err := s.exec.Query(ctx, tx, sql, args...)
	if err != nil {
		return nil, statementError(ctx, err, s.exec.DatabaseError(err))
	}
	defer rows.Close()
	events := make([]core.PersistedEvent, 0, size)
	r := s.exec.NewEventRow(1, false)
	targets := r.Targets()
	var header *core.PersistedEvent
	headers, sorted := 0, true
	for rows.Next() {
		if err := rows.Scan(targets...); err != nil {
			return nil, statementError(ctx, err, s.exec.DatabaseError(err))
		}
		// Events have a NULL state; the header has one, or no event
		// columns when there is no head (and so no snapshot either).
		if state, ok := r.Leading(0); ok || !r.Present() {
			headers++
			out.Closed, out.Deleted = state == stateClosed || state == stateDeleted, state == stateDeleted
			if r.Present() {
				e, err := r.Event()
				if err != nil {
					return nil, err
				}
				header = &e
			}
			continue
		}
		e, err := r.Event()
		if err != nil {
			return nil, err
		}
		if n := len(events); n > 0 && events[n-1].AggregateVersion > e.AggregateVersion {
			sorted = false
		}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, statementError(ctx, err, s.exec.DatabaseError(err))
	}
	if headers != 1 {
		return nil, fmt.Errorf("the stream statement returned %d header rows, want 1", headers)
	}
	if !sorted {
		slices.SortFunc(events, func(a, b core.PersistedEvent) int { return cmp.Compare(a.AggregateVersion, b.AggregateVersion) })
	}
	out.Events = events
	return header, nil
}

// ReadEvents implements core.EventReader (sql/read_events.sql).
func (s *Store[TX]) ReadEvents(ctx context.Context, tx TX, fromPosition int64, limit int) ([]core.PersistedEvent, error) {
	if err := s.usable(tx); err != nil {
		return nil, err
	}
	if err := core.ValidateReadLimit(fromPosition, limit); err != nil {
		return nil, err
	}
	if err := s.checkSchema(ctx, tx); err != nil {
		return nil, err
	}
	events, err := s.readEvents(ctx, tx, s.sql.ReadEvents, min(limit, maxSizeHint), fromPosition, int64(limit))
	if err != nil {
		return nil, fmt.Errorf("error reading events after global position %d: %w", fromPosition, err)
	}
	return events, nil
}

// GetLatestGlobalPosition implements core.GlobalPositionReader
// (sql/latest_position.sql).
func (s *Store[TX]) GetLatestGlobalPosition(ctx context.Context, tx TX) (int64, error) {
	if err := s.usable(tx); err != nil {
		return 0, err
	}
	if err := s.checkSchema(ctx, tx); err != nil {
		return 0, err
	}
	var pos int64
	if err := s.queryRow(ctx, tx, s.sql.LatestPosition, nil, &pos); err != nil {
		return 0, fmt.Errorf("error reading the latest global position: %w", statementError(ctx, err, s.exec.DatabaseError(err)))
	}
	return pos, nil
}

// readEvents runs a statement returning the event columns and collects
// its events, allocating room for size first. One set of scan targets
// serves every row (Executor.NewEventRow), so that a row costs only the
// values the event keeps.
func (s *Store[TX]) readEvents(ctx context.Context, tx TX, sql string, size int, args ...any) ([]core.PersistedEvent, error) {
	rows, err := s.exec.Query(ctx, tx, sql, args...)
	if err != nil {
		return nil, statementError(ctx, err, s.exec.DatabaseError(err))
	}
	defer rows.Close()
	events := make([]core.PersistedEvent, 0, size)
	r := s.exec.NewEventRow(0, false)
	targets := r.Targets()
	for rows.Next() {
		if err := rows.Scan(targets...); err != nil {
			return nil, statementError(ctx, err, s.exec.DatabaseError(err))
		}
		e, err := r.Event()
		if err != nil {
			return nil, err
		}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, statementError(ctx, err, s.exec.DatabaseError(err))
	}
	return events, nil
}
