package pgsql

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chronicle-go/chronicle/core"
	"github.com/google/uuid"
)

var placeholder = regexp.MustCompile(`\$(\d+)(::)?`)

// Every parameter is cast where it is used, so the simple protocol (which
// infers no types) sees typed literals, and the placeholders are
// 1..n without gaps, as the Queries doc lists them.
func TestQueriesCastEveryParameter(t *testing.T) {
	for _, enc := range []PayloadEncoding{PayloadArray, PayloadPacked} {
		for _, channel := range []string{"", "chronicle"} {
			q, err := NewQueries(DefaultNames(), channel, enc)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]int{"Append": 13, "ReadStream": 4, "ReadEvents": 2, "LatestPosition": 0, "CurrentVersion": 2}
			if enc == PayloadPacked {
				want["Append"] = 15
			}
			if channel != "" {
				want["Append"]++
			}
			for name, text := range map[string]string{"Append": q.Append, "ReadStream": q.ReadStream, "ReadEvents": q.ReadEvents,
				"LatestPosition": q.LatestPosition, "CurrentVersion": q.CurrentVersion} {
				max := 0
				for _, m := range placeholder.FindAllStringSubmatch(text, -1) {
					if m[2] != "::" {
						t.Errorf("%s (encoding %d, channel %q): $%s is not cast", name, enc, channel, m[1])
					}
					n, _ := strconv.Atoi(m[1])
					max = maxInt(max, n)
				}
				if max != want[name] {
					t.Errorf("%s (encoding %d, channel %q): %d parameters, want %d", name, enc, channel, max, want[name])
				}
			}
			if hasNotify := strings.Contains(q.Append, "pg_notify"); hasNotify != (channel != "") {
				t.Errorf("channel %q: pg_notify present = %v", channel, hasNotify)
			}
		}
	}
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

func TestQueriesUseQualifiedNames(t *testing.T) {
	n := Names{Schema: "S", EventsTable: "E", AggregateHeadsTable: "H", CheckpointsTable: "C", OrderOffsetTable: "O"}
	q, err := NewQueries(n, "", PayloadArray)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"S"."E"`, `"S"."H"`, `"S"."O"`} {
		if !strings.Contains(q.Append, want) {
			t.Errorf("Append does not use %s", want)
		}
	}
	if !strings.Contains(q.ReadStream, `FROM "S"."E"`) || !strings.Contains(q.ReadEvents, `FROM "S"."E"`) || !strings.Contains(q.LatestPosition, `"S"."E"`) {
		t.Error("reads do not use the events table")
	}
	if _, err := NewQueries(n, "bad channel", PayloadArray); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("bad channel: %v", err)
	}
}

func TestExpectedParam(t *testing.T) {
	cases := map[core.ExpectedVersion]int64{
		core.Any(): -1, core.NoStream(): 0, core.Exact(0): 0, core.StreamExists(): -2, core.Exact(1): 1, core.Exact(42): 42,
	}
	for e, want := range cases {
		if got := ExpectedParam(e); got != want {
			t.Errorf("ExpectedParam(%s) = %d, want %d", e, got, want)
		}
	}
}

func TestAppendOutcome(t *testing.T) {
	events := []core.Event{
		{AggregateType: "A", AggregateID: "1", EventID: uuid.New(), EventType: "X", Payload: []byte("p"), TraceID: core.NullString{String: "dropped"}},
		{AggregateType: "A", AggregateID: "1", EventID: uuid.New(), EventType: "Y"},
	}
	res, conflict, _, err := AppendOutcome(events, []AppendRow{{7, 3, 100}, {8, 4, 100}})
	if err != nil || conflict {
		t.Fatalf("success rows: conflict %v, err %v", conflict, err)
	}
	if res.FromVersion() != 3 || res.ToVersion() != 4 || res.GlobalPositions[1] != 8 || res.Events[0].TransactionOrder != 100 {
		t.Errorf("result %+v", res)
	}
	if res.Events[0].TraceID != (core.NullString{}) {
		t.Errorf("absent TraceID kept its string: %+v", res.Events[0].TraceID)
	}
	events[0].Payload[0] = 'q'
	if string(res.Events[0].Payload) != "p" {
		t.Error("result shares the caller's payload buffer")
	}
	_, conflict, actual, err := AppendOutcome(events, []AppendRow{{0, 5, 0}})
	if err != nil || !conflict || actual != 5 {
		t.Errorf("conflict row: conflict %v actual %d err %v", conflict, actual, err)
	}
	if _, _, _, err := AppendOutcome(events, []AppendRow{{7, 3, 100}}); err == nil {
		t.Error("a short result was accepted")
	}
}

func TestAppendError(t *testing.T) {
	c := DefaultNames().Constraints()
	events := []core.Event{{AggregateType: "A", AggregateID: "1"}}
	cause := errors.New("driver error")
	cases := []struct {
		db                            DatabaseError
		conflict, duplicate, canceled bool
	}{
		{DatabaseError{Code: UniqueViolation, Constraint: c.EventID}, false, true, false},
		{DatabaseError{Code: UniqueViolation, Constraint: c.AggregateVersion}, true, false, false},
		{DatabaseError{Code: UniqueViolation, Constraint: "other_key"}, false, false, false},
		{DatabaseError{Code: SerializationFailure}, true, false, false},
		{DatabaseError{Code: DeadlockDetected}, true, false, false},
		{DatabaseError{Code: "57014"}, false, false, true},
		{DatabaseError{}, false, false, false},
	}
	for _, tc := range cases {
		err := AppendError(context.Background(), cause, tc.db, c, events, core.Any())
		if errors.Is(err, core.ErrOptimisticConcurrency) != tc.conflict || errors.Is(err, core.ErrDuplicateEvent) != tc.duplicate ||
			errors.Is(err, core.ErrQueryCanceled) != tc.canceled {
			t.Errorf("%+v: %v", tc.db, err)
		}
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%+v: a live context's error reported: %v", tc.db, err)
		}
		if !errors.Is(err, cause) {
			t.Errorf("%+v: the driver's error is not kept: %v", tc.db, err)
		}
	}
}

// TestAppendErrorNamesTheEndedContext: whatever the driver reported for a
// statement cut short by the caller's context, the error says so.
func TestAppendErrorNamesTheEndedContext(t *testing.T) {
	c := DefaultNames().Constraints()
	events := []core.Event{{AggregateType: "A", AggregateID: "1"}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, db := range []DatabaseError{{Code: QueryCanceled}, {}, {TxDone: true}} {
		cause := errors.New("driver error")
		err := AppendError(ctx, cause, db, c, events, core.Any())
		if !errors.Is(err, context.Canceled) || !errors.Is(err, cause) {
			t.Errorf("%+v: %v does not wrap context.Canceled and the driver's error", db, err)
		}
	}
	err := AppendError(ctx, context.Canceled, DatabaseError{}, c, events, core.Any())
	if got := strings.Count(err.Error(), context.Canceled.Error()); got != 1 {
		t.Errorf("context error named %d times: %v", got, err)
	}
}
