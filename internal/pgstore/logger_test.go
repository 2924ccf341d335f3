package pgstore

import (
	"bytes"
	"context"
	"log/slog"
	"testing"
)

func TestLoggerOrDiscard(t *testing.T) {
	if l := LoggerOrDiscard(nil); l == nil || l.Enabled(context.Background(), slog.LevelError) {
		t.Error("LoggerOrDiscard(nil) is not a logger that logs nothing")
	}
	var buf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&buf, nil))
	if LoggerOrDiscard(l) != l {
		t.Error("LoggerOrDiscard does not return the logger it was given")
	}
	for _, cfg := range []Config{{Names: DefaultNames()}, {Names: DefaultNames(), Logger: l}} {
		s, err := NewStore[*tx](cfg, nothing{})
		if err != nil {
			t.Fatal(err)
		}
		if want := LoggerOrDiscard(cfg.Logger); s.logger != want {
			t.Errorf("NewStore with Logger %v: the store logs to %v", cfg.Logger, s.logger)
		}
	}
}
