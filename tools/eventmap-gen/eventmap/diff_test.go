package eventmap

import (
	"math/rand"
	"strings"
	"testing"
)

func TestDiffSummary(t *testing.T) {
	got := "a\nb\nc\nd\ne\n"
	want := "a\nB\nc\nd\ne\nf\n"
	s := diffSummary(got, want)
	for _, line := range []string{"1 lines removed, 2 added:", "-2: b", "+2: B", "+6: f"} {
		if !strings.Contains(s, line+"\n") {
			t.Errorf("summary lacks %q:\n%s", line, s)
		}
	}
	if strings.Contains(s, ": a") || strings.Contains(s, ": c") {
		t.Errorf("summary shows unchanged lines:\n%s", s)
	}
}

// TestLineDiffApplies checks on random inputs that applying the script to a
// gives b and that it is no longer than the trivial one.
func TestLineDiffApplies(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	words := []string{"x", "y", "z", ""}
	gen := func() []string {
		out := make([]string, r.Intn(30))
		for i := range out {
			out[i] = words[r.Intn(len(words))]
		}
		return out
	}
	for i := 0; i < 2000; i++ {
		a, b := gen(), gen()
		edits, ok := lineDiff(a, b)
		if !ok {
			t.Fatal("diff gave up on a small input")
		}
		if len(edits) > len(a)+len(b) {
			t.Fatalf("script of %d edits for %d+%d lines", len(edits), len(a), len(b))
		}
		var out []string
		ai := 0
		for _, e := range edits {
			if e.op == '-' {
				out = append(out, a[ai:e.line]...)
				ai = e.line + 1
			} else {
				// An added line goes where b has it: copy a's kept lines up to it.
				for len(out) < e.line {
					out = append(out, a[ai])
					ai++
				}
				out = append(out, b[e.line])
			}
		}
		out = append(out, a[ai:]...)
		if strings.Join(out, "\n") != strings.Join(b, "\n") || len(out) != len(b) {
			t.Fatalf("applying the script to %q gives %q, want %q", a, out, b)
		}
	}
}
