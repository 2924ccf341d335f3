package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/modfile"
)

// check returns every way the workspace is not releasable in lockstep;
// none means it is.
func (ws *workspace) check() []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if v, err := ws.version(); err != nil {
		add("%v", err)
	} else if want, err := ws.wantWork(v); err != nil {
		add("go.work: %v", err)
	} else if !bytes.Equal(want, ws.workRaw) {
		add("go.work's replaces do not resolve every module of its use lines at %s to its folder: run make tidy", v)
	}
	license, err := os.ReadFile(filepath.Join(ws.root, "LICENSE"))
	if err != nil {
		add("the repository has no LICENSE: %v", err)
	}
	lang := goLang(ws.goLine)
	if readme, err := os.ReadFile(filepath.Join(ws.root, "README.md")); err != nil {
		add("the repository has no README.md: %v", err)
	} else if want := "Go " + lang + " or newer"; !bytes.Contains(readme, []byte(want)) {
		add("README.md does not state the oldest Go version go.work names: %q", want)
	}

	for _, m := range ws.modules {
		dir := filepath.Join(ws.root, filepath.FromSlash(m.dir))
		if m.file.Go == nil || m.file.Go.Version != ws.goLine {
			got := "none"
			if m.file.Go != nil {
				got = m.file.Go.Version
			}
			add("%s/go.mod: go %s, want go %s like go.work (one oldest Go version for every module)", m.dir, got, ws.goLine)
		}
		if m.file.Toolchain != nil {
			add("%s/go.mod: toolchain %s: drop it, users choose their toolchain", m.dir, m.file.Toolchain.Name)
		}
		for _, r := range m.file.Replace {
			add("%s/go.mod: replace %s: go.work ties the modules together, a replace would break the module for its users", m.dir, r.Old.Path)
		}
		for _, r := range m.file.Require {
			if ws.ours(r.Mod.Path) && ws.byPath(r.Mod.Path) == nil {
				add("%s/go.mod: requires %s, which is no module of go.work (renamed or removed? make tidy drops it)", m.dir, r.Mod.Path)
			}
		}
		if license != nil {
			got, err := os.ReadFile(filepath.Join(dir, "LICENSE"))
			switch {
			case err != nil:
				add("%s/LICENSE is missing: copy the root LICENSE (a module zip, and so pkg.go.dev, holds only the module's own folder)", m.dir)
			case !bytes.Equal(got, license):
				add("%s/LICENSE differs from the root LICENSE: copy it again", m.dir)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "README.md")); err != nil {
			add("%s/README.md is missing: say what the module is, how to install it, and link the root README", m.dir)
		}
		if lines, err := siblingSums(ws, filepath.Join(dir, "go.sum")); err != nil {
			add("%s/go.sum: %v", m.dir, err)
		} else if len(lines) > 0 {
			add("%s/go.sum holds checksums of our own modules (%s): they would be of unpublished content; make tidy drops them", m.dir, strings.Join(lines, "; "))
		}
	}
	return problems
}

// siblingSums returns the lines of the go.sum file name that are about
// the repository's own modules.
func siblingSums(ws *workspace, name string) ([]string, error) {
	data, err := os.ReadFile(name)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if path, _, _ := strings.Cut(sc.Text(), " "); ws.ours(path) {
			lines = append(lines, strings.Join(strings.Fields(sc.Text())[:2], " "))
		}
	}
	return lines, sc.Err()
}

// goLang returns the language version of a go line: "1.25" for "1.25.0".
func goLang(v string) string {
	if major, rest, ok := strings.Cut(v, "."); ok {
		minor, _, _ := strings.Cut(rest, ".")
		return major + "." + minor
	}
	return v
}

// dropGone removes the requires of the repository's modules that go.work
// does not list (a module renamed or removed), so that go mod tidy, which
// would otherwise look for them, can run. It returns what it dropped.
func (ws *workspace) dropGone() ([]string, error) {
	var dropped []string
	for _, m := range ws.modules {
		var gone []string
		for _, r := range m.file.Require {
			if ws.ours(r.Mod.Path) && ws.byPath(r.Mod.Path) == nil {
				gone = append(gone, r.Mod.Path)
			}
		}
		if len(gone) == 0 {
			continue
		}
		for _, p := range gone {
			if err := m.file.DropRequire(p); err != nil {
				return dropped, err
			}
			dropped = append(dropped, m.dir+"/go.mod: "+p)
		}
		if err := ws.rewrite(m); err != nil {
			return dropped, err
		}
	}
	return dropped, nil
}

// rewrite writes m's edited go.mod back and parses it again.
func (ws *workspace) rewrite(m *workModule) error {
	m.file.Cleanup()
	out, err := m.file.Format()
	if err != nil {
		return err
	}
	name := filepath.Join(ws.root, filepath.FromSlash(m.dir), "go.mod")
	if err := os.WriteFile(name, out, 0o644); err != nil {
		return err
	}
	if m.file, err = modfile.Parse(name, out, nil); err != nil {
		return err
	}
	m.raw = out
	return nil
}

// bump makes every require of a sibling name version v, leaving other
// lines as they are. It returns the go.mod files it changed.
func (ws *workspace) bump(v string) ([]string, error) {
	var changed []string
	for _, m := range ws.modules {
		var stale []string
		for _, r := range m.file.Require {
			if ws.ours(r.Mod.Path) && r.Mod.Version != v {
				stale = append(stale, r.Mod.Path)
			}
		}
		if len(stale) == 0 {
			continue
		}
		for _, p := range stale {
			if err := m.file.AddRequire(p, v); err != nil {
				return changed, err
			}
		}
		if err := ws.rewrite(m); err != nil {
			return changed, err
		}
		changed = append(changed, m.dir+"/go.mod")
	}
	if synced, err := ws.syncWork(v); err != nil {
		return changed, err
	} else if synced {
		changed = append(changed, "go.work")
	}
	return changed, nil
}
