package main

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/chronicle-go/chronicle/consumer"
)

// progress is the rebuild progress of a checkpoint or of a consumer's
// partitions together.
type progress struct {
	// delivered counts the events handled since the cursor was last set,
	// behind those still to handle (estimated: behind is an estimate).
	delivered, behind int64
	estimated         bool
	// rate is in events per second; 0 when not known.
	rate float64
}

// progressOf adds up parts: delivered and behind are sums, and the rate
// is the sum of the partitions' rates, since they run side by side.
func progressOf(parts []consumer.Status) progress {
	var p progress
	for _, s := range parts {
		p.delivered += s.Delivered
		p.behind += s.Behind
		p.estimated = p.estimated || s.BehindEstimated
		p.rate += s.Rate
	}
	return p
}

// maxETA caps an estimate: a rate close to 0 would overflow a Duration.
const maxETA = 100 * 365 * 24 * time.Hour

// eta is how long catching up takes at p's rate: 0 when caught up; known
// is false when behind at no known rate.
func (p progress) eta() (d time.Duration, known bool) {
	switch {
	case p.behind <= 0:
		return 0, true
	case p.rate <= 0:
		return 0, false
	}
	s := float64(p.behind) / p.rate
	if s >= maxETA.Seconds() {
		return maxETA, true
	}
	return time.Duration(s * float64(time.Second)), true
}

// etaSeconds is an ETA for JSON: 0 when caught up, null when behind at no
// known rate, else seconds to the millisecond.
func etaSeconds(d time.Duration, known bool) *float64 {
	if !known {
		return nil
	}
	s := math.Round(d.Seconds()*1000) / 1000
	return &s
}

// rateText prints events per second: to a tenth below 10, whole above.
func rateText(r float64) string {
	switch {
	case r <= 0:
		return "0"
	case r < 10:
		return fmt.Sprintf("%.1f", r)
	}
	return fmt.Sprintf("%.0f", r)
}

// durationText prints an ETA to the second below an hour, to the minute
// below two days, then in days and hours.
func durationText(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d < time.Second:
		return "<1s"
	case d < time.Hour:
		return d.Round(time.Second).String()
	case d < 2*day:
		return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
	}
	return fmt.Sprintf("%dd%dh", d/day, (d%day)/time.Hour)
}

// etaText is a status column: "-" caught up, "?" behind at no known rate.
func etaText(d time.Duration, known bool, behind int64) string {
	switch {
	case behind <= 0:
		return "-"
	case !known:
		return "?"
	}
	return durationText(d)
}

// consumerGroup is one consumer of status: its checkpoint, or the
// checkpoints of its partitions.
type consumerGroup struct {
	name string
	// parts are the checkpoints, a partitioned consumer's by partition.
	parts       []consumer.Status
	partitioned bool
}

// groupStatus gathers st's checkpoints by consumer (Status.Consumer), in
// the order the consumers first appear; partitions by index.
func groupStatus(st []consumer.Status) []consumerGroup {
	var out []consumerGroup
	at := map[string]int{}
	for _, s := range st {
		name := s.Consumer
		if name == "" {
			name = s.ConsumerName
		}
		i, ok := at[name]
		if !ok {
			i = len(out)
			at[name] = i
			out = append(out, consumerGroup{name: name})
		}
		out[i].parts = append(out[i].parts, s)
		out[i].partitioned = out[i].partitioned || s.Partition.Partitioned()
	}
	for _, g := range out {
		slices.SortStableFunc(g.parts, func(a, b consumer.Status) int {
			if c := a.Partition.Index - b.Partition.Index; c != 0 {
				return c
			}
			return strings.Compare(a.ConsumerName, b.ConsumerName)
		})
	}
	return out
}

// partitions is how many partitions g's checkpoints name (the largest
// count, should they disagree).
func (g consumerGroup) partitions() int {
	n := 0
	for _, s := range g.parts {
		n = max(n, s.Partition.Count)
	}
	return n
}

