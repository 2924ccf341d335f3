package core

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// TombstoneEventType is the EventType of the event Tombstone appends as a
// stream's last one. Consumers see it like any other event, in the
// aggregate's order, and can drop the aggregate's read-model rows on it.
// It is reserved: Append rejects events of this type (ErrInvalidEvent), so
// an event of this type always means the stream is closed.
const TombstoneEventType = "$tombstone"

// Tombstone is what StreamCloser.Tombstone writes besides the reserved
// event type: the optional content of the stream's final event, e.g. why
// the stream ended. The zero value is a valid tombstone.
type Tombstone struct {
	// EventID is the final event's id. Zero (the default): a new random id.
	EventID uuid.UUID
	// Payload is stored byte for byte, as an Event's. Default: empty.
	Payload []byte
	// Metadata is optional JSON, validated as an Event's.
	Metadata []byte
	// CreatedAt defaults to the time of the call, as an Event's.
	CreatedAt time.Time
	// TraceID, CorrelationID and CausationID are optional tracing ids.
	TraceID       NullString
	CorrelationID NullString
	CausationID   NullString
}

// PrepareTombstone returns the event Tombstone appends for the aggregate:
// t's fields with EventType TombstoneEventType, a new id when t has none,
// validated and defaulted as PrepareEvents does (errors are
// ErrInvalidEvent at index 0). Stores call it before any I/O.
func PrepareTombstone(aggregateType, aggregateID string, t Tombstone, now time.Time) (Event, error) {
	if t.EventID == uuid.Nil {
		t.EventID = uuid.New()
	}
	out, err := prepareEvents([]Event{{
		AggregateType: aggregateType, AggregateID: aggregateID, EventID: t.EventID, EventType: TombstoneEventType,
		Payload: t.Payload, Metadata: t.Metadata, CreatedAt: t.CreatedAt,
		TraceID: t.TraceID, CorrelationID: t.CorrelationID, CausationID: t.CausationID,
	}}, now, true)
	if err != nil {
		return Event{}, err
	}
	return out[0], nil
}

// ErrStreamClosed: the aggregate's stream was closed by Tombstone, or its
// events were deleted by DeleteStream, and it accepts no more events (nor,
// once deleted, snapshots). Nothing was written and the transaction stays
// usable. Detail: *StreamClosedError.
var ErrStreamClosed = errors.New("stream is closed")

// StreamClosedError is the detail of ErrStreamClosed.
type StreamClosedError struct {
	AggregateType string
	AggregateID   string
	// Version is the stream's last version (its tombstone's, for a closed
	// stream), 0 when unknown.
	Version int64
	// Deleted reports that the stream's events were deleted by an operator
	// (StreamDeleter.DeleteStream), not only closed.
	Deleted bool
}

func (e *StreamClosedError) Error() string {
	what := "closed by a tombstone"
	if e.Deleted {
		what = "deleted"
	}
	return fmt.Sprintf("stream %s/%s is %s at version %d: it accepts no more events", e.AggregateType, e.AggregateID, what, e.Version)
}

// Is reports whether target is ErrStreamClosed.
func (e *StreamClosedError) Is(target error) bool { return target == ErrStreamClosed }

// DeletedStream is the result of StreamDeleter.DeleteStream.
type DeletedStream struct {
	AggregateType string
	AggregateID   string
	// Existed reports whether the aggregate had a committed head (any
	// event ever). When false nothing was written.
	Existed bool
	// Version is the aggregate's last version, which the head keeps so
	// that the stream stays closed: an append after the deletion fails with
	// ErrStreamClosed instead of starting the stream again at version 1.
	Version int64
	// Events and Snapshots count the rows removed; both are 0 when the
	// stream had been deleted before.
	Events    int64
	Snapshots int64
}

// ValidateAggregate checks an aggregate type and id passed to an operation
// other than Append (Tombstone, SaveSnapshot, LoadAggregate, DeleteStream):
// both required, valid UTF-8 without NUL bytes, as PostgreSQL text stores
// them. The error is an *InvalidArgumentError naming the argument.
func ValidateAggregate(aggregateType, aggregateID string) error {
	for _, a := range [...]struct{ name, value string }{{"aggregateType", aggregateType}, {"aggregateID", aggregateID}} {
		if err := validateText(0, a.name, a.value, true); err != nil {
			var ie *InvalidEventError
			errors.As(err, &ie)
			return &InvalidArgumentError{Argument: a.name, Reason: ie.Reason}
		}
	}
	return nil
}
