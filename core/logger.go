package core

import (
	"context"
	"log/slog"
)

// Logger receives Chronicle's diagnostic messages. keyvals alternate keys
// (strings) and values, as in log/slog. Implementations must be safe for
// concurrent use.
type Logger interface {
	Debug(ctx context.Context, msg string, keyvals ...any)
	Info(ctx context.Context, msg string, keyvals ...any)
	Error(ctx context.Context, msg string, keyvals ...any)
}

// NoOpLogger discards everything. It is the default logger.
type NoOpLogger struct{}

// Debug does nothing.
func (NoOpLogger) Debug(context.Context, string, ...any) {}

// Info does nothing.
func (NoOpLogger) Info(context.Context, string, ...any) {}

// Error does nothing.
func (NoOpLogger) Error(context.Context, string, ...any) {}

// SlogLogger adapts a *slog.Logger to Logger.
type SlogLogger struct {
	logger *slog.Logger
}

// NewSlogLogger returns a Logger that writes to l; nil means slog.Default().
func NewSlogLogger(l *slog.Logger) *SlogLogger {
	if l == nil {
		l = slog.Default()
	}
	return &SlogLogger{logger: l}
}

// Debug logs at slog.LevelDebug.
func (s *SlogLogger) Debug(ctx context.Context, msg string, keyvals ...any) {
	s.logger.DebugContext(ctx, msg, keyvals...)
}

// Info logs at slog.LevelInfo.
func (s *SlogLogger) Info(ctx context.Context, msg string, keyvals ...any) {
	s.logger.InfoContext(ctx, msg, keyvals...)
}

// Error logs at slog.LevelError.
func (s *SlogLogger) Error(ctx context.Context, msg string, keyvals ...any) {
	s.logger.ErrorContext(ctx, msg, keyvals...)
}
