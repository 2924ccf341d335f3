package pgstore

import "log/slog"

// discard logs nothing: the logger of a Config or Listening without one.
var discard = slog.New(slog.DiscardHandler)

// LoggerOrDiscard returns l, or for a nil l a logger that logs nothing, so
// that callers log without checking for nil.
func LoggerOrDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return discard
	}
	return l
}
