package pgstore

import (
	"errors"
	"fmt"

	"github.com/chronicle-go/chronicle/core"
)

// Values of the Append statement's expected-version parameter ($3). Exact(n)
// is n itself (n >= 1).
const (
	expectedAny          int64 = -1
	expectedNoStream     int64 = 0
	expectedStreamExists int64 = -2
)

// expectedParam encodes an expected version for the Append statement: -1
// Any, 0 NoStream (and Exact(0)), -2 StreamExists, n for Exact(n). Callers
// have checked expected.Validate(), so n is never negative.
func expectedParam(expected core.ExpectedVersion) int64 {
	if n, ok := expected.ExactVersion(); ok {
		return n
	}
	switch {
	case expected.IsNoStream():
		return expectedNoStream
	case expected.IsStreamExists():
		return expectedStreamExists
	default:
		return expectedAny
	}
}

// The global_position of the Append statement's single row for a closed
// and for a deleted stream (see sql/append.sql).
const (
	closedStream  int64 = -2
	deletedStream int64 = -3
)

// appendRow is one row the Append statement returns.
type appendRow struct {
	GlobalPosition   int64
	AggregateVersion int64
	TransactionID    int64
}

// errMoved: the Append statement found the log moved into another cluster
// and wrote nothing (see sql/append.sql); the caller reads the order status
// for the error.
var errMoved = errors.New("transaction order moved")

// appendOutcome reads the Append statement's rows for the prepared batch
// events. On success it returns the result and conflict false. When the
// statement reported a conflict it returns conflict true and the actual
// version the statement saw; the caller then builds the error with
// conflictError (after re-reading the version if that one still matches the
// expectation, see sql/current_version.sql). A moved log is errMoved. Any
// other shape of result is an error.
//
// A closed or deleted stream is a *core.StreamClosedError.
func appendOutcome(events []core.Event, rows []appendRow) (result core.AppendResult, conflict bool, actual int64, err error) {
	if len(rows) == 1 && rows[0].GlobalPosition == 0 {
		return core.AppendResult{}, true, rows[0].AggregateVersion, nil
	}
	if len(rows) == 1 && (rows[0].GlobalPosition == closedStream || rows[0].GlobalPosition == deletedStream) {
		return core.AppendResult{}, false, 0, &core.StreamClosedError{AggregateType: events[0].AggregateType, AggregateID: events[0].AggregateID,
			Version: rows[0].AggregateVersion, Deleted: rows[0].GlobalPosition == deletedStream}
	}
	if len(rows) == 1 && rows[0].GlobalPosition == -1 {
		return core.AppendResult{}, false, 0, errMoved
	}
	if len(rows) != len(events) {
		return core.AppendResult{}, false, 0, fmt.Errorf("error appending to aggregate %s/%s: the statement returned %d rows for %d events",
			events[0].AggregateType, events[0].AggregateID, len(rows), len(events))
	}
	result.Events = make([]core.PersistedEvent, len(events))
	result.GlobalPositions = make([]int64, len(events))
	for i, e := range events {
		r := rows[i]
		result.Events[i] = core.PersistedEvent{
			GlobalPosition:   r.GlobalPosition,
			AggregateType:    e.AggregateType,
			AggregateID:      e.AggregateID,
			EventID:          e.EventID,
			EventType:        e.EventType,
			EventVersion:     e.EventVersion,
			Payload:          clone(e.Payload),
			Metadata:         clone(e.Metadata),
			CreatedAt:        e.CreatedAt,
			TraceID:          present(e.TraceID),
			CorrelationID:    present(e.CorrelationID),
			CausationID:      present(e.CausationID),
			AggregateVersion: r.AggregateVersion,
			TransactionID:    r.TransactionID,
		}
		result.GlobalPositions[i] = r.GlobalPosition
	}
	return result, false, 0, nil
}

// clone copies b so that the result does not share the caller's buffers;
// nil stays nil and an empty payload stays empty.
func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}

// present drops the String of an absent NullString, as a read would.
func present(s core.NullString) core.NullString {
	if !s.Valid {
		return core.NullString{}
	}
	return s
}

// conflictError returns the *core.ConcurrencyError for a version conflict
// on the batch's aggregate. cause is the driver's error when the database
// reported the conflict (actual is then -1, unknown), else nil.
func conflictError(events []core.Event, expected core.ExpectedVersion, actual int64, cause error) error {
	return &core.ConcurrencyError{
		AggregateType: events[0].AggregateType,
		AggregateID:   events[0].AggregateID,
		Expected:      expected,
		Actual:        actual,
		Err:           cause,
	}
}
