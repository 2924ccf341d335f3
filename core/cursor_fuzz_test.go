package core_test

import (
	"errors"
	"testing"

	"github.com/chronicle-go/chronicle/core"
)

// FuzzCursor checks the cursor encoding: ParseCursor never panics, accepts
// only valid cursors (see Cursor.Validate), and String and ParseCursor are
// inverse.
func FuzzCursor(f *testing.F) {
	for _, s := range []string{"0:0:", "742:748:743,745", "742:748:743/750:750:/1093", "", "1:0:", "3:5:4,4", "3:5:7",
		"a:b:", "1:2:3:4", "1:2:1/1:1:/5", "-1:2:", "+1:2:", "1:2:/1:3:/-4", "742:748:743/740:740:/1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := core.ParseCursor(s)
		if err != nil {
			if !errors.Is(err, core.ErrInvalidArgument) || !isZero(c) {
				t.Fatalf("ParseCursor(%q) = %+v, %v; want the zero cursor and ErrInvalidArgument", s, c, err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("ParseCursor(%q) accepted an invalid cursor: %v", s, err)
		}
		again, err := core.ParseCursor(c.String())
		if err != nil || !again.Equal(c) {
			t.Fatalf("ParseCursor(%q).String() = %q does not parse back: %+v, %v", s, c.String(), again, err)
		}
	})
}

func isZero(c core.Cursor) bool { return c.Snapshot.IsZero() && c.Upper.IsZero() && c.Position == 0 }

// TestSnapshotContainsMatchesVisible checks Contains against Visible over
// every pair of snapshots of transactions 0 to 5: every xmin <= xmax and
// every set of running ids between them. Exhaustive over a small universe
// rather than fuzzed, so that it is deterministic and complete there.
func TestSnapshotContainsMatchesVisible(t *testing.T) {
	const top = 5
	var all []core.Snapshot
	for xmax := int64(0); xmax <= top; xmax++ {
		for xmin := int64(0); xmin <= xmax; xmin++ {
			width := xmax - xmin
			for mask := 0; mask < 1<<width; mask++ {
				s := core.Snapshot{Xmin: xmin, Xmax: xmax}
				for i := range width {
					if mask&(1<<i) != 0 {
						s.Xip = append(s.Xip, xmin+i)
					}
				}
				if err := s.Validate(); err != nil {
					t.Fatalf("%s: %v", s, err)
				}
				all = append(all, s)
			}
		}
	}
	for _, s := range all {
		for _, o := range all {
			want := true
			for id := int64(0); id <= top+1; id++ {
				if o.Visible(id) && !s.Visible(id) {
					want = false
				}
			}
			if got := s.Contains(o); got != want {
				t.Fatalf("%s.Contains(%s) = %v, want %v", s, o, got, want)
			}
		}
	}
}
