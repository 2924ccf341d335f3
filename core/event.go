package core

import (
	"time"

	"github.com/google/uuid"
)

// Event is a domain event to append. The store assigns the aggregate version
// and the global position; see [PrepareEvents] for the rules and defaults.
type Event struct {
	// AggregateType names the kind of aggregate, e.g. "Order". Required.
	AggregateType string
	// AggregateID identifies the aggregate within its type. Required.
	AggregateID string
	// EventID is the event's globally unique id. Required (not uuid.Nil);
	// storing an id twice fails with ErrDuplicateEvent.
	EventID uuid.UUID
	// EventType names what happened, e.g. "OrderPlaced". Required.
	EventType string
	// EventVersion is the version of the payload's schema. Zero means 1.
	EventVersion int
	// Payload is the event body, stored byte for byte. May be empty.
	Payload []byte
	// Metadata is optional JSON. Empty is stored as NULL and read back as nil.
	// It is stored as JSONB: read back it is the same JSON value, not
	// necessarily the same bytes (key order and white space may change).
	Metadata []byte
	// CreatedAt is when the event happened. Zero means the time of the
	// append. It is stored in UTC with microsecond precision.
	CreatedAt time.Time
	// TraceID, CorrelationID and CausationID are optional tracing ids.
	TraceID       NullString
	CorrelationID NullString
	CausationID   NullString
}

// PersistedEvent is an event as stored: the appended [Event] plus the
// positions the store gave it.
type PersistedEvent struct {
	// GlobalPosition is the event's position in the global log: unique and
	// increasing in insertion order, but not in commit order (see
	// EventReader). Starts at 1.
	GlobalPosition int64
	// AggregateType, AggregateID, EventID, EventType, Payload, Metadata,
	// CreatedAt and the tracing ids are as appended, with defaults applied.
	AggregateType string
	AggregateID   string
	EventID       uuid.UUID
	EventType     string
	EventVersion  int
	Payload       []byte
	Metadata      []byte
	CreatedAt     time.Time
	TraceID       NullString
	CorrelationID NullString
	CausationID   NullString
	// AggregateVersion is the event's version within its aggregate: 1 for
	// the first event, contiguous after that.
	AggregateVersion int64
	// TransactionID identifies the transaction that appended the event: its
	// top-level PostgreSQL transaction id plus the log's order offset (see
	// Snapshot). Events of one transaction share it. Consumers compare it
	// with their cursor's snapshot to know whether they have delivered the
	// event. Its values mean something only within one database cluster.
	TransactionID int64
}

// Stream is the ordered history of one aggregate, or a window of it.
type Stream struct {
	AggregateType string
	AggregateID   string
	// Events are ordered by AggregateVersion, ascending.
	Events []PersistedEvent
	// Closed reports that the stream is closed, as the reading transaction
	// sees it: its last event is a tombstone (TombstoneEventType, see
	// StreamCloser), or its events were deleted. It accepts no more events.
	// A window that ends before the tombstone reports it all the same.
	Closed bool
	// Deleted reports that an operator deleted the stream's events
	// (StreamDeleter.DeleteStream): Events is then empty and Closed true.
	Deleted bool
}

// Version returns the aggregate version of the last event in the stream, or
// 0 when it holds none. For a full read that is the aggregate's current
// version, the value to pass to Exact on the next append.
func (s Stream) Version() int64 {
	if len(s.Events) == 0 {
		return 0
	}
	return s.Events[len(s.Events)-1].AggregateVersion
}

// IsEmpty reports whether the stream holds no events.
func (s Stream) IsEmpty() bool { return len(s.Events) == 0 }

// Len returns the number of events in the stream.
func (s Stream) Len() int { return len(s.Events) }

// AppendResult describes a successful append.
type AppendResult struct {
	// Events are the stored events in version order, with the versions,
	// positions and defaults the store assigned.
	Events []PersistedEvent
	// GlobalPositions are the events' global positions, in the same order.
	GlobalPositions []int64
}

// FromVersion returns the aggregate's version before the append: 0 for an
// append that created the aggregate, else the version of the event before
// the first appended one. The appended events hold the versions
// FromVersion()+1 to ToVersion(). It is 0 for a result without events.
func (r AppendResult) FromVersion() int64 {
	if len(r.Events) == 0 {
		return 0
	}
	return r.Events[0].AggregateVersion - 1
}

// ToVersion returns the aggregate's version after the append: the version of
// the last appended event, and the value to pass to Exact on the next
// append. It is 0 for a result without events.
func (r AppendResult) ToVersion() int64 {
	if len(r.Events) == 0 {
		return 0
	}
	return r.Events[len(r.Events)-1].AggregateVersion
}

// NullString is a string that may be absent. The zero value is absent.
type NullString struct {
	String string
	Valid  bool
}

// NewNullString returns a present NullString holding s (even when s is "").
func NewNullString(s string) NullString { return NullString{String: s, Valid: true} }

// Version returns a pointer to v, for the optional bounds of
// ReadAggregateStream: Version(3) means "version 3".
func Version(v int64) *int64 { return &v }