// consumerJSON is one checkpoint in status -json: a consumer's, or one
// partition's of a partitioned consumer.
type consumerJSON struct {
	// Consumer is the consumer's name, for a partition too; Checkpoint the
	// checkpoint's ("orders[3/8]"), Partition the partition ("3/8", none
	// for an unpartitioned consumer).
	Consumer          string       `json:"consumer"`
	Checkpoint        string       `json:"checkpoint"`
	Partition         string       `json:"partition,omitempty"`
	Cursor            string       `json:"cursor"`
	Behind            int64        `json:"behind"`
	BehindEstimated   bool         `json:"behind_estimated"`
	OldestBehind      *time.Time   `json:"oldest_behind,omitempty"`
	WaitingFor        []writerJSON `json:"waiting_for"`
	Held              bool         `json:"held"`
	Stopped           bool         `json:"stopped"`
	StoppedAt         *time.Time   `json:"stopped_at,omitempty"`
	Owner             string       `json:"owner"`
	OwnerPresent      bool         `json:"owner_present"`
	UpdatedAt         *time.Time   `json:"updated_at,omitempty"`
	FailedAttempts    int          `json:"failed_attempts"`
	LastError         string       `json:"last_error,omitempty"`
	LastErrorPosition int64        `json:"last_error_position,omitempty"`
	LastErrorAt       *time.Time   `json:"last_error_at,omitempty"`
	// Delivered counts the events handled since DeliveredSince, when the
	// cursor was last set; Rate is their average per second, ETASeconds
	// Behind at Rate (0 caught up, null behind before any event).
	Delivered      int64      `json:"delivered"`
	DeliveredSince *time.Time `json:"delivered_since,omitempty"`
	Rate           float64    `json:"rate"`
	ETASeconds     *float64   `json:"eta_seconds"`
}

func statusJSON(st []consumer.Status) []consumerJSON {
	out := make([]consumerJSON, len(st))
	for i, s := range st {
		c := consumerJSON{Consumer: s.Consumer, Checkpoint: s.ConsumerName, Cursor: s.Cursor.String(), Behind: s.Behind, BehindEstimated: s.BehindEstimated,
			OldestBehind: timeOrNil(s.OldestBehind), WaitingFor: []writerJSON{}, Held: s.Held, Stopped: s.Stopped,
			StoppedAt: timeOrNil(s.StoppedAt), Owner: s.Owner, OwnerPresent: s.OwnerPresent, UpdatedAt: timeOrNil(s.UpdatedAt), FailedAttempts: s.FailedAttempts,
			LastError: s.LastError, LastErrorPosition: s.LastErrorPosition, LastErrorAt: timeOrNil(s.LastErrorAt),
			Delivered: s.Delivered, DeliveredSince: timeOrNil(s.DeliveredSince), Rate: s.Rate,
			ETASeconds: etaSeconds(s.ETA, s.Behind <= 0 || s.Rate > 0)}
		if c.Consumer == "" {
			c.Consumer = s.ConsumerName
		}
		if s.Partition.Partitioned() {
			c.Partition = s.Partition.String()
		}
		for _, w := range s.WaitingFor {
			c.WaitingFor = append(c.WaitingFor, writerOf("", w))
		}
		out[i] = c
	}
	return out
}

// statusText is status's table: a line per consumer; a partitioned
// consumer's line holds its partitions' totals and is followed by an
// indented line per partition.
func statusText(st []consumer.Status) string {
	if len(st) == 0 {
		return "no consumers yet\n"
	}
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CONSUMER\tCURSOR\tBEHIND\tDELIVERED\tRATE\tETA\tWAITING FOR\tSTATE\tOWNER\tUPDATED\tLAST ERROR")
	for _, g := range groupStatus(st) {
		if !g.partitioned {
			for _, s := range g.parts {
				fmt.Fprintln(tw, strings.Join(checkpointCells(s, s.ConsumerName), "\t"))
			}
			continue
		}
		fmt.Fprintln(tw, strings.Join(groupCells(g), "\t"))
		for _, s := range g.parts {
			fmt.Fprintln(tw, strings.Join(checkpointCells(s, "  "+s.ConsumerName), "\t"))
		}
	}
	_ = tw.Flush()
	return b.String()
}

// behindText is a lag, "~" in front when estimated.
func behindText(n int64, estimated bool) string {
	if estimated {
		return fmt.Sprintf("~%d", n)
	}
	return fmt.Sprint(n)
}

// rateCell is a status column: events per second, "-" when unknown.
func rateCell(r float64) string {
	if r <= 0 {
		return "-"
	}
	return rateText(r) + "/s"
}

