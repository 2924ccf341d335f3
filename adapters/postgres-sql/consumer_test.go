package pgsql

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-go/chronicle/core"
)

// Every parameter of the consumer statements is cast where it is used (the
// simple protocol infers no types), and the placeholders are 1..n without
// gaps, as the ConsumerQueries doc lists them.
func TestConsumerQueriesCastEveryParameter(t *testing.T) {
	q, err := NewConsumerQueries(DefaultNames(), "chronicle")
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		text   string
		params int
	}{
		"ClaimCheckpoint":        {q.ClaimCheckpoint, 1},
		"SaveCheckpoint":         {q.SaveCheckpoint, 9},
		"SetCheckpoint":          {q.SetCheckpoint, 3},
		"Checkpoints":            {q.Checkpoints, 0},
		"ConsumerBatch":          {q.ConsumerBatch, 3},
		"ConsumerBatchScoped":    {q.ConsumerBatchScoped, 4},
		"CountEventsAfter":       {q.CountEventsAfter, 2},
		"CountEventsAfterScoped": {q.CountEventsAfterScoped, 3},
		"Frontier":               {q.Frontier, 0},
		"FrontierHolders":        {q.FrontierHolders, 0},
		"TransactionOrder":       {q.TransactionOrder, 0},
		"RaiseOrderOffset":       {q.RaiseOrderOffset, 0},
		"Listen":                 {q.Listen, 0},
	} {
		seen := map[int]bool{}
		for _, m := range placeholder.FindAllStringSubmatch(c.text, -1) {
			if m[2] != "::" {
				t.Errorf("%s: $%s is not cast", name, m[1])
			}
			n, _ := strconv.Atoi(m[1])
			seen[n] = true
		}
		if len(seen) != c.params {
			t.Errorf("%s: parameters %v, want $1..$%d", name, seen, c.params)
		}
		for i := 1; i <= c.params; i++ {
			if !seen[i] {
				t.Errorf("%s: $%d is missing", name, i)
			}
		}
	}
}

// The cursor is always compared as a row value, which the index serves;
// the OR form would scan history.
func TestConsumerQueriesCompareTheCursorAsARowValue(t *testing.T) {
	q, err := NewConsumerQueries(DefaultNames(), "")
	if err != nil {
		t.Fatal(err)
	}
	for name, text := range map[string]string{"ConsumerBatch": q.ConsumerBatch, "ConsumerBatchScoped": q.ConsumerBatchScoped,
		"CountEventsAfter": q.CountEventsAfter, "CountEventsAfterScoped": q.CountEventsAfterScoped} {
		if !strings.Contains(text, "(transaction_order, global_position) > ($1::bigint, $2::bigint)") {
			t.Errorf("%s does not compare the cursor as a row value:\n%s", name, text)
		}
		if strings.Contains(strings.ToUpper(text), " OR ") {
			t.Errorf("%s has an OR:\n%s", name, text)
		}
	}
	if q.Listen != "" {
		t.Errorf("Listen without a channel: %q, want empty", q.Listen)
	}
}

func TestConsumerQueriesQuoteNames(t *testing.T) {
	n := DefaultNames()
	n.Schema, n.CheckpointsTable = "App", "Checkpoints"
	q, err := NewConsumerQueries(n, "Events_Channel")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(q.ClaimCheckpoint, `"App"."Checkpoints"`) {
		t.Errorf("ClaimCheckpoint does not use the quoted, qualified table:\n%s", q.ClaimCheckpoint)
	}
	if q.Listen != `LISTEN "Events_Channel"` {
		t.Errorf("Listen = %q", q.Listen)
	}
	if _, err := NewConsumerQueries(n, "bad channel"); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("bad channel: %v, want ErrInvalidConfig", err)
	}
	n.CheckpointsTable = `x"; DROP TABLE events; --`
	if _, err := NewConsumerQueries(n, ""); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("bad table: %v, want ErrInvalidConfig", err)
	}
}

func TestConsumerArgumentValidation(t *testing.T) {
	if err := ValidateConsumerName(""); !errors.Is(err, core.ErrInvalidArgument) {
		t.Errorf("empty name: %v", err)
	}
	if err := ValidateCursor(core.Cursor{TransactionOrder: -1}); !errors.Is(err, core.ErrInvalidArgument) {
		t.Errorf("negative cursor: %v", err)
	}
	if err := ValidateBatchLimit(0); !errors.Is(err, core.ErrInvalidArgument) {
		t.Errorf("limit 0: %v", err)
	}
	if err := ValidateCursor(core.Cursor{}); err != nil {
		t.Errorf("zero cursor: %v", err)
	}
}

func TestDBTime(t *testing.T) {
	if DBTime(time.Time{}) != nil {
		t.Error("zero time is not NULL")
	}
	at := time.Date(2030, 1, 2, 3, 4, 5, 6789, time.FixedZone("X", 3600))
	if got := DBTime(at).(time.Time); !got.Equal(at.Truncate(time.Microsecond)) || got.Location() != time.UTC {
		t.Errorf("DBTime = %v", got)
	}
}

func TestConsumerErrorWrapsTheContextsError(t *testing.T) {
	cause := errors.New("pq: canceling statement due to user request")
	ctx, cancel := context.WithCancel(context.Background())
	if err := ConsumerError(ctx, "doing x", cause); err.Error() != "error doing x: "+cause.Error() || errors.Is(err, context.Canceled) {
		t.Errorf("live context: %v", err)
	}
	cancel()
	err := ConsumerError(ctx, "doing x", cause)
	if !errors.Is(err, context.Canceled) || !errors.Is(err, cause) {
		t.Errorf("cancelled context: %v wraps neither", err)
	}
	if err := ConsumerError(ctx, "doing x", context.Canceled); err.Error() != "error doing x: context canceled" {
		t.Errorf("the context's own error wrapped twice: %v", err)
	}
}
