package postgres

import (
	"context"
	"fmt"

	pgsql "github.com/chronicle-go/chronicle/adapters/postgres-sql"
	"github.com/chronicle-go/chronicle/core"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// ReadAggregateStream implements core.AggregateStreamReader.
func (s *Store) ReadAggregateStream(ctx context.Context, tx pgx.Tx, aggregateType, aggregateID string, fromVersion, toVersion *int64) (core.Stream, error) {
	from, to, err := pgsql.VersionRange(fromVersion, toVersion)
	if err != nil {
		return core.Stream{}, err
	}
	rows, err := tx.Query(ctx, s.queries.ReadStream, aggregateType, aggregateID, from, to)
	events, err := collectEvents(rows, err, int(min(to-from+1, streamSizeHint)))
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
	rows, err := tx.Query(ctx, s.queries.ReadEvents, fromPosition, int64(limit))
	events, err := collectEvents(rows, err, min(limit, maxSizeHint))
	if err != nil {
		return nil, fmt.Errorf("error reading events after global position %d: %w", fromPosition, err)
	}
	return events, nil
}

// streamSizeHint is the room a stream read allocates first, when its
// bounds allow that many events; maxSizeHint caps what a limit allocates
// up front.
const (
	streamSizeHint = 64
	maxSizeHint    = 1000
)

// GetLatestGlobalPosition implements core.GlobalPositionReader.
func (s *Store) GetLatestGlobalPosition(ctx context.Context, tx pgx.Tx) (int64, error) {
	var pos int64
	if err := tx.QueryRow(ctx, s.queries.LatestPosition).Scan(&pos); err != nil {
		return 0, fmt.Errorf("error reading the latest global position: %w", err)
	}
	return pos, nil
}

// collectEvents scans rows of pgsql.EventColumns. One set of scan targets
// serves every row, so that a row costs only the values the event keeps
// (its strings, payload and metadata): the event id is decoded from its 16
// binary bytes without the text detour of uuid.UUID's sql.Scanner, metadata
// arrives as the []byte it is kept as, and absent tracing ids cost
// nothing.
//
// size is the number of rows expected at most, to allocate the slice once.
func collectEvents(rows pgx.Rows, err error, size int) ([]core.PersistedEvent, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	events := make([]core.PersistedEvent, 0, size)
	var r scannedEvent
	targets := r.targets()
	for rows.Next() {
		if err := rows.Scan(targets...); err != nil {
			return nil, err
		}
		events = append(events, r.event())
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return events, nil
}

// scannedEvent receives one row of pgsql.EventColumns. Every column may
// be NULL, as in the consumer batch's row for an empty batch; the pgtype
// values take NULL without a pointer to allocate.
type scannedEvent struct {
	position, version, order      pgtype.Int8
	aggregateType, aggregateID    repeatedText
	eventType                     repeatedText
	id                            pgtype.UUID
	eventVersion                  pgtype.Int4
	payload, metadata             []byte
	createdAt                     pgtype.Timestamptz
	trace, correlation, causation pgtype.Text
}

func (r *scannedEvent) targets() []any {
	return []any{&r.position, &r.aggregateType, &r.aggregateID, &r.version, &r.id, &r.eventType, &r.eventVersion,
		&r.payload, &r.metadata, &r.createdAt, &r.trace, &r.correlation, &r.causation, &r.order}
}

// event returns the scanned row as an event. pgx decodes bytea and text
// into a fresh slice per row, so payload and metadata are the event's own.
func (r *scannedEvent) event() core.PersistedEvent {
	e := core.PersistedEvent{
		GlobalPosition: r.position.Int64, AggregateType: r.aggregateType.s, AggregateID: r.aggregateID.s,
		AggregateVersion: r.version.Int64, EventID: r.id.Bytes, EventType: r.eventType.s,
		EventVersion: int(r.eventVersion.Int32), Payload: r.payload, Metadata: r.metadata,
		CreatedAt: r.createdAt.Time.UTC(), TransactionOrder: r.order.Int64,
		TraceID: nullString(r.trace), CorrelationID: nullString(r.correlation), CausationID: nullString(r.causation),
	}
	if e.Payload == nil {
		e.Payload = []byte{}
	}
	return e
}

// repeatedText receives a text column whose value tends to repeat from
// row to row (aggregate and event types; aggregate ids in a stream and in
// a batch's runs): a value equal to the previous row's keeps that string
// rather than allocating another. pgx hands ScanBytes its read buffer,
// and comparing it with a string copies nothing.
type repeatedText struct {
	s string
}

// ScanBytes implements pgtype.BytesScanner; NULL (nil) reads as "".
func (t *repeatedText) ScanBytes(b []byte) error {
	if t.s != string(b) {
		t.s = string(b)
	}
	return nil
}

func nullString(t pgtype.Text) core.NullString {
	if !t.Valid {
		return core.NullString{}
	}
	return core.NewNullString(t.String)
}
