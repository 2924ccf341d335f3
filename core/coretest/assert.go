package coretest

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-go/chronicle/core"
	"github.com/google/uuid"
)

// checkStored compares what the store returned for an event with what was
// appended (want, with the store's defaults already applied by the caller)
// and the version the event should have.
func checkStored(t *testing.T, where string, got core.PersistedEvent, want core.Event, version int64) {
	t.Helper()
	if got.AggregateType != want.AggregateType || got.AggregateID != want.AggregateID {
		t.Errorf("%s: aggregate %s/%s, want %s/%s", where, got.AggregateType, got.AggregateID, want.AggregateType, want.AggregateID)
	}
	if got.EventID != want.EventID {
		t.Errorf("%s: EventID %s, want %s", where, got.EventID, want.EventID)
	}
	if got.EventType != want.EventType {
		t.Errorf("%s: EventType %q, want %q", where, got.EventType, want.EventType)
	}
	wantEV := want.EventVersion
	if wantEV == 0 {
		wantEV = 1
	}
	if got.EventVersion != wantEV {
		t.Errorf("%s: EventVersion %d, want %d", where, got.EventVersion, wantEV)
	}
	if !bytes.Equal(got.Payload, want.Payload) {
		t.Errorf("%s: Payload differs: %d bytes, want %d bytes", where, len(got.Payload), len(want.Payload))
	}
	checkMetadata(t, where, got.Metadata, want.Metadata)
	if !want.CreatedAt.IsZero() {
		wantAt := want.CreatedAt.UTC().Truncate(time.Microsecond)
		if !got.CreatedAt.Equal(wantAt) {
			t.Errorf("%s: CreatedAt %s, want %s", where, got.CreatedAt.Format(time.RFC3339Nano), wantAt.Format(time.RFC3339Nano))
		}
	}
	checkUTC(t, where, got.CreatedAt)
	checkNullString(t, where+": TraceID", got.TraceID, want.TraceID)
	checkNullString(t, where+": CorrelationID", got.CorrelationID, want.CorrelationID)
	checkNullString(t, where+": CausationID", got.CausationID, want.CausationID)
	if got.AggregateVersion != version {
		t.Errorf("%s: AggregateVersion %d, want %d", where, got.AggregateVersion, version)
	}
	if got.GlobalPosition < 1 {
		t.Errorf("%s: GlobalPosition %d, want >= 1", where, got.GlobalPosition)
	}
	if got.TransactionID < 1 {
		t.Errorf("%s: TransactionID %d, want >= 1", where, got.TransactionID)
	}
}

// checkSame compares two reads of one stored event, field by field.
func checkSame(t *testing.T, where string, got, want core.PersistedEvent) {
	t.Helper()
	gm, wm := got.Metadata, want.Metadata
	got.Metadata, want.Metadata = nil, nil
	gp, wp := got.Payload, want.Payload
	got.Payload, want.Payload = nil, nil
	gc, wc := got.CreatedAt, want.CreatedAt
	got.CreatedAt, want.CreatedAt = time.Time{}, time.Time{}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: event differs:\n got %+v\nwant %+v", where, got, want)
	}
	if !bytes.Equal(gp, wp) {
		t.Errorf("%s: Payload differs: %d bytes, want %d bytes", where, len(gp), len(wp))
	}
	if !gc.Equal(wc) {
		t.Errorf("%s: CreatedAt %s, want %s", where, gc.Format(time.RFC3339Nano), wc.Format(time.RFC3339Nano))
	}
	checkMetadata(t, where, gm, wm)
}

// checkMetadata compares metadata as JSON values: JSONB keeps the value, not
// the bytes (numbers come back normalised, 1e3 as 1000). Absent metadata
// must stay absent (nil), and present metadata present.
func checkMetadata(t *testing.T, where string, got, want []byte) {
	t.Helper()
	if len(want) == 0 {
		if got != nil {
			t.Errorf("%s: Metadata %q, want nil", where, got)
		}
		return
	}
	if got == nil {
		t.Errorf("%s: Metadata nil, want %s", where, want)
		return
	}
	g, err := decodeJSON(got)
	if err != nil {
		t.Errorf("%s: Metadata %q is not JSON: %v", where, got, err)
		return
	}
	w, err := decodeJSON(want)
	if err != nil {
		t.Fatalf("%s: the case's metadata %q is not JSON: %v", where, want, err)
	}
	if !sameJSON(g, w) {
		t.Errorf("%s: Metadata %s, want the JSON value %s", where, shorten(got), shorten(want))
	}
}

