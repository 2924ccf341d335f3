// Package statuspage serves a read-only status page of Chronicle's
// consumers: for each, its lag in events and in age with a chart over the
// last minutes, the running writers it waits for (pid, age, query), its
// owner and whether that process is still there, and its recent failures.
// The page refreshes itself every Interval from a JSON view of the same
// data. Everything it needs is embedded: no script, style or font comes
// from elsewhere.
//
// Mount a *Page on your own server (it is an http.Handler) or run
// `chronicle serve -addr 127.0.0.1:8080`, which serves one for a database.
// The page only reads: it has no endpoint that changes anything (GET and
// HEAD only; other methods get 405 Method Not Allowed). It names
// consumers, their errors and other sessions' queries, so serve it to
// operators, not to the public.
package statuspage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/chronicle-go/chronicle/consumer"
)

// Source is where a Page reads its consumers: *consumer.Operations[TX]
// (every consumer with a checkpoint) or *consumer.Processor[TX] (its own
// consumers, lag counted within each one's scope).
type Source interface {
	Status(ctx context.Context) ([]consumer.Status, error)
}

// Config tunes a Page. Zero values mean the defaults stated per field.
type Config struct {
	// Interval is how often the page samples the consumers' status, and
	// how often an open page refreshes itself. Default 2s; at least 100ms.
	Interval time.Duration
	// Window is how far back the lag chart goes. Default 10m; at least
	// Interval.
	Window time.Duration
	// Timeout bounds one status read. Default 10s.
	Timeout time.Duration
	// Title heads the page. Default "Chronicle consumers".
	Title string
	// Redact, when set, rewrites every error text before the page shows or
	// logs it — for example to remove a password a driver's error quoted.
	// Default: errors as they are.
	Redact func(string) string
	// Logger receives failed status reads at error level. Default (nil):
	// no logs.
	Logger *slog.Logger
}

// ErrInvalidConfig is returned by New for a bad Config or a nil Source.
// Detail: *ConfigError.
var ErrInvalidConfig = errors.New("invalid status page configuration")

// ConfigError is the detail of ErrInvalidConfig.
type ConfigError struct {
	// Field names the Config field or argument at fault.
	Field string
	// Reason says what is wrong and what is accepted.
	Reason string
}

// Error names the field and the reason.
func (e *ConfigError) Error() string {
	return fmt.Sprintf("invalid status page configuration: %s: %s", e.Field, e.Reason)
}

// Is reports whether target is ErrInvalidConfig.
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

// Page is the status page, an http.Handler. It keeps a ring of samples
// covering Config.Window for the chart: taken by Run every Interval when
// Run runs, else when the page is requested, at most once per Interval
// (so that many open pages cost the database one status read per
// Interval). Safe for concurrent use.
type Page struct {
	src Source
	cfg Config

	// sampling serialises status reads; mu guards what they leave.
	sampling sync.Mutex
	mu       sync.Mutex
	latest   []consumer.Status
	latestAt time.Time
	readErr  string
	samples  []sample // oldest first, at most cap
	cap      int
	running  bool
}

// sample is the lag of every consumer at one time.
type sample struct {
	at     time.Time
	behind map[string]int64
}

// New returns a Page over src. A nil src or a bad Config is a
// *ConfigError (ErrInvalidConfig).
func New(src Source, cfg Config) (*Page, error) {
	if src == nil {
		return nil, &ConfigError{Field: "src", Reason: "must not be nil: pass a *consumer.Operations or *consumer.Processor"}
	}
	switch {
	case cfg.Interval < 0 || (cfg.Interval > 0 && cfg.Interval < 100*time.Millisecond):
		return nil, &ConfigError{Field: "Interval", Reason: fmt.Sprintf("must be at least 100ms (0 means 2s), got %s", cfg.Interval)}
	case cfg.Window < 0:
		return nil, &ConfigError{Field: "Window", Reason: fmt.Sprintf("must not be negative (0 means 10m), got %s", cfg.Window)}
	case cfg.Timeout < 0:
		return nil, &ConfigError{Field: "Timeout", Reason: fmt.Sprintf("must not be negative (0 means 10s), got %s", cfg.Timeout)}
	}
	if cfg.Interval == 0 {
		cfg.Interval = 2 * time.Second
	}
	if cfg.Window == 0 {
		cfg.Window = 10 * time.Minute
	}
	if cfg.Window < cfg.Interval {
		return nil, &ConfigError{Field: "Window", Reason: fmt.Sprintf("%s is shorter than Interval %s", cfg.Window, cfg.Interval)}
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Second
	}
	if cfg.Title == "" {
		cfg.Title = "Chronicle consumers"
	}
	if cfg.Redact == nil {
		cfg.Redact = func(s string) string { return s }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Page{src: src, cfg: cfg, cap: int(cfg.Window/cfg.Interval) + 1}, nil
}

// Run samples the consumers' status every Interval until ctx ends, so that
// the chart covers the time before anyone opened the page; it returns nil
// then. Without Run the page samples when it is requested. Run may be
// called again after it returns, but not concurrently.
func (p *Page) Run(ctx context.Context) error {
	p.mu.Lock()
	if p.running {
		p.mu.Unlock()
		return errors.New("status page: Run is already running")
	}
	p.running = true
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.running = false
		p.mu.Unlock()
	}()
	tick := time.NewTicker(p.cfg.Interval)
	defer tick.Stop()
	for {
		p.sample(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// fresh samples now unless a sample younger than Interval exists (or Run
// takes them).
func (p *Page) fresh(ctx context.Context) {
	p.mu.Lock()
	skip := p.running && !p.latestAt.IsZero() || time.Since(p.latestAt) < p.cfg.Interval
	p.mu.Unlock()
	if skip {
		return
	}
	p.sampling.Lock()
	defer p.sampling.Unlock()
	p.mu.Lock()
	recent := time.Since(p.latestAt) < p.cfg.Interval // another request sampled meanwhile
	p.mu.Unlock()
	if !recent {
		p.read(ctx)
	}
}

// sample reads the status once, for Run.
func (p *Page) sample(ctx context.Context) {
	p.sampling.Lock()
	defer p.sampling.Unlock()
	p.read(ctx)
}

// read takes one sample. Called with p.sampling held.
func (p *Page) read(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()
	st, err := p.src.Status(ctx)
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.latestAt = now
	if err != nil {
		p.readErr = p.cfg.Redact(err.Error())
		p.cfg.Logger.ErrorContext(ctx, "status page: reading the consumers' status failed", "error", p.readErr)
		return
	}
	p.readErr, p.latest = "", st
	s := sample{at: now, behind: make(map[string]int64, len(st))}
	for _, c := range st {
		s.behind[c.ConsumerName] = c.Behind
	}
	p.samples = append(p.samples, s)
	if len(p.samples) > p.cap {
		p.samples = append(p.samples[:0], p.samples[len(p.samples)-p.cap:]...)
	}
}
