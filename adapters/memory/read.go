package memory

import (
	"context"
	"fmt"
	"sort"

	"github.com/chronicle-go/chronicle/core"
)

// ReadAggregateStream returns the aggregate's events visible to tx, and
// whether its stream is closed or deleted; see core.AggregateStreamReader.
// It never waits for writers.
func (s *Store) ReadAggregateStream(ctx context.Context, tx *Tx, aggregateType, aggregateID string, fromVersion, toVersion *int64) (core.Stream, error) {
	key := aggKey{typ: aggregateType, id: aggregateID}
	if err := core.ValidateVersionBounds(fromVersion, toVersion); err != nil {
		return core.Stream{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.readable(ctx, tx); err != nil {
		return core.Stream{}, fmt.Errorf("reading aggregate stream %s: %w", key, err)
	}
	return s.streamFor(tx, key, fromVersion, toVersion), nil
}

// streamFor returns the aggregate's events within the bounds as tx sees
// them, with the stream's Closed and Deleted state. Called with s.mu held.
func (s *Store) streamFor(tx *Tx, key aggKey, fromVersion, toVersion *int64) core.Stream {
	out := core.Stream{AggregateType: key.typ, AggregateID: key.id}
	_, out.Closed, out.Deleted = s.heads[key].stateFor(tx)
	rows := s.streams[key]
	// Versions are contiguous from 1, so version v is at index v-1: a
	// deletion empties a stream, which then takes no more events.
	lo, hi := int64(0), int64(len(rows))
	if fromVersion != nil {
		lo = min(*fromVersion-1, hi)
	}
	if toVersion != nil {
		hi = min(*toVersion, hi)
	}
	for _, r := range rows[lo:hi] {
		if r.visibleTo(tx) {
			out.Events = append(out.Events, copyEvent(r.ev))
		}
	}
	return out
}

// ReadEvents returns up to limit events visible to tx after fromPosition;
// see core.EventReader. As on PostgreSQL, positions are taken at insert: do
// not use the highest position read as a consumer checkpoint.
func (s *Store) ReadEvents(ctx context.Context, tx *Tx, fromPosition int64, limit int) ([]core.PersistedEvent, error) {
	if err := core.ValidateReadLimit(fromPosition, limit); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.readable(ctx, tx); err != nil {
		return nil, fmt.Errorf("reading events after position %d: %w", fromPosition, err)
	}
	start := sort.Search(len(s.log), func(i int) bool { return s.log[i].ev.GlobalPosition > fromPosition })
	out := []core.PersistedEvent{}
	for _, r := range s.log[start:] {
		if len(out) == limit {
			break
		}
		if r.visibleTo(tx) {
			out = append(out, copyEvent(r.ev))
		}
	}
	return out, nil
}

// GetLatestGlobalPosition returns the highest position visible to tx, 0
// when it sees no events; see core.GlobalPositionReader.
func (s *Store) GetLatestGlobalPosition(ctx context.Context, tx *Tx) (int64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.readable(ctx, tx); err != nil {
		return 0, fmt.Errorf("reading the latest global position: %w", err)
	}
	for i := len(s.log) - 1; i >= 0; i-- {
		if s.log[i].visibleTo(tx) {
			return s.log[i].ev.GlobalPosition, nil
		}
	}
	return 0, nil
}

// readable returns nil if tx can read now. Called with s.mu held.
func (s *Store) readable(ctx context.Context, tx *Tx) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.usable(tx)
}
