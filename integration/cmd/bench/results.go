package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// result is one workload on one adapter (or a raw reference), over its
// runs. JSON field names are the -json file's format.
type result struct {
	ID      string `json:"id"`
	Adapter string `json:"adapter"`
	Writers int    `json:"writers"`
	// EventsPerSec is the median run's rate, Min and Max the range.
	EventsPerSec    float64 `json:"events_per_sec"`
	EventsPerSecMin float64 `json:"events_per_sec_min"`
	EventsPerSecMax float64 `json:"events_per_sec_max"`
	Runs            int     `json:"runs"`
	// P50Ms and P99Ms are latencies over every run's operations, in
	// milliseconds; absent where the workload defines none.
	P50Ms float64 `json:"p50_ms,omitempty"`
	P99Ms float64 `json:"p99_ms,omitempty"`
	// Ref names the raw reference the ratio is taken against.
	Ref   string  `json:"ref,omitempty"`
	Ratio float64 `json:"ratio,omitempty"`
	// Peer names another workload on the same adapter (id/writers) that
	// this one is compared with, PeerRatio this one's rate over the peer's
	// (W1 over W1n: what the notify channel costs).
	Peer      string  `json:"peer,omitempty"`
	PeerRatio float64 `json:"peer_ratio,omitempty"`
	// Metrics are further measurements of the workload (round trips per
	// batch, seconds to the end, …), each the median over the runs.
	Metrics map[string]float64 `json:"metrics,omitempty"`
	// Checks are correctness counts that must all be 0.
	Checks map[string]int64 `json:"checks,omitempty"`
}

// key identifies a result for the ratio lookup.
func (r *result) key() string { return fmt.Sprintf("%s/%d", r.ID, r.Writers) }

// label is the workload as the table shows it.
func (r *result) label() string {
	if r.Writers > 0 {
		return fmt.Sprintf("%s ×%d", r.ID, r.Writers)
	}
	return r.ID
}

