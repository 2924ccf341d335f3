package core

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// PrepareEvents validates a batch for Append and returns a copy with the
// defaults applied. Every adapter calls it before any I/O, so a bad batch is
// rejected the same way everywhere and nothing is written.
//
// Rules: at least one event (ErrNoEvents); every event of one aggregate
// (AggregateType and AggregateID of the first); non-empty AggregateType,
// AggregateID and EventType; EventID not uuid.Nil and unique within the
// batch (a repeat is both ErrInvalidEvent and ErrDuplicateEvent);
// EventVersion >= 0 and within 32 bits; Metadata empty or JSON that
// PostgreSQL's jsonb stores (below); text fields valid UTF-8 without NUL
// bytes, since PostgreSQL text cannot hold them. Violations are
// *InvalidEventError values naming the event index and field. Payload is
// stored as bytes and not checked.
//
// Metadata is exactly as strict as jsonb: valid UTF-8 and valid JSON
// (RFC 8259, as json.Valid checks it), and besides none of what jsonb_in
// rejects in valid JSON — a \u0000 escape, a \u escape of a UTF-16
// surrogate that is not a high one directly followed by a low one (a pair
// is fine), and a number outside numeric's range: an exponent of 2^30-1
// (1073741823) or more in absolute value, more than 131072 digits before
// the decimal point, or a display scale (the digits after the point as
// written, less the exponent) above 16383. One limit is not PostgreSQL's:
// json.Valid rejects nesting deeper than 10000 levels, where jsonb's limit
// depends on the server's max_stack_depth (above 10000 at its default of
// 2MB). jsonb's size limits (256 MiB per string or container) are not
// checked.
//
// Defaults: EventVersion 0 becomes 1; a zero CreatedAt becomes now; CreatedAt
// is converted to UTC and truncated to microseconds (PostgreSQL's
// precision); empty Metadata becomes nil (stored as NULL).
//
// EventType TombstoneEventType is reserved: only Tombstone writes it, as
// the stream's last event.
func PrepareEvents(events []Event, now time.Time) ([]Event, error) {
	return prepareEvents(events, now, false)
}

// prepareEvents is PrepareEvents; tombstone allows TombstoneEventType.
func prepareEvents(events []Event, now time.Time, tombstone bool) ([]Event, error) {
	if len(events) == 0 {
		return nil, &InvalidEventError{Index: -1, Field: "events", Reason: "at least one event is required", Err: ErrNoEvents}
	}
	first := events[0]
	out := make([]Event, len(events))
	now = now.UTC().Truncate(time.Microsecond)
	var seen map[uuid.UUID]int // only for batches too large for a linear scan
	if len(events) > smallBatch {
		seen = make(map[uuid.UUID]int, len(events))
	}
	for i := range events {
		e := events[i]
		if err := validateEvent(i, &e, &first); err != nil {
			return nil, err
		}
		if e.EventType == TombstoneEventType && !tombstone {
			return nil, &InvalidEventError{Index: i, Field: "EventType", Reason: strconv.Quote(TombstoneEventType) +
				" is reserved for the event that closes a stream: end the stream with Tombstone instead"}
		}
		if j := indexOfID(out[:i], seen, e.EventID); j >= 0 {
			return nil, &InvalidEventError{Index: i, Field: "EventID", Reason: "repeats the id of event " + strconv.Itoa(j) + " in the batch",
				Err: &DuplicateEventError{EventID: e.EventID, AggregateType: e.AggregateType, AggregateID: e.AggregateID}}
		}
		if seen != nil {
			seen[e.EventID] = i
		}
		if e.EventVersion == 0 {
			e.EventVersion = 1
		}
		if e.CreatedAt.IsZero() {
			e.CreatedAt = now
		} else {
			e.CreatedAt = e.CreatedAt.UTC().Truncate(time.Microsecond)
		}
		if len(e.Metadata) == 0 {
			e.Metadata = nil
		}
		out[i] = e
	}
	return out, nil
}

const smallBatch = 32

func indexOfID(prev []Event, seen map[uuid.UUID]int, id uuid.UUID) int {
	if seen != nil {
		if j, ok := seen[id]; ok {
			return j
		}
		return -1
	}
	for j := range prev {
		if prev[j].EventID == id {
			return j
		}
	}
	return -1
}

func validateEvent(i int, e, first *Event) error {
	if err := validateText(i, "AggregateType", e.AggregateType, true); err != nil {
		return err
	}
	if err := validateText(i, "AggregateID", e.AggregateID, true); err != nil {
		return err
	}
	if err := validateText(i, "EventType", e.EventType, true); err != nil {
		return err
	}
	if i > 0 && (e.AggregateType != first.AggregateType || e.AggregateID != first.AggregateID) {
		field := "AggregateID"
		if e.AggregateType != first.AggregateType {
			field = "AggregateType"
		}
		return &InvalidEventError{Index: i, Field: field, Reason: "all events of one append must belong to one aggregate: got " +
			strconv.Quote(e.AggregateType+"/"+e.AggregateID) + ", batch is for " + strconv.Quote(first.AggregateType+"/"+first.AggregateID)}
	}
	if e.EventID == uuid.Nil {
		return &InvalidEventError{Index: i, Field: "EventID", Reason: "must not be the nil UUID"}
	}
	if e.EventVersion < 0 {
		return &InvalidEventError{Index: i, Field: "EventVersion", Reason: "must be >= 1 (0 means 1), got " + strconv.Itoa(e.EventVersion)}
	}
	if e.EventVersion > 1<<31-1 {
		return &InvalidEventError{Index: i, Field: "EventVersion", Reason: "must fit in 32 bits, got " + strconv.Itoa(e.EventVersion)}
	}
	if err := validateMetadata(i, e.Metadata); err != nil {
		return err
	}
	for _, f := range [...]struct {
		name string
		v    NullString
	}{{"TraceID", e.TraceID}, {"CorrelationID", e.CorrelationID}, {"CausationID", e.CausationID}} {
		if f.v.Valid {
			if err := validateText(i, f.name, f.v.String, false); err != nil {
				return err
			}
		}
	}
	return nil
}

