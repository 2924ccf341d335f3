package eventmap

import (
	"fmt"
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestGeneratedCodeCompiles builds each fixture's generated code in a
// temporary module, against this repository's core (and its memory store,
// for the shredding of personal fields), and runs the round-trip
// tests of testdata/roundtrip there: every event type and version through
// ToESEvents and FromESEvent, and the upcasting chains. It needs the go
// command and github.com/google/uuid (from the module cache or the proxy).
func TestGeneratedCodeCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module with the go command")
	}
	goCmd := filepath.Join(build.Default.GOROOT, "bin", "go")
	if _, err := os.Stat(goCmd); err != nil {
		if goCmd, err = exec.LookPath("go"); err != nil {
			t.Skip("no go command")
		}
	}
	core := coreDir(t)
	for _, f := range fixtures {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			copyTree(t, filepath.Join("testdata", f.name), dir)
			module := strings.TrimSpace(strings.TrimPrefix(strings.SplitN(readFile(t, filepath.Join(dir, "go.mod")), "\n", 2)[0], "module"))
			gomod := fmt.Sprintf(`module %s

go 1.26

require (
	github.com/chronicle-go/chronicle/adapters/memory v0.0.0-00010101000000-000000000000
	github.com/chronicle-go/chronicle/core v0.0.0-00010101000000-000000000000
	github.com/google/uuid v1.6.0
)

replace github.com/chronicle-go/chronicle/core => %s

replace github.com/chronicle-go/chronicle/adapters/memory => %s
`, module, core, filepath.Join(filepath.Dir(core), "adapters", "memory"))
			writeFile(t, filepath.Join(dir, "go.mod"), gomod)
			writeFile(t, filepath.Join(dir, "go.sum"), readFile(t, filepath.Join(core, "go.sum")))
			path, err := Write(Config{Input: filepath.Join(dir, "events"), Output: filepath.Join(dir, "mapping")})
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Base(path) != DefaultFilename {
				t.Errorf("wrote %s, want %s", path, DefaultFilename)
			}
			writeFile(t, filepath.Join(dir, "mapping", f.name+"_test.go"), readFile(t, filepath.Join("testdata", "roundtrip", f.name+"_test.go.txt")))
			for _, args := range [][]string{{"vet", "./..."}, {"test", "-count=1", "./..."}} {
				cmd := exec.Command(goCmd, args...)
				cmd.Dir = dir
				cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
				}
				t.Logf("go %s: %s", strings.Join(args, " "), out)
			}
		})
	}
}

// coreDir finds this repository's core module from this file's location
// (tools/eventmap-gen/eventmap).
func coreDir(t *testing.T) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the test file")
	}
	dir, err := filepath.Abs(filepath.Join(filepath.Dir(file), "..", "..", "..", "core"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("core module not found at %s: %v", dir, err)
	}
	return dir
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