func summarize(id, adapter string, writers int, samples []sample) *result {
	r := &result{ID: id, Adapter: adapter, Writers: writers, Runs: len(samples)}
	rates := make([]float64, len(samples))
	var lats []time.Duration
	metrics := map[string][]float64{}
	for i, s := range samples {
		rates[i] = s.rate()
		lats = append(lats, s.latencies...)
		for k, v := range s.metrics {
			metrics[k] = append(metrics[k], v)
		}
		for k, v := range s.checks {
			if r.Checks == nil {
				r.Checks = map[string]int64{}
			}
			r.Checks[k] += v
		}
	}
	slices.Sort(rates)
	if len(rates) > 0 {
		r.EventsPerSec, r.EventsPerSecMin, r.EventsPerSecMax = rates[len(rates)/2], rates[0], rates[len(rates)-1]
	}
	for k, vs := range metrics {
		if r.Metrics == nil {
			r.Metrics = map[string]float64{}
		}
		slices.Sort(vs)
		r.Metrics[k] = vs[len(vs)/2]
	}
	if len(lats) > 0 {
		sorted := sortedCopy(lats)
		r.P50Ms, r.P99Ms = ms(percentile(sorted, 50)), ms(percentile(sorted, 99))
	}
	return r
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// report is the whole run, as printed and as written by -json.
type report struct {
	Started     time.Time         `json:"started"`
	Machine     machine           `json:"machine"`
	PostgreSQL  map[string]string `json:"postgresql"`
	Server      string            `json:"server"`
	Quick       bool              `json:"quick"`
	RunsPerLoad int               `json:"runs_per_workload"`
	Duration    string            `json:"duration_per_run"`
	Results     []*result         `json:"results"`
}

// rate finds the reference result key, nil when absent.
func (rep *report) find(key string) *result {
	for _, r := range rep.Results {
		if r.Adapter == "raw" && r.key() == key {
			return r
		}
	}
	return nil
}

// findOn finds the result with key on adapter, nil when absent.
func (rep *report) findOn(key, adapter string) *result {
	for _, r := range rep.Results {
		if r.Adapter == adapter && r.key() == key {
			return r
		}
	}
	return nil
}

// link fills each result's ratio to its reference, and to its peer.
func (rep *report) link() {
	for _, r := range rep.Results {
		if r.Ref != "" {
			if ref := rep.find(r.Ref); ref != nil && ref.EventsPerSec > 0 {
				r.Ratio = r.EventsPerSec / ref.EventsPerSec
			}
		}
		if r.Peer != "" {
			if peer := rep.findOn(r.Peer, r.Adapter); peer != nil && peer.EventsPerSec > 0 {
				r.PeerRatio = r.EventsPerSec / peer.EventsPerSec
			}
		}
	}
}

func (rep *report) print(w io.Writer) error {
	m := rep.Machine
	fmt.Fprintf(w, "Chronicle benchmarks, %s\n", rep.Started.UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "machine: %d cores (%s), %s, %s/%s\n", m.Cores, m.CPU, m.GoVersion, m.OS, m.Arch)
	keys := make([]string, 0, len(rep.PostgreSQL))
	for k := range rep.PostgreSQL {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var settings []string
	for _, k := range keys {
		settings = append(settings, k+"="+rep.PostgreSQL[k])
	}
	fmt.Fprintf(w, "postgresql (%s): %s\n", rep.Server, strings.Join(settings, ", "))
	fmt.Fprintf(w, "runs per workload: %d (median, min–max), %s per timed run", rep.RunsPerLoad, rep.Duration)
	if rep.Quick {
		fmt.Fprint(w, " — QUICK smoke run: the numbers mean nothing")
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "workload\tadapter\tevents/s\tmin–max\tp50 ms\tp99 ms\tvs\tratio\tchecks\tmetrics\t")
	for _, r := range rep.Results {
		p50, p99 := "", ""
		if r.P50Ms > 0 || r.P99Ms > 0 {
			p50, p99 = fmt.Sprintf("%.2f", r.P50Ms), fmt.Sprintf("%.2f", r.P99Ms)
		}
		ratio, vs := "", ""
		if r.Ref != "" {
			vs = strings.Replace(r.Ref, "/", " ×", 1)
			vs = strings.TrimSuffix(vs, " ×0")
			ratio = fmt.Sprintf("%.2f", r.Ratio)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.0f–%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.label(), r.Adapter, r.EventsPerSec,
			r.EventsPerSecMin, r.EventsPerSecMax, p50, p99, vs, ratio, checksText(r.Checks), r.metricsText())
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var noted []string
	for _, r := range rep.Results {
		if n, ok := notes[r.ID]; ok && !slices.Contains(noted, r.ID) {
			noted = append(noted, r.ID)
			fmt.Fprintf(w, "\n%s: %s", r.ID, n)
		}
	}
	if len(noted) > 0 {
		fmt.Fprintln(w)
	}
	return nil
}

// notes say, under the table, what a workload's columns count where the
// headings do not.
var notes = map[string]string{
	"W7p": "×N is N processes; events/s from their start to the last event, balancing included, as W7.",
	"W9": "×N is N processes; events/s from the first handled event to the last; balanced_s is the time from the " +
		"processes' start until every partition had a present owner and each process its share; " +
		"from_start_events_per_s is the rate from the start.",
}

func checksText(c map[string]int64) string {
	if len(c) == 0 {
		return ""
	}
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, c[k])
	}
	return strings.Join(parts, " ")
}

// metricsText shows the peer ratio and the metrics, e.g.
// "W1/W1n=0.97 round_trips_per_batch=1.00", or "×4/×1=3.80" for a peer
// that is the same workload at another count.
func (r *result) metricsText() string {
	var parts []string
	if r.Peer != "" {
		peer, writers, _ := strings.Cut(r.Peer, "/")
		if peer == r.ID {
			// The same workload at another count: "×4/×1=3.80".
			parts = append(parts, fmt.Sprintf("×%d/×%s=%.2f", r.Writers, writers, r.PeerRatio))
		} else {
			parts = append(parts, fmt.Sprintf("%s/%s=%.2f", r.ID, peer, r.PeerRatio))
		}
	}
	keys := make([]string, 0, len(r.Metrics))
	for k := range r.Metrics {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%.2f", k, r.Metrics[k]))
	}
	return strings.Join(parts, " ")
}

func (rep *report) writeJSON(file string) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(file, append(b, '\n'), 0o644)
}
