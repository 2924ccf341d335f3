package consumer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/chronicle-go/chronicle/core"
)

// discard logs nothing: the logger of a Config without one.
var discard = slog.New(slog.DiscardHandler)

// Config tunes a Processor. Zero values mean the defaults stated per field.
type Config struct {
	// BatchSize is the most events handled in one transaction. Default 100.
	BatchSize int
	// PollInterval bounds how long an idle consumer waits before looking
	// for new events when no notification arrives. Default 1s.
	PollInterval time.Duration
	// InitialBackoff is the wait after the first failed batch; it doubles
	// with each further failure up to MaxBackoff. Default 100ms.
	InitialBackoff time.Duration
	// MaxBackoff caps the wait between retries. Default 30s.
	MaxBackoff time.Duration
	// MaxAttempts is how many consecutive failed batches stop a consumer
	// (its error stays recorded with its checkpoint; other consumers go on;
	// the next Run retries it). Default 10; negative means never stop.
	MaxAttempts int
	// Logger receives the processor's diagnostics: failed, retried and
	// stopped batches and notification listening failures at error level,
	// other events at info and debug level. Default (nil): no logs.
	Logger *slog.Logger
	// Owner identifies this process in checkpoints and status. Default
	// "hostname/pid". While Run runs, the processor holds the owner's
	// presence (core.ConsumerStore.HoldPresence: on PostgreSQL a session
	// of its own), so that Status tells a running owner from one that is
	// gone; valid UTF-8 without NUL bytes.
	Owner string
	// OnBatch, when set, is called after each committed batch that handled
	// events or moved the cursor. It runs on the consumer's goroutine: keep
	// it fast. Meant for metrics and tests.
	OnBatch func(BatchReport)
	// OnStop, when set, is called when a consumer stops after MaxAttempts
	// failures, with its last error.
	OnStop func(consumer string, err error)
	// StuckAfter is how long a consumer may go without progress while
	// something holds it back — a batch still running, or batches that
	// deliver nothing while a writer has appended and not committed —
	// before Processor.Health reports it stuck. Default 1m.
	StuckAfter time.Duration
	// OnBatchStart, when set, is called in each batch that read events,
	// after the read and before the first Handle, on the consumer's
	// goroutine. The context it returns (derived from ctx) is the one the
	// batch's Handle calls and its checkpoint save receive; end, when not
	// nil, is called once the batch transaction has committed or rolled
	// back. Batches that read nothing (idle polls) do not call it. Meant for
	// tracing: a span per batch, parent of the Handle spans (package
	// github.com/chronicle-go/chronicle/otel uses it). Default: none.
	OnBatchStart func(ctx context.Context, batch BatchStart) (_ context.Context, end func(BatchEnd))
}

// BatchStart describes a batch that read events and is about to handle
// them (see Config.OnBatchStart).
type BatchStart struct {
	// Consumer is the consumer's Name().
	Consumer string
	// Events is how many events the batch read and will hand to Handle.
	Events int
	// From is the cursor the batch read after.
	From core.Cursor
	// Started is when the batch began, before its transaction: the read
	// and the claim of the checkpoint lie between Started and the call.
	Started time.Time
}

// BatchEnd describes how a batch that called Config.OnBatchStart ended.
type BatchEnd struct {
	// Err is nil when the batch committed, else why it rolled back.
	Err error
	// HandlerFailed reports whether Err is the error (or panic) of the
	// consumer's Handle; false for a failed checkpoint save or commit.
	HandlerFailed bool
}

// BatchReport describes a committed batch.
type BatchReport struct {
	// Consumer is the consumer's Name().
	Consumer string
	// Events is how many events were handled (0: only the cursor moved).
	Events int
	// From and To are the cursor before and after the batch.
	From, To core.Cursor
}

// ErrInvalidConfig is returned by NewProcessor for a bad Config or consumer
// list. Detail: *ConfigError.
var ErrInvalidConfig = errors.New("invalid consumer configuration")

// ConfigError is the detail of ErrInvalidConfig.
type ConfigError struct {
	// Field names the Config field or NewProcessor argument at fault.
	Field string
	// Reason says what is wrong and what is accepted.
	Reason string
}

// Error names the field and the reason.
func (e *ConfigError) Error() string {
	return fmt.Sprintf("invalid consumer configuration: %s: %s", e.Field, e.Reason)
}

// Is reports whether target is ErrInvalidConfig.
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

func (c Config) withDefaults() (Config, error) {
	switch {
	case c.BatchSize < 0:
		return c, &ConfigError{Field: "BatchSize", Reason: fmt.Sprintf("must be >= 1 (0 means 100), got %d", c.BatchSize)}
	case c.PollInterval < 0:
		return c, &ConfigError{Field: "PollInterval", Reason: "must not be negative"}
	case c.InitialBackoff < 0 || c.MaxBackoff < 0:
		return c, &ConfigError{Field: "InitialBackoff/MaxBackoff", Reason: "must not be negative"}
	case c.StuckAfter < 0:
		return c, &ConfigError{Field: "StuckAfter", Reason: fmt.Sprintf("must not be negative (0 means 1m), got %s", c.StuckAfter)}
	}
	if c.StuckAfter == 0 {
		c.StuckAfter = time.Minute
	}
	if c.BatchSize == 0 {
		c.BatchSize = 100
	}
	if c.PollInterval == 0 {
		c.PollInterval = time.Second
	}
	if c.InitialBackoff == 0 {
		c.InitialBackoff = 100 * time.Millisecond
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = 30 * time.Second
	}
	if c.MaxBackoff < c.InitialBackoff {
		return c, &ConfigError{Field: "MaxBackoff", Reason: fmt.Sprintf("%s is below InitialBackoff %s", c.MaxBackoff, c.InitialBackoff)}
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 10
	}
	if c.Logger == nil {
		c.Logger = discard
	}
	if c.Owner == "" {
		host, _ := os.Hostname()
		c.Owner = fmt.Sprintf("%s/%d", host, os.Getpid())
	}
	var invalid *core.InvalidArgumentError
	if err := core.ValidateOwner(c.Owner); errors.As(err, &invalid) {
		return c, &ConfigError{Field: "Owner", Reason: invalid.Reason}
	}
	return c, nil
}

// backoff returns the wait after the given number of consecutive failures.
func (c Config) backoff(failures int) time.Duration {
	d := c.InitialBackoff
	for i := 1; i < failures && d < c.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, c.MaxBackoff)
}
