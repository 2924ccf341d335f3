package eventmap

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	dir := tree(t, map[string]string{"events/v1/e.go": okEvent})
	cfg := Config{Input: filepath.Join(dir, "events"), Output: filepath.Join(dir, "out")}
	var stale *StaleError
	if err := Check(cfg); !errors.As(err, &stale) || !stale.Missing {
		t.Fatalf("missing file: %v", err)
	}
	path, err := Write(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(cfg); err != nil {
		t.Fatalf("fresh file: %v", err)
	}
	writeFile(t, filepath.Join(dir, "events", "v1", "f.go"), "package v1\n\ntype Later struct{ N int }\n")
	err = Check(cfg)
	if !errors.As(err, &stale) || stale.Missing || !strings.Contains(err.Error(), "is stale: run go generate") {
		t.Fatalf("stale file: %v", err)
	}
	if !strings.Contains(stale.Diff, "0 lines removed, ") || !strings.Contains(stale.Diff, "+") || !strings.Contains(stale.Diff, "Later") {
		t.Errorf("diff summary:\n%s", stale.Diff)
	}
	before, _ := os.Stat(path)
	if _, err := Write(cfg); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(path)
	if before.ModTime().Equal(after.ModTime()) && before.Size() == after.Size() {
		t.Errorf("Write did not update the stale file")
	}
	if err := Check(cfg); err != nil {
		t.Fatalf("after rewrite: %v", err)
	}
}