// decodeJSON decodes b keeping numbers as written, since jsonb holds
// numbers far beyond float64.
func decodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// sameJSON compares decoded JSON values, numbers by their decimal value.
func sameJSON(a, b any) bool {
	switch a := a.(type) {
	case json.Number:
		b, ok := b.(json.Number)
		return ok && sameNumber(a, b)
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !sameJSON(a[i], b[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			if w, ok := b[k]; !ok || !sameJSON(v, w) {
				return false
			}
		}
		return true
	default:
		return a == b
	}
}

// sameNumber compares two JSON numbers exactly: as rationals of the form
// mantissa × 10^exponent.
func sameNumber(a, b json.Number) bool {
	x, okx := new(big.Rat).SetString(normalExponent(string(a)))
	y, oky := new(big.Rat).SetString(normalExponent(string(b)))
	return okx && oky && x.Cmp(y) == 0
}

// normalExponent rewrites the JSON number n exactly as DIGITSeEXP, its
// significant digits without leading or trailing zeros: the same value
// written either way (jsonb returns 1e131071 as 131072 digits) then parses
// to the same rational without expanding long runs of zeros.
func normalExponent(n string) string {
	neg := strings.HasPrefix(n, "-")
	n = strings.TrimPrefix(n, "-")
	mant, exp := n, int64(0)
	if i := strings.IndexAny(n, "eE"); i >= 0 {
		mant = n[:i]
		e, err := strconv.ParseInt(strings.TrimPrefix(n[i+1:], "+"), 10, 64)
		if err != nil {
			return n
		}
		exp = e
	}
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		exp -= int64(len(mant) - i - 1)
		mant = mant[:i] + mant[i+1:]
	}
	mant = strings.TrimLeft(mant, "0")
	for strings.HasSuffix(mant, "0") {
		mant = mant[:len(mant)-1]
		exp++
	}
	if mant == "" {
		return "0"
	}
	if neg {
		mant = "-" + mant
	}
	return mant + "e" + strconv.FormatInt(exp, 10)
}

// shorten cuts long metadata for a message.
func shorten(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}

// checkNullString compares an optional string; an unset one reads back as
// the zero value whatever its String held.
func checkNullString(t *testing.T, where string, got, want core.NullString) {
	t.Helper()
	if !want.Valid {
		want.String = ""
	}
	if got != want {
		t.Errorf("%s: %+v, want %+v", where, got, want)
	}
}

func checkUTC(t *testing.T, where string, at time.Time) {
	t.Helper()
	if name, offset := at.Zone(); offset != 0 || name != "UTC" {
		t.Errorf("%s: CreatedAt %s is in zone %s, want UTC", where, at, name)
	}
}

// checkVersions asserts that events hold exactly the versions from..to, in
// order.
func checkVersions(t *testing.T, where string, events []core.PersistedEvent, from, to int64) {
	t.Helper()
	if int64(len(events)) != to-from+1 {
		t.Fatalf("%s: %d events, want versions %d..%d", where, len(events), from, to)
	}
	for i, ev := range events {
		if ev.AggregateVersion != from+int64(i) {
			t.Errorf("%s: event %d has version %d, want %d", where, i, ev.AggregateVersion, from+int64(i))
		}
	}
}

// checkIDs asserts that events are, in order, the events with the ids of want.
func checkIDs(t *testing.T, where string, events []core.PersistedEvent, want []core.Event) {
	t.Helper()
	if len(events) != len(want) {
		t.Fatalf("%s: %d events, want %d", where, len(events), len(want))
	}
	for i := range events {
		if events[i].EventID != want[i].EventID {
			t.Errorf("%s: event %d is %s, want %s", where, i, events[i].EventID, want[i].EventID)
		}
	}
}

