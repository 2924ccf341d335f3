package main

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"
)

// workspace is go.work's modules: the one list every release step reads.
type workspace struct {
	root    string // the directory of go.work
	repo    string // the module path prefix they share: github.com/chronicle-go/chronicle
	goLine  string // go.work's go version, the one every module states
	modules []*workModule
	work    *modfile.WorkFile
	workRaw []byte
}

// workModule is one use line of go.work and its go.mod.
type workModule struct {
	dir  string // slash-separated, relative to the root: "adapters/postgres-pgx"
	path string // the module path
	file *modfile.File
	raw  []byte
}

// loadWorkspace reads go.work in root and every module it uses.
func loadWorkspace(root string) (*workspace, error) {
	name := filepath.Join(root, "go.work")
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	wf, err := modfile.ParseWork(name, data, nil)
	if err != nil {
		return nil, err
	}
	if wf.Go == nil {
		return nil, fmt.Errorf("%s has no go line", name)
	}
	ws := &workspace{root: root, goLine: wf.Go.Version, work: wf, workRaw: data}
	for _, use := range wf.Use {
		dir := path.Clean(filepath.ToSlash(use.Path))
		if dir == "." || strings.HasPrefix(dir, "../") || path.IsAbs(dir) {
			return nil, fmt.Errorf("go.work uses %s: every module must be a folder inside the repository, tagged %s/vX.Y.Z", use.Path, dir)
		}
		modName := filepath.Join(root, filepath.FromSlash(dir), "go.mod")
		raw, err := os.ReadFile(modName)
		if err != nil {
			return nil, err
		}
		f, err := modfile.Parse(modName, raw, nil)
		if err != nil {
			return nil, err
		}
		if f.Module == nil {
			return nil, fmt.Errorf("%s has no module line", modName)
		}
		p := f.Module.Mod.Path
		// A module's tag is its folder plus the version, so the module path
		// must be the repository's path plus the folder.
		repo, ok := strings.CutSuffix(p, "/"+dir)
		if !ok {
			return nil, fmt.Errorf("%s: module %s is not named after its folder %s (its tags would not resolve)", modName, p, dir)
		}
		if ws.repo == "" {
			ws.repo = repo
		} else if repo != ws.repo {
			return nil, fmt.Errorf("%s: module %s is not under %s like the others", modName, p, ws.repo)
		}
		ws.modules = append(ws.modules, &workModule{dir: dir, path: p, file: f, raw: raw})
	}
	if len(ws.modules) == 0 {
		return nil, fmt.Errorf("%s uses no module", name)
	}
	return ws, nil
}

// byPath returns the workspace module with the module path p, or nil.
func (ws *workspace) byPath(p string) *workModule {
	for _, m := range ws.modules {
		if m.path == p {
			return m
		}
	}
	return nil
}

// ours reports whether the module path p is in the repository: a module
// of go.work or one that used to be.
func (ws *workspace) ours(p string) bool {
	return strings.HasPrefix(p, ws.repo+"/")
}

// errNoVersion: no module requires a sibling, so nothing says which
// version the modules are at.
var errNoVersion = errors.New("no module requires a sibling, so no version is recorded")

// version returns the one version at which the modules require each
// other, or an error listing the requires that disagree.
func (ws *workspace) version() (string, error) {
	seen := map[string][]string{}
	var order []string
	for _, m := range ws.modules {
		for _, r := range m.file.Require {
			if !ws.ours(r.Mod.Path) {
				continue
			}
			v := r.Mod.Version
			if _, ok := seen[v]; !ok {
				order = append(order, v)
			}
			seen[v] = append(seen[v], m.dir+" → "+strings.TrimPrefix(r.Mod.Path, ws.repo+"/"))
		}
	}
	switch len(order) {
	case 0:
		return "", errNoVersion
	case 1:
		v := order[0]
		if !releasable(v) {
			return "", fmt.Errorf("the modules require each other at %s, which is not a release version vX.Y.Z", v)
		}
		return v, nil
	}
	var b strings.Builder
	b.WriteString("the modules require each other at more than one version (run make release VERSION=… to align them):")
	for _, v := range order {
		fmt.Fprintf(&b, "\n  %s: %s", v, strings.Join(seen[v], ", "))
	}
	return "", errors.New(b.String())
}

// releasable reports whether v can be a lockstep version: canonical
// semver with major version 0 or 1, since a v2 would need /v2 module
// paths.
func releasable(v string) bool {
	if !semver.IsValid(v) || semver.Canonical(v) != v || semver.Build(v) != "" {
		return false
	}
	major := semver.Major(v)
	return major == "v0" || major == "v1"
}

// tags returns the tag of every module at version v, in go.work's order.
func (ws *workspace) tags(v string) []string {
	tags := make([]string, 0, len(ws.modules))
	for _, m := range ws.modules {
		tags = append(tags, m.dir+"/"+v)
	}
	return tags
}