// checkpointCells are the status columns of one checkpoint, named name.
func checkpointCells(s consumer.Status, name string) []string {
	state := "idle"
	switch {
	case s.Stopped:
		state = "stopped " + s.StoppedAt.UTC().Format(time.RFC3339)
	case s.Held:
		state = "in batch"
	case s.FailedAttempts > 0 && s.OwnerPresent:
		state = fmt.Sprintf("retrying (%d failed)", s.FailedAttempts)
	case s.FailedAttempts > 0:
		// Its process is gone: nobody retries until a processor runs it.
		state = fmt.Sprintf("failed %d times, owner gone", s.FailedAttempts)
	}
	lastErr := "-"
	if s.LastError != "" {
		lastErr = fmt.Sprintf("%s at position %d: %s", s.LastErrorAt.UTC().Format(time.RFC3339), s.LastErrorPosition, firstLine(s.LastError))
	}
	waiting := "-"
	if len(s.WaitingFor) > 0 {
		w := s.WaitingFor[0]
		waiting = fmt.Sprintf("pid %d (%s, %s)", w.PID, orDash(w.State), age(w.Started))
		if n := len(s.WaitingFor); n > 1 {
			waiting += fmt.Sprintf(" +%d", n-1)
		}
	}
	return []string{name, s.Cursor.String(), behindText(s.Behind, s.BehindEstimated), fmt.Sprint(s.Delivered), rateCell(s.Rate),
		etaText(s.ETA, s.Behind <= 0 || s.Rate > 0, s.Behind), waiting, state, ownerText(s.Owner, s.OwnerPresent), timeText(s.UpdatedAt), lastErr}
}

// groupCells are the status columns of a partitioned consumer: its
// partitions' totals (a combined rate, the ETA of the total lag at it) and
// summaries of the rest, which its partitions' lines detail.
func groupCells(g consumerGroup) []string {
	p := progressOf(g.parts)
	d, known := p.eta()
	parts := fmt.Sprintf("%d partitions", g.partitions())
	if n := len(g.parts); n != g.partitions() {
		parts = fmt.Sprintf("%d of %d partitions", n, g.partitions())
	}
	var (
		pids                    []int
		stopped, failing, held  int
		owners                  []string
		present                 = map[string]bool{}
		updated                 time.Time
		withErrors, ownersThere int
	)
	for _, s := range g.parts {
		for _, w := range s.WaitingFor {
			if !slices.Contains(pids, w.PID) {
				pids = append(pids, w.PID)
			}
		}
		switch {
		case s.Stopped:
			stopped++
		case s.FailedAttempts > 0:
			failing++
		}
		if s.Held {
			held++
		}
		if s.Owner != "" && !slices.Contains(owners, s.Owner) {
			owners = append(owners, s.Owner)
		}
		present[s.Owner] = present[s.Owner] || s.OwnerPresent
		if s.UpdatedAt.After(updated) {
			updated = s.UpdatedAt
		}
		if s.LastError != "" {
			withErrors++
		}
	}
	waiting := "-"
	switch len(pids) {
	case 0:
	case 1:
		waiting = "1 writer"
	default:
		waiting = fmt.Sprintf("%d writers", len(pids))
	}
	var states []string
	for _, c := range []struct {
		n    int
		what string
	}{{stopped, "stopped"}, {failing, "failing"}, {held, "in batch"}} {
		if c.n > 0 {
			states = append(states, fmt.Sprintf("%d %s", c.n, c.what))
		}
	}
	state := "idle"
	if len(states) > 0 {
		state = strings.Join(states, ", ")
	}
	owner := "-"
	for _, o := range owners {
		if present[o] {
			ownersThere++
		}
	}
	switch len(owners) {
	case 0:
	case 1:
		owner = ownerText(owners[0], present[owners[0]])
	default:
		owner = fmt.Sprintf("%d owners (%d present)", len(owners), ownersThere)
	}
	lastErr := "-"
	switch withErrors {
	case 0:
	case 1:
		lastErr = "in 1 partition"
	default:
		lastErr = fmt.Sprintf("in %d partitions", withErrors)
	}
	return []string{g.name, parts, behindText(p.behind, p.estimated), fmt.Sprint(p.delivered), rateCell(p.rate), etaText(d, known, p.behind),
		waiting, state, owner, timeText(updated), lastErr}
}

// ownerText is an owner and whether it is present, "-" for none.
func ownerText(owner string, present bool) string {
	switch {
	case owner == "":
		return "-"
	case present:
		return owner + " (present)"
	}
	return owner + " (gone)"
}

// timeText is t in UTC, "-" for the zero time.
func timeText(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
