package core_test

import (
	"errors"
	"testing"

	"github.com/chronicle-go/chronicle/core"
)

// FuzzCursor checks the cursor encoding: ParseCursor never panics, accepts
// only non-negative pairs and reports anything else as ErrInvalidArgument;
// every cursor it accepts, and every non-negative cursor, survives a round
// trip through String.
func FuzzCursor(f *testing.F) {
	f.Add("0/0", int64(0), int64(0))
	f.Add("7421/1093", int64(7421), int64(1093))
	f.Add("9223372036854775807/9223372036854775807", int64(9223372036854775807), int64(1))
	f.Add("9223372036854775808/1", int64(-1), int64(0))
	f.Add("-1/2", int64(1), int64(-2))
	f.Add("+1/2", int64(0), int64(0))
	f.Add("1/2/3", int64(0), int64(0))
	f.Add("", int64(0), int64(0))
	f.Add("1 /2", int64(0), int64(0))
	f.Add("0x10/1", int64(0), int64(0))
	f.Add("007/010", int64(0), int64(0))
	f.Fuzz(func(t *testing.T, s string, order, position int64) {
		c, err := core.ParseCursor(s)
		if err != nil {
			if !errors.Is(err, core.ErrInvalidArgument) || c != (core.Cursor{}) {
				t.Fatalf("ParseCursor(%q) = %+v, %v; want the zero cursor and ErrInvalidArgument", s, c, err)
			}
		} else {
			if c.TransactionOrder < 0 || c.GlobalPosition < 0 {
				t.Fatalf("ParseCursor(%q) accepted a negative part: %+v", s, c)
			}
			if again, err := core.ParseCursor(c.String()); err != nil || again != c {
				t.Fatalf("round trip of %+v through %q: %+v, %v", c, c.String(), again, err)
			}
		}
		in := core.Cursor{TransactionOrder: order, GlobalPosition: position}
		out, err := core.ParseCursor(in.String())
		switch {
		case order >= 0 && position >= 0 && (err != nil || out != in):
			t.Fatalf("round trip of %+v through %q: %+v, %v", in, in.String(), out, err)
		case (order < 0 || position < 0) && err == nil:
			t.Fatalf("%q with a negative part parsed as %+v", in.String(), out)
		}
		if in.Compare(in) != 0 || in.Compare(out) != -out.Compare(in) {
			t.Fatalf("Compare is not antisymmetric for %+v and %+v", in, out)
		}
	})
}