func validateText(i int, field, s string, required bool) error {
	switch {
	case required && s == "":
		return &InvalidEventError{Index: i, Field: field, Reason: "must not be empty"}
	case strings.IndexByte(s, 0) >= 0:
		return &InvalidEventError{Index: i, Field: field, Reason: "must not contain NUL bytes"}
	case !utf8.ValidString(s):
		return &InvalidEventError{Index: i, Field: field, Reason: "must be valid UTF-8"}
	}
	return nil
}

func validateMetadata(i int, m []byte) error {
	if len(m) == 0 {
		return nil
	}
	if !utf8.Valid(m) {
		return &InvalidEventError{Index: i, Field: "Metadata", Reason: "must be valid UTF-8"}
	}
	if !json.Valid(m) {
		var v any
		err := json.Unmarshal(m, &v)
		return &InvalidEventError{Index: i, Field: "Metadata", Reason: "must be valid JSON", Err: err}
	}
	// Valid JSON that jsonb still rejects: see jsonbProblem.
	if problem := jsonbProblem(m); problem != "" {
		return &InvalidEventError{Index: i, Field: "Metadata", Reason: "must be JSON that PostgreSQL's jsonb can store: " + problem}
	}
	return nil
}

// ValidateConsumerName checks a consumer's name, the key of its checkpoint:
// not empty, valid UTF-8 and free of NUL bytes, since PostgreSQL stores it
// as text, which cannot hold those. It returns an *InvalidArgumentError
// (Argument "consumer") or nil. The consumer runtime and the stores call it
// before any I/O, so a bad name fails the same way on every adapter.
func ValidateConsumerName(name string) error {
	return argumentText("consumer", "the consumer name", name)
}

// argumentText checks a value stored as PostgreSQL text: not empty, free of
// NUL bytes, valid UTF-8. It returns an *InvalidArgumentError for argument
// naming the value as what, or nil.
func argumentText(argument, what, s string) error {
	switch {
	case s == "":
		return &InvalidArgumentError{Argument: argument, Reason: what + " must not be empty"}
	case strings.IndexByte(s, 0) >= 0:
		return &InvalidArgumentError{Argument: argument, Reason: fmt.Sprintf("%s %q must not contain NUL bytes (PostgreSQL text cannot hold them)", what, s)}
	case !utf8.ValidString(s):
		return &InvalidArgumentError{Argument: argument, Reason: fmt.Sprintf("%s %q must be valid UTF-8", what, s)}
	}
	return nil
}

// ValidateOwner checks a processor's owner, the key of its presence (see
// ConsumerStore.HoldPresence): not empty, valid UTF-8 and free of NUL
// bytes, since PostgreSQL stores it as text. It returns an
// *InvalidArgumentError (Argument "owner") or nil.
func ValidateOwner(owner string) error {
	return argumentText("owner", "the owner", owner)
}

// ValidateReadLimit checks ReadEvents' arguments: fromPosition >= 0 and
// limit >= 1. Adapters call it so that every store rejects the same input.
func ValidateReadLimit(fromPosition int64, limit int) error {
	if fromPosition < 0 {
		return &InvalidArgumentError{Argument: "fromPosition", Reason: "must be >= 0, got " + strconv.FormatInt(fromPosition, 10)}
	}
	if limit < 1 {
		return &InvalidArgumentError{Argument: "limit", Reason: "must be >= 1, got " + strconv.Itoa(limit)}
	}
	return nil
}

// ValidateVersionBounds checks ReadAggregateStream's optional bounds: each
// >= 1 when set, and fromVersion <= toVersion when both are set.
func ValidateVersionBounds(fromVersion, toVersion *int64) error {
	if fromVersion != nil && *fromVersion < 1 {
		return &InvalidArgumentError{Argument: "fromVersion", Reason: "must be >= 1 when set, got " + strconv.FormatInt(*fromVersion, 10)}
	}
	if toVersion != nil && *toVersion < 1 {
		return &InvalidArgumentError{Argument: "toVersion", Reason: "must be >= 1 when set, got " + strconv.FormatInt(*toVersion, 10)}
	}
	if fromVersion != nil && toVersion != nil && *fromVersion > *toVersion {
		return &InvalidArgumentError{Argument: "fromVersion", Reason: "fromVersion " + strconv.FormatInt(*fromVersion, 10) +
			" is greater than toVersion " + strconv.FormatInt(*toVersion, 10)}
	}
	return nil
}
