package eventmap

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestModuleDetection(t *testing.T) {
	dir := tree(t, map[string]string{"events/v1/e.go": okEvent})
	writeFile(t, filepath.Join(dir, "go.mod"), "// a comment\nmodule \"example.com/quoted\" // trailing\n\ngo 1.26\n")
	out, err := Generate(Config{Input: filepath.Join(dir, "events"), Output: filepath.Join(dir, "out")})
	if err != nil || !strings.Contains(string(out), `"example.com/quoted/events/v1"`) {
		t.Fatalf("quoted module path: %v", err)
	}
	out, err = Generate(Config{Input: filepath.Join(dir, "events"), Output: filepath.Join(dir, "out"), Module: "example.org/override"})
	if err != nil || !strings.Contains(string(out), `"example.org/override/events/v1"`) {
		t.Fatalf("-module override: %v", err)
	}
	writeFile(t, filepath.Join(dir, "go.mod"), "go 1.26\n")
	if _, err := Generate(Config{Input: filepath.Join(dir, "events"), Output: filepath.Join(dir, "out")}); err == nil || !strings.Contains(err.Error(), "no module directive") {
		t.Fatalf("go.mod without module: %v", err)
	}
}
