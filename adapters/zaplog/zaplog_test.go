package zaplog_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/chronicle-go/chronicle/adapters/zaplog"
)

func TestLoggerWritesLevelsAndFields(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	l := zaplog.New(zap.New(core))
	ctx := context.Background()
	l.Debug(ctx, "batch read", "consumer", "orders", "events", 3)
	l.Info(ctx, "started")
	l.Error(ctx, "handler failed", "error", errors.New("boom"))

	entries := logs.AllUntimed()
	if len(entries) != 3 {
		t.Fatalf("got %d entries, want 3", len(entries))
	}
	want := []struct {
		level zapcore.Level
		msg   string
	}{{zapcore.DebugLevel, "batch read"}, {zapcore.InfoLevel, "started"}, {zapcore.ErrorLevel, "handler failed"}}
	for i, w := range want {
		if entries[i].Level != w.level || entries[i].Message != w.msg {
			t.Errorf("entry %d = %v %q, want %v %q", i, entries[i].Level, entries[i].Message, w.level, w.msg)
		}
	}
	fields := entries[0].ContextMap()
	if fields["consumer"] != "orders" || fields["events"] != int64(3) {
		t.Errorf("fields = %v", fields)
	}
	if entries[2].ContextMap()["error"] != "boom" {
		t.Errorf("error field = %v", entries[2].ContextMap())
	}
}

// New(nil) is zap.NewNop(): it writes nowhere, neither to the process's
// standard streams (where zap's default loggers write) nor anywhere else.
func TestNewNilDiscards(t *testing.T) {
	out := captureStdStreams(t, func() {
		l := zaplog.New(nil) // a default logger would take the streams now
		if l == nil {
			t.Fatal("New(nil) = nil, want a Logger that discards")
		}
		ctx := context.Background()
		l.Debug(ctx, "discarded", "k", 1)
		l.Info(ctx, "discarded")
		l.Error(ctx, "discarded", "error", errors.New("boom"))
	})
	if out != "" {
		t.Errorf("New(nil) wrote %q, want nothing", out)
	}
}

// The adapter's own frame is skipped: entries name the caller's line.
func TestLoggerReportsTheCaller(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	zaplog.New(zap.New(core, zap.AddCaller())).Info(context.Background(), "here")
	entries := logs.AllUntimed()
	if len(entries) != 1 {
		t.Fatalf("got %d entries, want 1", len(entries))
	}
	if c := entries[0].Caller; !c.Defined || filepath.Base(c.File) != "zaplog_test.go" {
		t.Errorf("caller %v, want this test file, not the adapter", c)
	}
}

// captureStdStreams returns what fn writes to os.Stdout and os.Stderr.
func captureStdStreams(t *testing.T, fn func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = w, w
	defer func() { os.Stdout, os.Stderr = stdout, stderr }()
	read := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(r)
		read <- string(b)
	}()
	fn()
	os.Stdout, os.Stderr = stdout, stderr
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return <-read
}
