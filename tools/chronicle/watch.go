package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"golang.org/x/term"

	"github.com/chronicle-go/chronicle/consumer"
	"github.com/chronicle-go/chronicle/core"
)

// watchOptions are watch's own flags and argument, given after the
// command.
type watchOptions struct {
	// interval is how often watch reads the status again; > 0.
	interval time.Duration
	// untilCaughtUp ends watch, with exit status 0, once no watched
	// consumer is behind.
	untilCaughtUp bool
	// consumer is the consumer watched — a partitioned consumer's name
	// stands for all its partitions — or "" for every one.
	consumer string
}

// parseWatch parses watch's flags and its optional consumer, in any order.
// It returns flag.ErrHelp for -h, errUsagePrinted for a flag error the flag
// package has printed, and a *core.InvalidArgumentError for a bad
// -interval or consumer name.
func parseWatch(args []string, stderr io.Writer) (watchOptions, error) {
	fs := flag.NewFlagSet("chronicle watch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: chronicle [flags] watch [-interval 2s] [-until-caught-up] [CONSUMER]\n\n"+
			"shows each consumer's progress (or CONSUMER's, all its partitions together) until interrupted\n\nflags:\n")
		fs.PrintDefaults()
	}
	var o watchOptions
	fs.DurationVar(&o.interval, "interval", 2*time.Second, "how often to read the consumers' status again (must be positive)")
	fs.BoolVar(&o.untilCaughtUp, "until-caught-up", false, "exit 0 once no watched consumer is behind")
	var names []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return o, err
			}
			return o, errUsagePrinted
		}
		if fs.NArg() == 0 {
			break
		}
		if used := len(args) - fs.NArg(); used > 0 && args[used-1] == "--" {
			names = append(names, fs.Args()...)
			break
		}
		// The flag package stops at the first argument: flags may follow
		// the consumer too.
		names = append(names, fs.Arg(0))
		args = fs.Args()[1:]
	}
	switch {
	case len(names) > 1:
		return o, fmt.Errorf("watch takes at most 1 argument (a consumer), got %d", len(names))
	case o.interval <= 0:
		return o, &core.InvalidArgumentError{Argument: "-interval", Reason: fmt.Sprintf("must be positive, got %s", o.interval)}
	}
	if len(names) == 1 {
		if err := core.ValidateConsumerName(names[0]); err != nil {
			return o, err
		}
		o.consumer = names[0]
	}
	return o, nil
}

// watchJSON is one consumer's progress in a refresh of watch: its
// checkpoint's, or its partitions' together. watch -json prints one per
// consumer per refresh, a line each.
type watchJSON struct {
	Consumer string `json:"consumer"`
	// Partitions is the consumer's partition count; none when it is not
	// partitioned.
	Partitions int `json:"partitions,omitempty"`
	// Delivered is done, Total Delivered + Behind, Percent Delivered of
	// Total (100 when Total is 0), rounded down to a tenth.
	Delivered       int64   `json:"delivered"`
	Behind          int64   `json:"behind"`
	BehindEstimated bool    `json:"behind_estimated"`
	Total           int64   `json:"total"`
	Percent         float64 `json:"percent"`
	// Rate is the events delivered per second over the last refresh (on
	// the first, the consumer's average since its cursor was set: the sum
	// of Status.Rate over its partitions). ETASeconds is Behind at Rate:
	// 0 when caught up, null when behind at no rate.
	Rate       float64  `json:"rate"`
	ETASeconds *float64 `json:"eta_seconds"`
	CaughtUp   bool     `json:"caught_up"`
	// Stopped reports that the consumer, or one of its partitions, stopped
	// after repeated failures: it will not catch up by itself.
	Stopped bool `json:"stopped"`
	// At is when the status was read.
	At time.Time `json:"at"`

	eta      time.Duration
	etaKnown bool
}

// sample is a consumer's delivered count when the status was read.
type sample struct {
	delivered int64
	at        time.Time
}

