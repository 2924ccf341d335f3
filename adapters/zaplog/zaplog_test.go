package zaplog_test

import (
	"context"
	"errors"
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

func TestNewNilIsNop(t *testing.T) {
	zaplog.New(nil).Info(context.Background(), "discarded")
}
