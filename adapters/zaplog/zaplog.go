package zaplog

import (
	"context"

	"go.uber.org/zap"

	"github.com/chronicle-go/chronicle/core"
)

// Logger is a core.Logger writing to a *zap.Logger. Key-value pairs become
// zap fields, as with (*zap.SugaredLogger).Debugw. It is safe for
// concurrent use.
type Logger struct {
	sugar *zap.SugaredLogger
}

var _ core.Logger = (*Logger)(nil)

// New returns a Logger writing to l; nil means zap.NewNop(). The caller
// keeps ownership of l (and calls l.Sync on shutdown).
func New(l *zap.Logger) *Logger {
	if l == nil {
		l = zap.NewNop()
	}
	// Skip this adapter's frame so that callers, not zaplog.go, are reported.
	return &Logger{sugar: l.WithOptions(zap.AddCallerSkip(1)).Sugar()}
}

// Debug logs msg at debug level with keyvals as fields.
func (l *Logger) Debug(_ context.Context, msg string, keyvals ...any) {
	l.sugar.Debugw(msg, keyvals...)
}

// Info logs msg at info level with keyvals as fields.
func (l *Logger) Info(_ context.Context, msg string, keyvals ...any) { l.sugar.Infow(msg, keyvals...) }

// Error logs msg at error level with keyvals as fields.
func (l *Logger) Error(_ context.Context, msg string, keyvals ...any) {
	l.sugar.Errorw(msg, keyvals...)
}
