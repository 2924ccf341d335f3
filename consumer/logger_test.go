package consumer_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/chronicle-go/chronicle/adapters/memory"
	"github.com/chronicle-go/chronicle/consumer"
	"github.com/chronicle-go/chronicle/core"
)

// TestLoggerReceivesHandlerFailures checks that Config.Logger gets a failed
// batch at error level, with the consumer's name and the error as attributes.
func TestLoggerReceivesHandlerFailures(t *testing.T) {
	store := memory.NewStore()
	appendEvents(t, store, "Order", "o-1", 2)
	proj := newProjection("flaky")
	failed := false
	proj.fail = func(e core.PersistedEvent) error {
		if e.AggregateVersion == 2 && !failed {
			failed = true
			return errors.New("transient")
		}
		return nil
	}
	var buf bytes.Buffer // written on the processor's goroutine; read after stop
	logger := slog.New(slog.NewTextHandler(&buf, nil))
	stop := run(t, newProcessor(t, store, consumer.Config{Logger: logger}, proj))
	proj.waitFor(t, "two events", count(2))
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	want := `level=ERROR msg="consumer handler failed; batch rolled back" consumer=flaky`
	if out := buf.String(); !strings.Contains(out, want) || !strings.Contains(out, "transient") {
		t.Errorf("the log %q lacks %q with the handler's error", out, want)
	}
}
