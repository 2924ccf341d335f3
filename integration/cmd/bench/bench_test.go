package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chronicle-go/chronicle/internal/pgtest"
)

// The quick run is CI's smoke test of the command: every workload runs and
// lands in the table, and the correctness checks hold. Nothing is asserted
// about speed.
func TestQuickRun(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := run(ctx, quickOptions(), io.Discard)
	if errors.Is(err, pgtest.ErrNoServer) && os.Getenv("CI") != "true" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]*result{}
	for _, r := range rep.Results {
		byKey[r.ID+" "+r.Adapter] = r
		if r.EventsPerSec <= 0 {
			t.Errorf("%s on %s with %d writer(s): %v events/s", r.ID, r.Adapter, r.Writers, r.EventsPerSec)
		}
		if r.Ref != "" && r.Ratio <= 0 {
			t.Errorf("%s on %s: no ratio to %s", r.ID, r.Adapter, r.Ref)
		}
		for k, v := range r.Checks {
			if v != 0 {
				t.Errorf("%s on %s: %s = %d, want 0", r.ID, r.Adapter, k, v)
			}
		}
	}
	for _, id := range []string{"L1", "L1a", "L2", "L3", "R4", "R5", "R11"} {
		if byKey[id+" raw"] == nil {
			t.Errorf("reference %s missing from the results", id)
		}
	}
	for _, a := range []string{adapterPgx, adapterPq} {
		for _, id := range []string{"W1", "W1n", "W1e", "W2", "W2e", "W3", "W4", "W5", "W6", "W7", "W7p", "W7s", "W8", "W8h", "W9", "W10", "W11", "W11s"} {
			if byKey[id+" "+a] == nil {
				t.Errorf("workload %s on %s missing from the results", id, a)
			}
		}
		for _, c := range []struct{ id, check string }{{"W3", "errors"}, {"W3", "version_gaps"}, {"W6", "skipped"},
			{"W6", "duplicated"}, {"W6", "out_of_order"}, {"W7s", "extra_events"}, {"W8", "not_handled"},
			{"W8h", "not_handled"}, {"W8h", "holder_gone"}, {"W8h", "slow_consumer_idle"}, {"W10", "behind_off"},
			{"W10", "wrong_consumers"}, {"W9", "duplicated"}, {"W9", "skipped"}, {"W9", "out_of_order"}} {
			if r := byKey[c.id+" "+a]; r != nil {
				if _, ok := r.Checks[c.check]; !ok {
					t.Errorf("%s on %s does not report %s", c.id, a, c.check)
				}
			}
		}
		for _, id := range []string{"W8", "W8h", "W10"} {
			if r := byKey[id+" "+a]; r != nil && r.P50Ms <= 0 && r.P99Ms <= 0 {
				t.Errorf("%s on %s reports no latency", id, a)
			}
		}
		if r := byKey["W7s "+a]; r != nil && r.Metrics["time_to_end_s"] <= 0 {
			t.Errorf("W7s on %s reports no time to the end: %v", a, r.Metrics)
		}
		for _, r := range rep.Results {
			if r.ID == "W1" && r.Adapter == a && r.Writers == 8 && (r.Peer != "W1n/8" || r.PeerRatio <= 0) {
				t.Errorf("W1 ×8 on %s: no ratio to W1n (peer %q, %v)", a, r.Peer, r.PeerRatio)
			}
			if r.ID == "W9" && r.Adapter == a && r.Writers > 1 && (r.Peer != "W9/1" || r.PeerRatio <= 0) {
				t.Errorf("W9 ×%d on %s: no ratio to W9 ×1 (peer %q, %v)", r.Writers, a, r.Peer, r.PeerRatio)
			}
			if r.ID == "W9" && r.Adapter == a && (r.Metrics["balanced_s"] <= 0 || r.Metrics["from_start_events_per_s"] <= 0) {
				t.Errorf("W9 ×%d on %s lacks its balancing time or rate from the start: %v", r.Writers, a, r.Metrics)
			}
			if r.ID == "W7p" && r.Adapter == a && (r.Peer != "W7/1" || r.PeerRatio <= 0) {
				t.Errorf("W7p ×%d on %s: no ratio to W7 (peer %q, %v)", r.Writers, a, r.Peer, r.PeerRatio)
			}
			if (r.ID == "W1e" || r.ID == "W2e") && r.Adapter == a && (r.Peer != fmt.Sprintf("%s/%d", r.ID[:2], r.Writers) || r.PeerRatio <= 0) {
				t.Errorf("%s ×%d on %s: no ratio to %s (peer %q, %v)", r.ID, r.Writers, a, r.ID[:2], r.Peer, r.PeerRatio)
			}
		}
	}
	// pgx counts its statements: a batch is BEGIN, the lease, the
	// checkpoint read, the batch statement, the save and COMMIT.
	if r := byKey["W7 "+adapterPgx]; r != nil && r.Metrics["round_trips_per_batch"] != 1 {
		t.Errorf("W7 on pgx: %v round trips per batch, want 1 (the save, COMMIT AND CHAIN, the next claim and read)", r.Metrics["round_trips_per_batch"])
	}
	var out bytes.Buffer
	if err := rep.print(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"synchronous_commit=", "shared_buffers=", "fsync=", "cores", "go1", "W8 ×1", "L1a ×8", "W8h ×1", "W1/W1n=", "W1e/W1=", "W2e/W2=", "round_trips_per_batch=",
		"W9 ×4", "×4/×1=", "balanced_s=", "W7p ×4", "W7p/W7=", "W9: ×N is N processes"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the table lacks %q:\n%s", want, out.String())
		}
	}
	file := t.TempDir() + "/bench.json"
	if err := rep.writeJSON(file); err != nil {
		t.Fatal(err)
	}
}