// checkResult asserts an AppendResult's shape: the events in version order
// from..to, positions matching the events and strictly increasing, and
// FromVersion and ToVersion the aggregate's versions before (from-1) and
// after (to) the append.
func checkResult(t *testing.T, where string, res core.AppendResult, appended []core.Event, from int64) {
	t.Helper()
	to := from + int64(len(appended)) - 1
	if res.FromVersion() != from-1 || res.ToVersion() != to {
		t.Errorf("%s: FromVersion %d and ToVersion %d, want %d (the version before the append) and %d (after)",
			where, res.FromVersion(), res.ToVersion(), from-1, to)
	}
	checkVersions(t, where, res.Events, from, to)
	checkIDs(t, where, res.Events, appended)
	if len(res.GlobalPositions) != len(res.Events) {
		t.Fatalf("%s: %d global positions for %d events", where, len(res.GlobalPositions), len(res.Events))
	}
	for i, p := range res.GlobalPositions {
		if p != res.Events[i].GlobalPosition {
			t.Errorf("%s: GlobalPositions[%d] = %d, but Events[%d].GlobalPosition = %d", where, i, p, i, res.Events[i].GlobalPosition)
		}
		if i > 0 && p <= res.GlobalPositions[i-1] {
			t.Errorf("%s: GlobalPositions not strictly increasing: %v", where, res.GlobalPositions)
		}
	}
}

// checkPositionsRise asserts that GlobalPosition strictly increases along
// an aggregate's versions: writers of one aggregate serialise on its head,
// so a later version is inserted, and takes its position, later.
func checkPositionsRise(t *testing.T, where string, events []core.PersistedEvent) {
	t.Helper()
	for i := 1; i < len(events); i++ {
		p, c := events[i-1], events[i]
		if c.GlobalPosition <= p.GlobalPosition {
			t.Errorf("%s: GlobalPosition does not rise from %d (version %d) to %d (version %d)",
				where, p.GlobalPosition, p.AggregateVersion, c.GlobalPosition, c.AggregateVersion)
		}
	}
}

// checkOneWriter asserts that events, all appended by one transaction,
// share one TransactionID, and returns it.
func checkOneWriter(t *testing.T, where string, events []core.PersistedEvent) int64 {
	t.Helper()
	if len(events) == 0 {
		t.Fatalf("%s: no events", where)
	}
	id := events[0].TransactionID
	for _, ev := range events[1:] {
		if ev.TransactionID != id {
			t.Errorf("%s: version %d has TransactionID %d, version %d has %d: one transaction's events must share one",
				where, events[0].AggregateVersion, id, ev.AggregateVersion, ev.TransactionID)
		}
	}
	return id
}

// wantConflict asserts an optimistic concurrency error with its detail.
// actual < 0 skips the check of Actual.
func wantConflict(t *testing.T, where string, err error, a agg, expected core.ExpectedVersion, actual int64) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want a concurrency conflict (expected %s)", where, expected)
	}
	if !errors.Is(err, core.ErrOptimisticConcurrency) {
		t.Fatalf("%s: error %v is not ErrOptimisticConcurrency", where, err)
	}
	var ce *core.ConcurrencyError
	if !errors.As(err, &ce) {
		t.Fatalf("%s: error %v is not a *core.ConcurrencyError", where, err)
	}
	if ce.AggregateType != a.typ || ce.AggregateID != a.id {
		t.Errorf("%s: conflict names aggregate %s/%s, want %s", where, ce.AggregateType, ce.AggregateID, a)
	}
	if ce.Expected != expected {
		t.Errorf("%s: conflict's Expected is %s, want %s", where, ce.Expected, expected)
	}
	if actual >= 0 && ce.Actual != actual {
		t.Errorf("%s: conflict's Actual is %d, want %d", where, ce.Actual, actual)
	}
	for _, other := range []error{core.ErrDuplicateEvent, core.ErrInvalidEvent, core.ErrInvalidArgument} {
		if errors.Is(err, other) {
			t.Errorf("%s: conflict %v is also %v", where, err, other)
		}
	}
}

