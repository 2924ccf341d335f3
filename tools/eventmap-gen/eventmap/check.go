package eventmap

import (
	"bytes"
	"errors"
	"fmt"
	"os"
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
