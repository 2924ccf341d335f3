package eventmap

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tree writes files (slash-separated path → content) under a new temporary
// module example.com/m and returns its folder.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "go.mod"), "module example.com/m\n\ngo 1.26\n")
	for name, content := range files {
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(filepath.Join(dir, filepath.FromSlash(name)), 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		writeFile(t, filepath.Join(dir, filepath.FromSlash(name)), content)
	}
	return dir
}

const okEvent = "package v1\n\ntype Happened struct{ ID string }\n"

func TestInputErrors(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		cfg   func(dir string) Config // default: input events, output out
		want  []string                // substrings of the error
	}{
		{
			name: "input folder missing",
			cfg: func(dir string) Config {
				return Config{Input: filepath.Join(dir, "nope"), Output: filepath.Join(dir, "out")}
			},
			want: []string{"input folder", "nope", "does not exist"},
		},
		{
			name:  "input is a file",
			files: map[string]string{"events": "x"},
			want:  []string{"events is not a folder"},
		},
		{
			name:  "input folder empty",
			files: map[string]string{"events/": ""},
			want:  []string{"input folder", "is empty"},
		},
		{
			name:  "no exported structs",
			files: map[string]string{"events/e.go": "package events\n\ntype hidden struct{}\n\ntype Name string\n"},
			want:  []string{"no exported struct types in input folder"},
		},
		{
			name:  "no exported structs in a version",
			files: map[string]string{"events/v1/e.go": okEvent, "events/v2/e.go": "package v2\n\ntype x struct{}\n"},
			want:  []string{"no exported struct types in version folder", "v2"},
		},
		{
			name:  "version folder without Go files",
			files: map[string]string{"events/v1/e.go": okEvent, "events/v2/": ""},
			want:  []string{"version folder", "v2 holds no Go files"},
		},
		{
			name:  "same event twice in one version",
			files: map[string]string{"events/v1/e.go": "package v1\n\ntype A struct{}\n\n//chronicle:event name=A\ntype B struct{}\n"},
			want:  []string{"e.go:6", `event type "A" is declared twice in version 1`, "by A and by B"},
		},
		{
			name:  "version folder not a number",
			files: map[string]string{"events/v1/e.go": okEvent, "events/vX/e.go": "package vx\n\ntype A struct{}\n"},
			want:  []string{`"vX" is not a version`},
		},
		{
			name:  "version zero",
			files: map[string]string{"events/v0/e.go": okEvent},
			want:  []string{`"v0" is not a version`},
		},
		{
			name:  "leading zero",
			files: map[string]string{"events/v01/e.go": okEvent},
			want:  []string{`"v01" is not a version`},
		},
		{
			name:  "version suffix",
			files: map[string]string{"events/v2beta/": ""},
			want:  []string{`"v2beta" is not a version`},
		},
		{
			name:  "upper-case V",
			files: map[string]string{"events/V2/e.go": okEvent},
			want:  []string{`"V2" is not a version`},
		},
		{
			name:  "structs next to version folders",
			files: map[string]string{"events/e.go": "package events\n\ntype Stray struct{}\n", "events/v1/e.go": okEvent},
			want:  []string{"e.go:3", "exported struct Stray is directly in input folder"},
		},
		{
			name:  "output inside input",
			files: map[string]string{"events/v1/e.go": okEvent},
			cfg: func(dir string) Config {
				return Config{Input: filepath.Join(dir, "events"), Output: filepath.Join(dir, "events", "mapping")}
			},
			want: []string{"output folder", "is inside input folder"},
		},
		{
			name:  "output is input",
			files: map[string]string{"events/e.go": "package events\n\ntype A struct{}\n"},
			cfg: func(dir string) Config {
				return Config{Input: filepath.Join(dir, "events"), Output: filepath.Join(dir, "events")}
			},
			want: []string{"is inside input folder"},
		},
		{
			name:  "package main",
			files: map[string]string{"events/v1/e.go": "package main\n\ntype A struct{}\n"},
			want:  []string{"package main cannot be imported"},
		},
		{
			name:  "two packages in one folder",
			files: map[string]string{"events/v1/a.go": "package v1\n\ntype A struct{}\n", "events/v1/b.go": "package other\n\ntype B struct{}\n"},
			want:  []string{"b.go: package other, but", "a.go is package v1"},
		},
		{
			name:  "syntax error",
			files: map[string]string{"events/v1/a.go": "package v1\n\ntype A struct{\n"},
			want:  []string{"a.go:3: syntax error"},
		},
		{
			name:  "type declared twice",
			files: map[string]string{"events/v1/a.go": "package v1\n\ntype A struct{}\n", "events/v1/b.go": "package v1\n\ntype A struct{}\n"},
			want:  []string{"b.go:3: type A is declared twice"},
		},
		{
			name:  "unknown directive option",
			files: map[string]string{"events/v1/a.go": "package v1\n\n//chronicle:event nmae=X\ntype A struct{}\n"},
			want:  []string{"a.go:3", `unknown //chronicle:event option "nmae=X"`},
		},
		{
			name:  "personal field of a struct that is not an event",
			files: map[string]string{"events/v1/a.go": "package v1\n\ntype A struct{ ID string }\n\n//chronicle:event ignore\ntype V struct {\n\tID string\n\t//chronicle:personal subject=ID\n\tName string\n}\n"},
			want:  []string{"a.go:8", "not an event struct"},
		},
		{
			name:  "personal field without a subject",
			files: map[string]string{"events/v1/a.go": "package v1\n\ntype A struct {\n\t//chronicle:personal\n\tName string\n}\n"},
			want:  []string{"a.go:4", "subject=<Field>"},
		},
		{
			name:  "personal field whose subject is missing",
			files: map[string]string{"events/v1/a.go": "package v1\n\ntype A struct {\n\t//chronicle:personal subject=ID\n\tName string\n}\n"},
			want:  []string{"a.go:4", "no field ID"},
		},
		{
			name:  "personal field whose subject is not a string",
			files: map[string]string{"events/v1/a.go": "package v1\n\ntype A struct {\n\tID int\n\t//chronicle:personal subject=ID\n\tName string\n}\n"},
			want:  []string{"a.go:5", "must be a string or a uuid.UUID"},
		},
		{
			name:  "personal field that is not encoded",
			files: map[string]string{"events/v1/a.go": "package v1\n\ntype A struct {\n\tID string\n\t//chronicle:personal subject=ID\n\tName string `json:\"-\"`\n}\n"},
			want:  []string{"a.go:5", "nothing to seal"},
		},
		{
			name:  "personal subject",
			files: map[string]string{"events/v1/a.go": "package v1\n\ntype A struct {\n\t//chronicle:personal subject=Name\n\tID string\n\t//chronicle:personal subject=ID\n\tName string\n}\n"},
			want:  []string{"is personal too"},
		},
		{
			name:  "misspelt field directive",
			files: map[string]string{"events/v1/a.go": "package v1\n\ntype A struct {\n\tID string\n\t//chronicle:persnal subject=ID\n\tName string\n}\n"},
			want:  []string{"a.go:5", "the only field directive is //chronicle:personal"},
		},
		{
			name:  "misspelt directive",
			files: map[string]string{"events/v1/a.go": "package v1\n\n//chronicle:evnt name=X\ntype A struct{}\n"},
			want:  []string{"a.go:3", "unknown directive //chronicle:evnt"},
		},
		{
			name:  "empty directive",
			files: map[string]string{"events/v1/a.go": "package v1\n\n//chronicle:event\ntype A struct{}\n"},
			want:  []string{"empty //chronicle:event directive"},
		},
		{
			name:  "invalid event type name",
			files: map[string]string{"events/v1/a.go": "package v1\n\n//chronicle:event name=a\"b\ntype A struct{}\n"},
			want:  []string{`event type "a\"b" is not valid`},
		},
		{
			name:  "directive on a non-struct",
			files: map[string]string{"events/v1/a.go": okEvent + "\n//chronicle:event name=X\ntype N string\n"},
			want:  []string{"//chronicle:event on N, which is not an exported struct type"},
		},
		{
			name:  "misplaced directive",
			files: map[string]string{"events/v1/a.go": okEvent + "\nfunc f() {\n\t//chronicle:event name=X\n}\n"},
			want:  []string{"a.go:6", "must be in the doc comment of a struct type"},
		},
		{
			name:  "ignore and name",
			files: map[string]string{"events/v1/a.go": "package v1\n\n//chronicle:event ignore name=X\ntype A struct{}\n"},
			want:  []string{"both ignore and name="},
		},
		{
			name:  "generic event",
			files: map[string]string{"events/v1/a.go": okEvent + "\ntype G[T any] struct{ V T }\n"},
			want:  []string{"exported struct G is generic"},
		},
		{
			name:  "identifier clash",
			files: map[string]string{"events/v1/a.go": "package v1\n\ntype Foo struct{}\n", "events/v2/a.go": "package v2\n\n//chronicle:event name=Bar\ntype Foo struct{}\n"},
			want:  []string{"generated identifier EventTypeFoo would be declared twice"},
		},
		{
			name:  "bad filename",
			files: map[string]string{"events/v1/e.go": okEvent},
			cfg: func(dir string) Config {
				return Config{Input: filepath.Join(dir, "events"), Output: filepath.Join(dir, "out"), Filename: "x_test.go"}
			},
			want: []string{`filename "x_test.go" must be a plain file name ending in .go`},
		},
		{
			name:  "bad package",
			files: map[string]string{"events/v1/e.go": okEvent},
			cfg: func(dir string) Config {
				return Config{Input: filepath.Join(dir, "events"), Output: filepath.Join(dir, "out"), Package: "my-pkg"}
			},
			want: []string{`package "my-pkg" is not a valid package name`},
		},
		{
			name:  "output folder name not a package name",
			files: map[string]string{"events/v1/e.go": okEvent},
			cfg: func(dir string) Config {
				return Config{Input: filepath.Join(dir, "events"), Output: filepath.Join(dir, "my-out")}
			},
			want: []string{"cannot derive a package name from output folder", "(-package)"},
		},
		{
			name:  "missing input",
			cfg:   func(string) Config { return Config{} },
			want:  []string{"input folder is required"},
			files: nil,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := tree(t, c.files)
			cfg := Config{Input: filepath.Join(dir, "events"), Output: filepath.Join(dir, "out")}
			if c.cfg != nil {
				cfg = c.cfg(dir)
			}
			_, err := Generate(cfg)
			if err == nil {
				t.Fatalf("no error, want one containing %q", c.want)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q spans several lines", err)
			}
			if _, werr := Write(cfg); werr == nil || werr.Error() != err.Error() {
				t.Errorf("Write: %v, want %v", werr, err)
			}
			if _, serr := os.Stat(filepath.Join(cfg.Output, DefaultFilename)); cfg.Output != "" && serr == nil {
				t.Errorf("a file was written despite the error")
			}
		})
	}
}

// TestFlatInput: structs directly in the input folder are version 1, and
// the output package comes from the Go files already in the output folder.
func TestFlatInput(t *testing.T) {
	dir := tree(t, map[string]string{
		"domain/events/e.go":          "package events\n\ntype Happened struct{ ID string }\n",
		"domain/events/testdata/x.go": "package broken",
		"domain/events/validation/":   "",
		"mapping/doc.go":              "// Package glue maps events.\npackage glue\n",
	})
	out, err := Generate(Config{Input: filepath.Join(dir, "domain", "events"), Output: filepath.Join(dir, "mapping")})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"package glue\n", `v1 "example.com/m/domain/events"`, "func ToHappenedV1(", "func FromHappenedV1("} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q", want)
		}
	}
}
