package statuspage

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/chronicle-go/chronicle/consumer"
)

// view is what the page shows, rendered by the template and served as
// JSON for the page's refreshes. Texts are formatted here, once, so that
// the page's script only places them (as text, never as markup).
type view struct {
	Title       string         `json:"title"`
	GeneratedAt string         `json:"generated_at"`
	IntervalMS  int64          `json:"interval_ms"`
	Error       string         `json:"error,omitempty"`
	Consumers   []consumerView `json:"consumers"`
	Failures    []failureView  `json:"failures"`
	Chart       chartView      `json:"chart"`
}

type consumerView struct {
	Name string `json:"name"`
	// Partitions is 1 for every consumer until consumer groups (DESIGN
	// §10) give a consumer several checkpoints.
	Partitions    int          `json:"partitions"`
	Behind        int64        `json:"behind"`
	Estimated     bool         `json:"behind_estimated"`
	BehindText    string       `json:"behind_text"`
	LagAgeSeconds float64      `json:"lag_age_seconds"`
	LagAgeText    string       `json:"lag_age_text"`
	State         string       `json:"state"`
	Owner         string       `json:"owner"`
	OwnerPresent  bool         `json:"owner_present"`
	OwnerText     string       `json:"owner_text"`
	Held          bool         `json:"held"`
	Cursor        string       `json:"cursor"`
	Updated       string       `json:"updated"`
	Color         string       `json:"color"`
	WaitingFor    []writerView `json:"waiting_for"`
}

type writerView struct {
	PID           int    `json:"pid"`
	TransactionID int64  `json:"transaction_id"`
	Age           string `json:"age"`
	State         string `json:"state"`
	Query         string `json:"query"`
	Application   string `json:"application"`
}

type failureView struct {
	Consumer string `json:"consumer"`
	At       string `json:"at"`
	Attempts int    `json:"attempts"`
	Position int64  `json:"position"`
	Stopped  bool   `json:"stopped"`
	Error    string `json:"error"`
}

// chartView is the lag chart: one polyline per consumer over the window,
// in a chartWidth × chartHeight box.
type chartView struct {
	Width   int         `json:"width"`
	Height  int         `json:"height"`
	MaxText string      `json:"max_text"`
	Window  string      `json:"window"`
	Lines   []chartLine `json:"lines"`
}

type chartLine struct {
	Consumer string `json:"consumer"`
	Color    string `json:"color"`
	Points   string `json:"points"`
}

const (
	chartWidth  = 600
	chartHeight = 160
)

// palette colours the consumers' lines, by their order on the page.
var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"}

// view builds the view of the latest sample and the ring.
func (p *Page) view(now time.Time) view {
	p.mu.Lock()
	defer p.mu.Unlock()
	v := view{Title: p.cfg.Title, GeneratedAt: now.UTC().Format(time.RFC3339), IntervalMS: p.cfg.Interval.Milliseconds(),
		Error: p.readErr, Consumers: []consumerView{}, Failures: []failureView{}}
	colors := map[string]string{}
	for i, s := range p.latest {
		c := consumerView{Name: s.ConsumerName, Partitions: 1, Behind: s.Behind, Estimated: s.BehindEstimated,
			BehindText: strconv.FormatInt(s.Behind, 10), LagAgeText: "-", State: stateText(s), Owner: s.Owner,
			OwnerPresent: s.OwnerPresent, OwnerText: ownerText(s), Held: s.Held, Cursor: s.Cursor.String(), Updated: "-",
			Color: palette[i%len(palette)], WaitingFor: []writerView{}}
		colors[s.ConsumerName] = c.Color
		if s.BehindEstimated {
			c.BehindText = "~" + c.BehindText
		}
		if !s.OldestBehind.IsZero() {
			age := max(now.Sub(s.OldestBehind), 0)
			c.LagAgeSeconds, c.LagAgeText = age.Seconds(), duration(age)
		}
		if !s.UpdatedAt.IsZero() {
			c.Updated = s.UpdatedAt.UTC().Format(time.RFC3339)
		}
		for _, w := range s.WaitingFor {
			age := "-"
			if !w.Started.IsZero() {
				age = duration(max(now.Sub(w.Started), 0))
			}
			c.WaitingFor = append(c.WaitingFor, writerView{PID: w.PID, TransactionID: w.TransactionID, Age: age,
				State: orDash(w.State), Query: w.Query, Application: w.Application})
		}
		v.Consumers = append(v.Consumers, c)
		if s.LastError != "" {
			v.Failures = append(v.Failures, failureView{Consumer: s.ConsumerName, At: timeText(s.LastErrorAt), Attempts: s.FailedAttempts,
				Position: s.LastErrorPosition, Stopped: s.Stopped, Error: p.cfg.Redact(s.LastError)})
		}
	}
	sort.SliceStable(v.Failures, func(i, j int) bool { return v.Failures[i].At > v.Failures[j].At })
	v.Chart = p.chart(now, colors)
	return v
}

// chart draws the ring's samples within the window ending now.
func (p *Page) chart(now time.Time, colors map[string]string) chartView {
	ch := chartView{Width: chartWidth, Height: chartHeight, Window: duration(p.cfg.Window), Lines: []chartLine{}}
	from := now.Add(-p.cfg.Window)
	var top int64
	for _, s := range p.samples {
		for _, b := range s.behind {
			top = max(top, b)
		}
	}
	ch.MaxText = strconv.FormatInt(top, 10)
	scale := float64(max(top, 1))
	names := make([]string, 0, len(colors))
	for name := range colors {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		var pts []string
		for _, s := range p.samples {
			b, ok := s.behind[name]
			if !ok || s.at.Before(from) {
				continue
			}
			x := float64(chartWidth) * float64(s.at.Sub(from)) / float64(p.cfg.Window)
			y := float64(chartHeight) - float64(chartHeight)*float64(b)/scale
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
		}
		if len(pts) == 1 {
			// A single sample: a short flat stroke, so that it shows.
			x, y, _ := strings.Cut(pts[0], ",")
			xf, _ := strconv.ParseFloat(x, 64)
			pts = append([]string{fmt.Sprintf("%.1f,%s", max(xf-4, 0), y)}, pts[0])
		}
		ch.Lines = append(ch.Lines, chartLine{Consumer: name, Color: colors[name], Points: strings.Join(pts, " ")})
	}
	return ch
}

// stateText is a consumer's state as Status shows it.
func stateText(s consumer.Status) string {
	switch {
	case s.Stopped:
		return "stopped"
	case s.Held:
		return "in batch"
	case s.FailedAttempts > 0 && s.OwnerPresent:
		return fmt.Sprintf("retrying (%d failed)", s.FailedAttempts)
	case s.FailedAttempts > 0:
		return fmt.Sprintf("failed %d times, owner gone", s.FailedAttempts)
	}
	return "idle"
}

// ownerText is the owner and whether its process is there.
func ownerText(s consumer.Status) string {
	switch {
	case s.Owner == "":
		return "-"
	case s.OwnerPresent:
		return s.Owner + " (present)"
	}
	return s.Owner + " (gone)"
}

func timeText(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// duration rounds d for reading: to the second from a minute on, to the
// millisecond below.
func duration(d time.Duration) string {
	if d >= time.Minute {
		return d.Round(time.Second).String()
	}
	return d.Round(time.Millisecond).String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
