package postgres

import (
	"github.com/chronicle-go/chronicle/core"
	"github.com/jackc/pgx/v5/pgtype"
)

// eventRow receives rows of leading nullable bigints, an optional
// leading text, and the event columns. One set of targets serves every row, so that a row costs only
// the values the event keeps (its strings, payload and metadata): the
// event id is decoded from its 16 binary bytes without the text detour of
// uuid.UUID's sql.Scanner, metadata arrives as the []byte it is kept as,
// and absent tracing ids cost nothing. Every column may be NULL, as in the
// consumer batch's row for an empty batch; the pgtype values take NULL
// without a pointer to allocate.
type eventRow struct {
	leading                       []pgtype.Int8
	leadingText                   pgtype.Text
	targets                       []any
	position, version, writer     pgtype.Int8
	aggregateType, aggregateID    repeatedText
	eventType                     repeatedText
	id                            pgtype.UUID
	eventVersion                  pgtype.Int4
	payload, metadata             []byte
	createdAt                     pgtype.Timestamptz
	trace, correlation, causation pgtype.Text
}

func newEventRow(leading int, leadingText bool) *eventRow {
	r := &eventRow{leading: make([]pgtype.Int8, leading)}
	for i := range r.leading {
		r.targets = append(r.targets, &r.leading[i])
	}
	if leadingText {
		r.targets = append(r.targets, &r.leadingText)
	}
	r.targets = append(r.targets, &r.position, &r.aggregateType, &r.aggregateID, &r.version, &r.id, &r.eventType, &r.eventVersion,
		&r.payload, &r.metadata, &r.createdAt, &r.trace, &r.correlation, &r.causation, &r.writer)
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

// Event implements pgstore.EventRow. pgx decodes bytea and text into a
// fresh slice per row, so payload and metadata are the event's own.
func (r *eventRow) Event() (core.PersistedEvent, error) {
	e := core.PersistedEvent{
		GlobalPosition: r.position.Int64, AggregateType: r.aggregateType.s, AggregateID: r.aggregateID.s,
		AggregateVersion: r.version.Int64, EventID: r.id.Bytes, EventType: r.eventType.s,
		EventVersion: int(r.eventVersion.Int32), Payload: r.payload, Metadata: r.metadata,
		CreatedAt: r.createdAt.Time.UTC(), TransactionID: r.writer.Int64,
		TraceID: nullString(r.trace), CorrelationID: nullString(r.correlation), CausationID: nullString(r.causation),
	}
	if e.Payload == nil {
		e.Payload = []byte{}
	}
	return e, nil
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
