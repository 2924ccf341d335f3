package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
)

const license = "MIT License\n\nCopyright (c) The Test Authors\n"

// repo writes a repository of three modules at v0.1.0 into a temporary
// folder: a, b requiring a, and tools/c requiring a and b.
func repo(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"go.work":   "go 1.25.0\n\nuse (\n\t./a\n\t./b\n\t./tools/c\n)\n",
		"LICENSE":   license,
		"README.md": "# test\n\nRequirements: Go 1.25 or newer.\n",

		"a/go.mod":    "module example.com/r/a\n\ngo 1.25.0\n",
		"a/a.go":      "package a\n",
		"a/LICENSE":   license,
		"a/README.md": "# a\n",
		// A nested module's files stay out of a's zip.
		"a/testdata/m/go.mod": "module example.com/m\n",
		"a/testdata/m/m.go":   "package m\n",

		"b/go.mod":    "module example.com/r/b\n\ngo 1.25.0\n\nrequire example.com/r/a v0.1.0\n",
		"b/go.sum":    "example.com/other v1.0.0 h1:x=\n",
		"b/b.go":      "package b\n",
		"b/LICENSE":   license,
		"b/README.md": "# b\n",

		"tools/c/go.mod":    "module example.com/r/tools/c\n\ngo 1.25.0\n\nrequire (\n\texample.com/r/a v0.1.0\n\texample.com/r/b v0.1.0 // indirect\n)\n",
		"tools/c/main.go":   "package main\n\nfunc main() {}\n",
		"tools/c/LICENSE":   license,
		"tools/c/README.md": "# c\n",
	}
	for name, data := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ws := load(t, root)
	if _, err := ws.syncWork("v0.1.0"); err != nil {
		t.Fatal(err)
	}
	return root
}

func load(t *testing.T, root string) *workspace {
	t.Helper()
	ws, err := loadWorkspace(root)
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

func write(t *testing.T, root, name, data string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(name)), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCheckPassesAndTags(t *testing.T) {
	ws := load(t, repo(t))
	if problems := ws.check(); len(problems) > 0 {
		t.Fatalf("check: %q", problems)
	}
	v, err := ws.version()
	if err != nil || v != "v0.1.0" {
		t.Fatalf("version = %q, %v", v, err)
	}
	if got, want := ws.tags(v), []string{"a/v0.1.0", "b/v0.1.0", "tools/c/v0.1.0"}; !slices.Equal(got, want) {
		t.Fatalf("tags = %q, want %q", got, want)
	}
}

func TestCheckFindsEveryProblem(t *testing.T) {
	root := repo(t)
	write(t, root, "b/go.mod", "module example.com/r/b\n\ngo 1.26\n\nrequire (\n\texample.com/r/a v0.2.0\n\texample.com/r/gone v0.1.0\n)\n\nreplace example.com/r/a => ../a\n")
	write(t, root, "b/go.sum", "example.com/r/a v0.2.0 h1:x=\nexample.com/r/a v0.2.0/go.mod h1:y=\n")
	write(t, root, "tools/c/LICENSE", "something else\n")
	if err := os.Remove(filepath.Join(root, "a", "README.md")); err != nil {
		t.Fatal(err)
	}
	write(t, root, "README.md", "# test\n\nRequirements: Go 1.26.\n")
	problems := strings.Join(load(t, root).check(), "\n")
	for _, want := range []string{
		"more than one version",
		"b/go.mod: go 1.26, want go 1.25.0",
		"b/go.mod: replace example.com/r/a",
		"b/go.mod: requires example.com/r/gone, which is no module of go.work",
		"tools/c/LICENSE differs",
		"a/README.md is missing",
		"b/go.sum holds checksums of our own modules",
		`README.md does not state the oldest Go version go.work names: "Go 1.25 or newer"`,
	} {
		if !strings.Contains(problems, want) {
			t.Errorf("check does not report %q; it reports:\n%s", want, problems)
		}
	}
}

func TestModuleNamedAfterItsFolder(t *testing.T) {
	root := repo(t)
	write(t, root, "tools/c/go.mod", "module example.com/r/c\n\ngo 1.25.0\n")
	if _, err := loadWorkspace(root); err == nil || !strings.Contains(err.Error(), "not named after its folder") {
		t.Fatalf("loadWorkspace = %v, want an error about the folder", err)
	}
}

func TestBumpAndSyncWork(t *testing.T) {
	root := repo(t)
	ws := load(t, root)
	changed, err := ws.bump("v0.2.0")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"b/go.mod", "tools/c/go.mod", "go.work"}; !slices.Equal(changed, want) {
		t.Fatalf("bump changed %q, want %q", changed, want)
	}
	ws = load(t, root)
	if problems := ws.check(); len(problems) > 0 {
		t.Fatalf("check after bump: %q", problems)
	}
	c, _ := os.ReadFile(filepath.Join(root, "tools", "c", "go.mod"))
	if !bytes.Contains(c, []byte("example.com/r/b v0.2.0 // indirect")) {
		t.Fatalf("bump lost the indirect comment:\n%s", c)
	}
	work, _ := os.ReadFile(filepath.Join(root, "go.work"))
	wf, err := modfile.ParseWork("go.work", work, nil)
	if err != nil {
		t.Fatal(err)
	}
	var replaces []string
	for _, r := range wf.Replace {
		replaces = append(replaces, r.Old.String()+" => "+r.New.Path)
	}
	want := []string{"example.com/r/a@v0.2.0 => ./a", "example.com/r/b@v0.2.0 => ./b", "example.com/r/tools/c@v0.2.0 => ./tools/c"}
	if !slices.Equal(replaces, want) {
		t.Fatalf("go.work replaces %q, want %q", replaces, want)
	}
	if n := strings.Count(string(work), "resolve it to the folders"); n != 1 {
		t.Fatalf("go.work holds the replaces' comment %d times:\n%s", n, work)
	}
	if changed, err := load(t, root).bump("v0.2.0"); err != nil || len(changed) > 0 {
		t.Fatalf("a second bump changed %q, %v", changed, err)
	}
}

