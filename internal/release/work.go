package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/modfile"
)

// workReplaces returns the replace section go.work must end with for
// version v: every module of go.work, at v, resolved to its folder.
//
// The modules require each other at v, which the proxy may not serve (not
// tagged yet, or being released). A go command in the workspace takes the
// packages of a module from its folder, but still reads the go.mod of
// every required version, and would ask the proxy for v. These lines make
// it read that go.mod from the folder too.
func (ws *workspace) workReplaces(v string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "// The modules require each other at %s, the version of their next or last\n", v)
	b.WriteString("// release; these lines resolve it to the folders, so that no go command in\n")
	b.WriteString("// the workspace asks a proxy for it. make tidy writes them from the use\n")
	b.WriteString("// lines, make release when it bumps the version.\n")
	b.WriteString("replace (\n")
	for _, m := range ws.modules {
		fmt.Fprintf(&b, "\t%s %s => ./%s\n", m.path, v, m.dir)
	}
	b.WriteString(")\n")
	return b.String()
}

// workWithout returns go.work without its replaces of our modules and
// the comment above them.
func (ws *workspace) workWithout() ([]byte, error) {
	wf, err := modfile.ParseWork("go.work", ws.workRaw, nil)
	if err != nil {
		return nil, err
	}
	for _, r := range wf.Replace {
		if ws.ours(r.Old.Path) {
			if err := wf.DropReplace(r.Old.Path, r.Old.Version); err != nil {
				return nil, err
			}
		}
	}
	wf.Cleanup()
	return bytes.TrimRight(modfile.Format(wf.Syntax), "\n"), nil
}

// wantWork returns go.work as it must be for version v.
func (ws *workspace) wantWork(v string) ([]byte, error) {
	base, err := ws.workWithout()
	if err != nil {
		return nil, err
	}
	return append(append(base, "\n\n"...), ws.workReplaces(v)...), nil
}

// syncWork rewrites go.work's replaces for version v; it reports whether
// the file changed.
func (ws *workspace) syncWork(v string) (bool, error) {
	want, err := ws.wantWork(v)
	if err != nil {
		return false, err
	}
	if bytes.Equal(want, ws.workRaw) {
		return false, nil
	}
	if err := os.WriteFile(filepath.Join(ws.root, "go.work"), want, 0o644); err != nil {
		return false, err
	}
	ws.workRaw = want
	ws.work, err = modfile.ParseWork("go.work", want, nil)
	return true, err
}
