package eventmap

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ErrStale reports a generated file that is missing or differs from what
// Generate returns. Detail: *StaleError.
var ErrStale = errors.New("generated file is stale")

// StaleError is the detail of ErrStale.
type StaleError struct {
	// Path is the generated file.
	Path string
	// Missing is true when the file does not exist.
	Missing bool
	// Diff summarises the differences: line counts and the first differing
	// lines, "-" for the file on disk and "+" for what would be generated.
	Diff string
}

// Error names the file and says how to fix it; the summary is in Diff.
func (e *StaleError) Error() string {
	if e.Missing {
		return fmt.Sprintf("generated file %s does not exist: run go generate", e.Path)
	}
	return fmt.Sprintf("generated file %s is stale: run go generate", e.Path)
}

// Is reports whether target is ErrStale.
func (e *StaleError) Is(target error) bool { return target == ErrStale }

// Check reports whether the file on disk is what Write would write: nil when
// it is, a *StaleError when it is missing or differs, another error when
// generation fails. It writes nothing.
func Check(cfg Config) error {
	r, err := cfg.resolve()
	if err != nil {
		return err
	}
	want, err := generate(r)
	if err != nil {
		return err
	}
	got, err := os.ReadFile(r.outputPath)
	if errors.Is(err, os.ErrNotExist) {
		return &StaleError{Path: r.outputPath, Missing: true}
	}
	if err != nil {
		return fmt.Errorf("error reading generated file: %w", err)
	}
	if bytes.Equal(got, want) {
		return nil
	}
	return &StaleError{Path: r.outputPath, Diff: diffSummary(string(got), string(want))}
}

// maxDiffLines bounds the lines a summary shows, half per side: enough to
// see what changed, short enough for a CI log.
const maxDiffLines = 20

// diffSummary describes how want differs from got, line by line, from the
// first differing line. It is a summary, not a patch: it shows the block
// between the common prefix and the common suffix, from each side.
func diffSummary(got, want string) string {
	a, b := strings.Split(got, "\n"), strings.Split(want, "\n")
	prefix := 0
	for prefix < len(a) && prefix < len(b) && a[prefix] == b[prefix] {
		prefix++
	}
	suffix := 0
	for suffix < len(a)-prefix && suffix < len(b)-prefix && a[len(a)-1-suffix] == b[len(b)-1-suffix] {
		suffix++
	}
	removed, added := a[prefix:len(a)-suffix], b[prefix:len(b)-suffix]
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d lines on disk, %d generated; they differ from line %d: %d lines on disk replaced by %d\n",
		len(a), len(b), prefix+1, len(removed), len(added))
	for _, side := range []struct {
		mark  string
		lines []string
	}{{"-", removed}, {"+", added}} {
		for i, l := range side.lines {
			if i == maxDiffLines/2 {
				fmt.Fprintf(&sb, "%s… (%d more lines)\n", side.mark, len(side.lines)-i)
				break
			}
			fmt.Fprintf(&sb, "%s%d: %s\n", side.mark, prefix+i+1, l)
		}
	}
	return sb.String()
}
