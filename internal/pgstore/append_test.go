package pgstore

import (
	"testing"

	"github.com/chronicle-go/chronicle/core"
	"github.com/google/uuid"
)

func TestExpectedParam(t *testing.T) {
	cases := map[core.ExpectedVersion]int64{
		core.Any(): -1, core.NoStream(): 0, core.Exact(0): 0, core.StreamExists(): -2, core.Exact(1): 1, core.Exact(42): 42,
	}
	for e, want := range cases {
		if got := expectedParam(e); got != want {
			t.Errorf("expectedParam(%s) = %d, want %d", e, got, want)
		}
	}
}

func TestAppendOutcome(t *testing.T) {
	events := []core.Event{
		{AggregateType: "A", AggregateID: "1", EventID: uuid.New(), EventType: "X", Payload: []byte("p"), TraceID: core.NullString{String: "dropped"}},
		{AggregateType: "A", AggregateID: "1", EventID: uuid.New(), EventType: "Y"},
	}
	res, conflict, _, err := appendOutcome(events, []appendRow{{7, 3, 100}, {8, 4, 100}})
	if err != nil || conflict {
		t.Fatalf("success rows: conflict %v, err %v", conflict, err)
	}
	if res.Events[0].AggregateVersion != 3 || res.ToVersion() != 4 || res.GlobalPositions[1] != 8 || res.Events[0].TransactionID != 100 {
		t.Errorf("result %+v", res)
	}
	if res.Events[0].TraceID != (core.NullString{}) {
		t.Errorf("absent TraceID kept its string: %+v", res.Events[0].TraceID)
	}
	events[0].Payload[0] = 'q'
	if string(res.Events[0].Payload) != "p" {
		t.Error("result shares the caller's payload buffer")
	}
	_, conflict, actual, err := appendOutcome(events, []appendRow{{0, 5, 0}})
	if err != nil || !conflict || actual != 5 {
		t.Errorf("conflict row: conflict %v actual %d err %v", conflict, actual, err)
	}
	if _, _, _, err := appendOutcome(events, []appendRow{{7, 3, 100}}); err == nil {
		t.Error("a short result was accepted")
	}
}