// watcher is the watch command: it reads the consumers' status every
// interval and shows each watched consumer's progress.
type watcher struct {
	out     output
	ops     *consumer.Operations[pgx.Tx]
	opts    watchOptions
	timeout time.Duration
	// live draws a bar per consumer, redrawn in place: stdout is a
	// terminal and the output not JSON. width returns the terminal's
	// columns, 0 when unknown.
	live  bool
	width func() int
	// last holds each consumer's previous sample, for the rate over the
	// last refresh.
	last map[string]sample
	// shown holds what the plain line printed last of each consumer
	// showed; noneShown that "no consumers yet" was printed.
	shown     map[string]string
	noneShown bool
	// drawn is how many lines the last live draw wrote.
	drawn int
}

// newWatcher returns watch over ops; timeout bounds each status read. It
// prints plain lines until terminal finds stdout to be a terminal.
func newWatcher(out output, ops *consumer.Operations[pgx.Tx], opts watchOptions, timeout time.Duration) *watcher {
	return &watcher{out: out, ops: ops, opts: opts, timeout: timeout, width: func() int { return 0 },
		last: map[string]sample{}, shown: map[string]string{}}
}

// terminal switches to live bars when stdout is a terminal and the output
// is not JSON.
func (w *watcher) terminal(stdout io.Writer) {
	f, ok := stdout.(*os.File)
	if !ok || w.out.json || !term.IsTerminal(int(f.Fd())) {
		return
	}
	w.live = true
	w.width = func() int {
		cols, _, err := term.GetSize(int(f.Fd()))
		if err != nil {
			return 0
		}
		return cols
	}
}

// errNotCaughtUp: watch -until-caught-up was interrupted first.
var errNotCaughtUp = errors.New("interrupted before every watched consumer caught up")

// run reads and shows the status now and every interval until ctx ends
// (nil; errNotCaughtUp under -until-caught-up) or, under -until-caught-up,
// until no watched consumer is behind (nil). A first read that fails ends
// it with the error; a later one is reported on stderr, and the next
// refresh tries again. A watched consumer whose checkpoints are deleted
// meanwhile ends it with an error.
func (w *watcher) run(ctx context.Context) error {
	tick := time.NewTicker(w.opts.interval)
	defer tick.Stop()
	for first := true; ; first = false {
		read, cancel := context.WithTimeout(ctx, w.timeout)
		st, err := w.ops.Status(read)
		cancel()
		at := time.Now()
		switch {
		case ctx.Err() != nil:
			return w.interrupted()
		case err != nil && first:
			return err
		case err != nil:
			w.out.fail(0, "watch", err)
			w.drawn = 0 // the error moved the cursor: draw anew below it
		default:
			rows, err := w.rows(st, at)
			if err != nil {
				return err
			}
			if err := w.show(rows); err != nil {
				return err
			}
			if w.opts.untilCaughtUp && caughtUp(rows) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return w.interrupted()
		case <-tick.C:
		}
	}
}

func (w *watcher) interrupted() error {
	if w.opts.untilCaughtUp {
		return errNotCaughtUp
	}
	return nil
}

// caughtUp reports whether no consumer of rows is behind.
func caughtUp(rows []watchJSON) bool {
	for _, r := range rows {
		if !r.CaughtUp {
			return false
		}
	}
	return true
}

// rows is the progress of each watched consumer in st, read at at.
func (w *watcher) rows(st []consumer.Status, at time.Time) ([]watchJSON, error) {
	var watched []consumer.Status
	for _, s := range st {
		if w.opts.consumer == "" || s.Consumer == w.opts.consumer || s.ConsumerName == w.opts.consumer {
			watched = append(watched, s)
		}
	}
	if w.opts.consumer != "" && len(watched) == 0 {
		return nil, fmt.Errorf("consumer %q has no checkpoint any more", w.opts.consumer)
	}
	groups := groupStatus(watched)
	if len(groups) == 1 && w.opts.consumer != "" && groups[0].name != w.opts.consumer {
		// One partition's checkpoint, watched by its name.
		groups[0].name, groups[0].partitioned = w.opts.consumer, false
	}
	last := make(map[string]sample, len(groups))
	rows := make([]watchJSON, len(groups))
	for i, g := range groups {
		p := progressOf(g.parts)
		if prev, ok := w.last[g.name]; ok && p.delivered >= prev.delivered && at.After(prev.at) {
			p.rate = float64(p.delivered-prev.delivered) / at.Sub(prev.at).Seconds()
		}
		last[g.name] = sample{delivered: p.delivered, at: at}
		r := watchJSON{Consumer: g.name, Delivered: p.delivered, Behind: p.behind, BehindEstimated: p.estimated,
			Total: p.delivered + p.behind, Percent: 100, Rate: p.rate, CaughtUp: p.behind <= 0, At: at.UTC()}
		if g.partitioned {
			r.Partitions = g.partitions()
		}
		if r.Total > 0 {
			r.Percent = math.Floor(float64(r.Delivered)/float64(r.Total)*1000) / 10
		}
		r.eta, r.etaKnown = p.eta()
		r.ETASeconds = etaSeconds(r.eta, r.etaKnown)
		for _, s := range g.parts {
			r.Stopped = r.Stopped || s.Stopped
		}
		rows[i] = r
	}
	w.last = last
	return rows, nil
}