// wantInvalidEvent asserts a validation error naming the event and field.
func wantInvalidEvent(t *testing.T, where string, err error, index int, field string) *core.InvalidEventError {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want ErrInvalidEvent for event %d field %s", where, index, field)
	}
	if !errors.Is(err, core.ErrInvalidEvent) {
		t.Fatalf("%s: error %v is not ErrInvalidEvent", where, err)
	}
	var ie *core.InvalidEventError
	if !errors.As(err, &ie) {
		t.Fatalf("%s: error %v is not a *core.InvalidEventError", where, err)
	}
	if ie.Index != index || ie.Field != field {
		t.Errorf("%s: error names event %d field %q, want event %d field %q (%v)", where, ie.Index, ie.Field, index, field, err)
	}
	if ie.Reason == "" {
		t.Errorf("%s: error %v gives no reason", where, err)
	}
	if errors.Is(err, core.ErrOptimisticConcurrency) {
		t.Errorf("%s: validation error %v is also ErrOptimisticConcurrency", where, err)
	}
	return ie
}

// wantInvalidArgument asserts an ErrInvalidArgument error.
func wantInvalidArgument(t *testing.T, where string, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want ErrInvalidArgument", where)
	}
	if !errors.Is(err, core.ErrInvalidArgument) {
		t.Fatalf("%s: error %v is not ErrInvalidArgument", where, err)
	}
	var ae *core.InvalidArgumentError
	if !errors.As(err, &ae) {
		t.Errorf("%s: error %v is not a *core.InvalidArgumentError", where, err)
	}
}

// wantDuplicate asserts an ErrDuplicateEvent error for an append to a. When
// the error names an id it must be id; the Duplicates cases NamesTheEventID…
// require that it names one.
func wantDuplicate(t *testing.T, where string, err error, a agg, id uuid.UUID) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: no error, want ErrDuplicateEvent for %s", where, id)
	}
	if !errors.Is(err, core.ErrDuplicateEvent) {
		t.Fatalf("%s: error %v is not ErrDuplicateEvent", where, err)
	}
	var de *core.DuplicateEventError
	if !errors.As(err, &de) {
		t.Fatalf("%s: error %v is not a *core.DuplicateEventError", where, err)
	}
	if de.EventID != uuid.Nil && de.EventID != id {
		t.Errorf("%s: error names event id %s, want %s", where, de.EventID, id)
	}
	if de.AggregateType != a.typ || de.AggregateID != a.id {
		t.Errorf("%s: error names aggregate %s/%s, want %s", where, de.AggregateType, de.AggregateID, a)
	}
	if errors.Is(err, core.ErrOptimisticConcurrency) {
		t.Errorf("%s: duplicate %v is also ErrOptimisticConcurrency", where, err)
	}
}

// wantEmptyLog asserts, in a new transaction, that the store holds no
// events at all.
func (e *env[TX]) wantEmptyLog(where string) {
	e.t.Helper()
	x := e.begin("check")
	defer x.mustRollback()
	if p := x.mustLatest(); p != 0 {
		e.t.Errorf("%s: latest global position %d, want 0 (nothing written)", where, p)
	}
	if evs := x.mustEvents(0, 100); len(evs) != 0 {
		e.t.Errorf("%s: the log holds %d events, want none", where, len(evs))
	}
}

// wantStreamAt asserts, in a new transaction, that a's stream holds exactly
// the events of want in order, and that its head is at len(want): NoStream
// or Exact(len(want)) appends there, and nothing else does.
func (e *env[TX]) wantStreamAt(where string, a agg, want []core.Event) {
	e.t.Helper()
	x := e.begin("check")
	s := x.mustAll(a)
	checkIDs(e.t, where+": stream "+a.String(), s.Events, want)
	if s.Version() != int64(len(want)) {
		e.t.Errorf("%s: stream %s at version %d, want %d", where, a, s.Version(), len(want))
	}
	// The head's version shows in whether the right expectation matches.
	probe := a.event("Probe")
	res, err := x.append(core.Exact(int64(len(want))), probe)
	if err != nil {
		e.t.Errorf("%s: appending to %s with Exact(%d) after the failure: %v (the head moved)", where, a, len(want), err)
	} else if got := res.ToVersion(); got != int64(len(want))+1 {
		e.t.Errorf("%s: the probe got version %d, want %d", where, got, len(want)+1)
	}
	x.mustRollback()
}
