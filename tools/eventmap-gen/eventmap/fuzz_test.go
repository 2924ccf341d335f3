package eventmap

import (
	"bytes"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzGenerate feeds arbitrary source to discovery and generation. Whatever
// the input, Generate must not panic; an error must be one line; output
// must parse as Go and be the same on a second run.
func FuzzGenerate(f *testing.F) {
	f.Add(okEvent)
	f.Add("package v1\n\n//chronicle:event name=user.registered\ntype A struct{ M map[string][]*B }\n\n//chronicle:event ignore\ntype B struct{ T [2]int }\n")
	f.Add("package v1\n\ntype A struct{ C chan int }\n")
	f.Add("package v1\n\ntype A struct{ a, B int `json:\"-\"` }\n")
	f.Add("package v1\n\ntype (\n\t// doc\n\tA struct{}\n\tB = A\n)\n")
	f.Add("package v1\n\n//chronicle:event name=X ignore\ntype A struct{}\n")
	f.Add("package v1\n\ntype A struct{ T }\ntype T int\nfunc (T) MarshalText() ([]byte, error) { return nil, nil }\n")
	f.Add("package v1\n\ntype A[T any] struct{}\n")
	f.Add("package main\n")
	f.Add("package v1\n\ntype A struct{ X *A; Y []map[K]A }\ntype K string\n")
	f.Add("package v1\n\nimport u \"github.com/google/uuid\"\n\ntype A struct{ ID u.UUID }\n")
	for _, path := range []string{"testdata/fixture/events/v1/user.go", "testdata/fixture/events/v2/user.go", "testdata/fixture/events/v2/values.go"} {
		if data, err := os.ReadFile(path); err == nil {
			f.Add(strings.Replace(string(data), "package v2", "package v1", 1))
		}
	}
	f.Fuzz(func(t *testing.T, src string) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/fuzz\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, "events", "v1"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "events", "v1", "e.go"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg := Config{Input: filepath.Join(dir, "events"), Output: filepath.Join(dir, "out")}
		out, err := Generate(cfg)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans several lines: %q", err)
			}
			return
		}
		if _, err := parser.ParseFile(token.NewFileSet(), "out.go", out, 0); err != nil {
			t.Fatalf("generated code does not parse: %v\n%s", err, out)
		}
		again, err := Generate(cfg)
		if err != nil || !bytes.Equal(out, again) {
			t.Fatalf("second run differs (%v)", err)
		}
	})
}
