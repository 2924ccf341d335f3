package eventmap

import (
	"fmt"
	"strings"
)

// maxDiffLines bounds the changed lines a summary shows: enough to see what
// changed, short enough for a CI log.
const maxDiffLines = 20

// maxEdits bounds the diff's work (it is quadratic in the number of edits);
// beyond it the summary only says where the files start to differ.
const maxEdits = 2000

// diffSummary describes how want differs from got: the number of lines
// removed and added, then the first changed lines, "-" with their line
// number on disk (got) and "+" with their line number as generated (want).
func diffSummary(got, want string) string {
	a, b := strings.Split(got, "\n"), strings.Split(want, "\n")
	edits, ok := lineDiff(a, b)
	if !ok {
		first := 0
		for first < len(a) && first < len(b) && a[first] == b[first] {
			first++
		}
		return fmt.Sprintf("%d lines on disk, %d generated; they differ from line %d on\n", len(a), len(b), first+1)
	}
	var removed, added int
	for _, e := range edits {
		if e.op == '-' {
			removed++
		} else {
			added++
		}
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d lines removed, %d added:\n", removed, added)
	for i, e := range edits {
		if i == maxDiffLines {
			fmt.Fprintf(&sb, "… (%d more changed lines)\n", len(edits)-i)
			break
		}
		if e.op == '-' {
			fmt.Fprintf(&sb, "-%d: %s\n", e.line+1, a[e.line])
		} else {
			fmt.Fprintf(&sb, "+%d: %s\n", e.line+1, b[e.line])
		}
	}
	return sb.String()
}

// edit is a removed line of a ('-') or an added line of b ('+'), by index.
type edit struct {
	op   byte
	line int
}

// lineDiff returns a shortest edit script from a to b (Myers' algorithm),
// without the unchanged lines, or false when it needs more than maxEdits.
func lineDiff(a, b []string) ([]edit, bool) {
	n, m := len(a), len(b)
	offset := n + m + 1
	v := make([]int, 2*offset+1)
	var trace [][]int
	for d := 0; d <= n+m; d++ {
		if d > maxEdits {
			return nil, false
		}
		trace = append(trace, append([]int(nil), v...))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[offset+k-1] < v[offset+k+1]) {
				x = v[offset+k+1]
			} else {
				x = v[offset+k-1] + 1
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x, y = x+1, y+1
			}
			v[offset+k] = x
			if x >= n && y >= m {
				return backtrack(trace, n, m, offset), true
			}
		}
	}
	return nil, false // not reached: d = n+m always ends the search
}

func backtrack(trace [][]int, n, m, offset int) []edit {
	var edits []edit
	x, y := n, m
	for d := len(trace) - 1; d > 0; d-- {
		v := trace[d]
		k := x - y
		prevK := k - 1
		if k == -d || (k != d && v[offset+k-1] < v[offset+k+1]) {
			prevK = k + 1
		}
		prevX := v[offset+prevK]
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			x, y = x-1, y-1
		}
		if x == prevX {
			edits = append(edits, edit{'+', y - 1})
		} else {
			edits = append(edits, edit{'-', x - 1})
		}
		x, y = prevX, prevY
	}
	for i, j := 0, len(edits)-1; i < j; i, j = i+1, j-1 {
		edits[i], edits[j] = edits[j], edits[i]
	}
	return edits
}