func TestDropGone(t *testing.T) {
	root := repo(t)
	write(t, root, "b/go.mod", "module example.com/r/b\n\ngo 1.25.0\n\nrequire (\n\texample.com/r/a v0.1.0\n\texample.com/r/gone v0.1.0\n)\n")
	dropped, err := load(t, root).dropGone()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"b/go.mod: example.com/r/gone"}; !slices.Equal(dropped, want) {
		t.Fatalf("dropGone = %q, want %q", dropped, want)
	}
	if problems := load(t, root).check(); len(problems) > 0 {
		t.Fatalf("check after dropGone: %q", problems)
	}
}

func TestStripSums(t *testing.T) {
	root := repo(t)
	write(t, root, "b/go.sum", "example.com/other v1.0.0 h1:x=\nexample.com/r/a v0.1.0 h1:y=\nexample.com/r/a v0.1.0/go.mod h1:z=\n")
	ws := load(t, root)
	if err := stripSums(ws, filepath.Join(root, "b", "go.sum")); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(root, "b", "go.sum")); string(got) != "example.com/other v1.0.0 h1:x=\n" {
		t.Fatalf("go.sum after strip:\n%s", got)
	}
}

func TestWriteProxy(t *testing.T) {
	root := repo(t)
	ws := load(t, root)
	dir := t.TempDir()
	if err := ws.writeProxy(dir, "v0.1.0"); err != nil {
		t.Fatal(err)
	}
	for _, m := range ws.modules {
		at := filepath.Join(dir, filepath.FromSlash(m.path), "@v")
		for _, name := range []string{"list", "v0.1.0.info", "v0.1.0.mod", "v0.1.0.zip"} {
			if _, err := os.Stat(filepath.Join(at, name)); err != nil {
				t.Fatal(err)
			}
		}
		mod, _ := os.ReadFile(filepath.Join(at, "v0.1.0.mod"))
		if !bytes.Equal(mod, m.raw) {
			t.Errorf("%s: the .mod is not the go.mod", m.dir)
		}
		cf, err := modzip.CheckZip(module.Version{Path: m.path, Version: "v0.1.0"}, filepath.Join(at, "v0.1.0.zip"))
		if err != nil {
			t.Fatalf("%s: %v", m.dir, err)
		}
		prefix := m.path + "@v0.1.0/"
		if !slices.Contains(cf.Valid, prefix+"LICENSE") || !slices.Contains(cf.Valid, prefix+"go.mod") {
			t.Errorf("%s: zip holds %q", m.dir, cf.Valid)
		}
		if m.dir == "a" && slices.Contains(cf.Valid, prefix+"testdata/m/m.go") {
			t.Errorf("a's zip holds the nested module: %q", cf.Valid)
		}
	}
	if err := ws.writeProxy(dir, "v0.1"); err == nil {
		t.Fatal("writeProxy accepted v0.1")
	}
}

func TestWriteProxyRefusesAFileAModuleZipCannotHold(t *testing.T) {
	root := repo(t)
	write(t, root, "a/nul", "x")
	err := load(t, root).writeProxy(t.TempDir(), "v0.1.0")
	if err == nil || !strings.Contains(err.Error(), "nul") {
		t.Fatalf("writeProxy = %v, want an error naming the file", err)
	}
}

func TestReleasable(t *testing.T) {
	for v, want := range map[string]bool{"v0.1.0": true, "v1.2.3": true, "v0.2.0-rc.1": true, "v2.0.0": false, "v0.1": false, "0.1.0": false, "v0.1.0+meta": false} {
		if got := releasable(v); got != want {
			t.Errorf("releasable(%q) = %v, want %v", v, got, want)
		}
	}
}

func TestRunUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"frobnicate"}, &out, &errOut); code != 2 {
		t.Fatalf("run frobnicate = %d, want 2", code)
	}
	if code := run([]string{"-C", repo(t), "bump", "v2.0.0"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "not a release version") {
		t.Fatalf("bump v2.0.0 = %d: %s", code, errOut.String())
	}
}