// show prints rows: as JSON lines, as bars redrawn in place, or as a
// plain line for each consumer whose progress changed.
func (w *watcher) show(rows []watchJSON) error {
	switch {
	case w.out.json:
		enc := json.NewEncoder(w.out.stdout)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	case w.live:
		_, err := io.WriteString(w.out.stdout, w.draw(rows))
		return err
	}
	var b strings.Builder
	if len(rows) == 0 && !w.noneShown {
		b.WriteString("no consumers yet\n")
	}
	w.noneShown = len(rows) == 0
	for _, r := range rows {
		seen := fmt.Sprintf("%d %d %t %t", r.Delivered, r.Behind, r.BehindEstimated, r.Stopped)
		if w.shown[r.Consumer] == seen {
			continue
		}
		w.shown[r.Consumer] = seen
		b.WriteString(printable(r.Consumer) + " " + progressText(r) + "\n")
	}
	_, err := io.WriteString(w.out.stdout, b.String())
	return err
}

// progressText is a consumer's progress after its name:
// "12000/20000 events (60.0%) 850 ev/s ETA 9s".
func progressText(r watchJSON) string {
	total := fmt.Sprint(r.Total)
	if r.BehindEstimated {
		total = "~" + total
	}
	s := fmt.Sprintf("%d/%s events (%.1f%%) %s ev/s", r.Delivered, total, r.Percent, rateText(r.Rate))
	switch {
	case r.CaughtUp:
		s += " caught up"
	case r.etaKnown:
		s += " ETA " + durationText(r.eta)
	default:
		s += " ETA unknown"
	}
	if r.Stopped {
		s += " (stopped)"
	}
	return s
}

// barWidth is the width of a live progress bar, in cells.
const barWidth = 24

// draw returns the terminal output that replaces the lines drawn last
// with a bar per consumer of rows: the cursor goes up over them, and each
// line is cleared before it is written.
func (w *watcher) draw(rows []watchJSON) string {
	lines := make([]string, 0, len(rows))
	names := make([]string, len(rows))
	pad := 0
	for i, r := range rows {
		names[i] = printable(r.Consumer)
		pad = max(pad, utf8.RuneCountInString(names[i]))
	}
	for i, r := range rows {
		filled := int(r.Percent / 100 * barWidth)
		bar := strings.Repeat("█", filled) + strings.Repeat("░", barWidth-filled)
		lines = append(lines, fmt.Sprintf("%-*s %s %s", pad, names[i], bar, progressText(r)))
	}
	if len(rows) == 0 {
		lines = append(lines, "no consumers yet")
	}
	var b strings.Builder
	if w.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", w.drawn) // up to the first line drawn
	}
	cols := w.width()
	for _, l := range lines {
		// A line as wide as the terminal would wrap and spoil the count
		// of lines to go up over.
		if r := []rune(l); cols > 1 && len(r) > cols-1 {
			l = string(r[:cols-1])
		}
		b.WriteString("\r\x1b[2K" + l + "\n")
	}
	b.WriteString("\x1b[J") // what is left of a longer previous draw
	w.drawn = len(lines)
	return b.String()
}

// printable is name as it is, or quoted when it holds a character that
// is not printable: a consumer's name could hold a newline or a terminal
// control sequence.
func printable(name string) string {
	if strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return strconv.Quote(name)
	}
	return name
}
