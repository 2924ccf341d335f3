package sqldb

import (
	"database/sql"
	"fmt"

	"github.com/chronicle-go/chronicle/core"
	"github.com/google/uuid"
)

// eventRow receives rows of leading nullable bigints, an optional leading
// text, and the event columns;
// the event columns may all be NULL (the consumer batch's row for an empty
// batch). One set of targets serves every row; a row costs only the values
// the event keeps. database/sql hands *[]byte targets a copy of their own,
// so payload and metadata are kept as scanned; the event id is parsed from
// the driver's buffer (sql.RawBytes), which needs no copy at all.
type eventRow struct {
	leading                                   []sql.NullInt64
	leadingText                               sql.NullString
	targets                                   []any
	position, aggregateVersion, transactionID sql.NullInt64
	aggregateType, aggregateID, eventType     sql.NullString
	trace, correlation, causation             sql.NullString
	eventVersion                              sql.NullInt64
	// eventID is the driver's text of the id, valid until the next row:
	// parsed at once, never kept.
	eventID           sql.RawBytes
	payload, metadata []byte
	createdAt         sql.NullTime
}

func newEventRow(leading int, leadingText bool) *eventRow {
	r := &eventRow{leading: make([]sql.NullInt64, leading)}
	for i := range r.leading {
		r.targets = append(r.targets, &r.leading[i])
	}
	if leadingText {
		r.targets = append(r.targets, &r.leadingText)
	}
	r.targets = append(r.targets, &r.position, &r.aggregateType, &r.aggregateID, &r.aggregateVersion, &r.eventID, &r.eventType,
		&r.eventVersion, &r.payload, &r.metadata, &r.createdAt, &r.trace, &r.correlation, &r.causation, &r.transactionID)
	return r
}

// Targets implements pgstore.EventRow.
func (r *eventRow) Targets() []any { return r.targets }

// Leading implements pgstore.EventRow.
func (r *eventRow) Leading(i int) (int64, bool) { return r.leading[i].Int64, r.leading[i].Valid }

// LeadingText implements pgstore.EventRow.
func (r *eventRow) LeadingText() (string, bool) { return r.leadingText.String, r.leadingText.Valid }

// Present implements pgstore.EventRow.
func (r *eventRow) Present() bool { return r.position.Valid }

// Event implements pgstore.EventRow. The payload and metadata slices are
// the row's own copies (database/sql copies into a *[]byte); a NULL
// metadata scans as nil.
func (r *eventRow) Event() (core.PersistedEvent, error) {
	id, err := uuidOf(r.eventID)
	if err != nil {
		return core.PersistedEvent{}, err
	}
	e := core.PersistedEvent{
		GlobalPosition:   r.position.Int64,
		AggregateType:    r.aggregateType.String,
		AggregateID:      r.aggregateID.String,
		AggregateVersion: r.aggregateVersion.Int64,
		EventID:          id,
		EventType:        r.eventType.String,
		EventVersion:     int(r.eventVersion.Int64),
		Payload:          r.payload,
		Metadata:         r.metadata,
		CreatedAt:        r.createdAt.Time.UTC(),
		TraceID:          nullString(r.trace),
		CorrelationID:    nullString(r.correlation),
		CausationID:      nullString(r.causation),
		TransactionID:    r.transactionID.Int64,
	}
	if e.Payload == nil {
		e.Payload = []byte{}
	}
	return e, nil
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
