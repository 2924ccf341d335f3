package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/chronicle-go/chronicle/consumer"
	"github.com/chronicle-go/chronicle/consumer/statuspage"
)

// serveOptions are serve's own flags, given after the command.
type serveOptions struct {
	addr             string
	interval, window time.Duration
}

// errUsagePrinted: the flag package has printed the flag error and the
// usage already (of serve's or watch's own flags).
var errUsagePrinted = errors.New("bad command flags")

// parseServe parses serve's flags. It returns flag.ErrHelp for -h, and
// errUsagePrinted for a flag error the flag package has printed.
func parseServe(args []string, stderr io.Writer) (serveOptions, error) {
	fs := flag.NewFlagSet("chronicle serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o serveOptions
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to serve the status page on (host:port)")
	fs.DurationVar(&o.interval, "interval", 2*time.Second, "how often the page samples the consumers and refreshes itself")
	fs.DurationVar(&o.window, "window", 10*time.Minute, "how far back the lag chart goes")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, errUsagePrinted
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("serve takes no arguments, got %q", fs.Args())
	}
	return o, nil
}

// logger is serve's log: every text it writes has the database URL's
// password removed (a driver's error may quote the connection string).
func (o output) logger() *slog.Logger {
	opts := &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		switch v := a.Value.Any().(type) {
		case string:
			return slog.String(a.Key, redact(v, o.secret))
		case error:
			return slog.String(a.Key, redact(v.Error(), o.secret))
		}
		return a
	}}
	if o.json {
		return slog.New(slog.NewJSONHandler(o.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(o.stderr, opts))
}

// statusPage is the page serve serves, over ops: errors it shows pass
// through redact.
func (o output) statusPage(ops *consumer.Operations[pgx.Tx], opts serveOptions, timeout time.Duration) (*statuspage.Page, error) {
	return statuspage.New(ops, statuspage.Config{Interval: opts.interval, Window: opts.window, Timeout: timeout,
		Redact: func(s string) string { return redact(s, o.secret) }, Logger: o.logger()})
}

// serveJSON is serve's -json start line.
type serveJSON struct {
	Command string `json:"command"`
	URL     string `json:"url"`
}

// serve serves page on opts.addr until ctx ends. The page is read-only:
// the server has no endpoint that changes anything.
func (o output) serve(ctx context.Context, page *statuspage.Page, opts serveOptions) error {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", opts.addr)
	if err != nil {
		return fmt.Errorf("-addr: %w", err)
	}
	log := o.logger()
	srv := &http.Server{Handler: page, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError)}
	url := "http://" + ln.Addr().String() + "/"
	if err := o.emit(serveJSON{Command: "serve", URL: url}, "serving the status page (read-only) on "+url+"; interrupt to stop\n"); err != nil {
		_ = ln.Close()
		return err
	}
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		_ = page.Run(ctx)
	}()
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	err = srv.Serve(ln)
	<-sampled
	<-stopped
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
