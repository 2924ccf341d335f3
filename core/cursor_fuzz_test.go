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

// FuzzSnapshotContains checks Contains against Visible over every id the
// two snapshots can distinguish.
func FuzzSnapshotContains(f *testing.F) {
	f.Add("5:9:6,8", "5:9:6")
	f.Add("0:0:", "3:3:")
	f.Add("3:7:4,5,6", "3:4:")
	f.Add("10:12:", "4:9:5")
	f.Fuzz(func(t *testing.T, a, b string) {
		s, err1 := core.ParseSnapshot(a)
		o, err2 := core.ParseSnapshot(b)
		if err1 != nil || err2 != nil || s.Xmax > 200 || o.Xmax > 200 {
			return
		}
		want := true
		for id := int64(0); id <= max(s.Xmax, o.Xmax)+1; id++ {
			if o.Visible(id) && !s.Visible(id) {
				want = false
			}
		}
		if got := s.Contains(o); got != want {
			t.Fatalf("%s.Contains(%s) = %v, want %v", s, o, got, want)
		}
	})
}
