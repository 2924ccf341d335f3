// Command release keeps Chronicle's modules releasable in lockstep: every
// module of go.work requires its siblings at one version, and one release
// tags them all (core/vX.Y.Z, adapters/postgres-pgx/vX.Y.Z, …). go.work is
// the only list of modules it reads.
//
//	release check           every module: one sibling version, go line as go.work's,
//	                        LICENSE as the root's, a README.md, no replace, no sums of siblings
//	release version         print the version the modules require each other at
//	release bump vX.Y.Z     make every require of a sibling name vX.Y.Z (and go.work's replaces)
//	release sync-work       write go.work's replaces: every module at that version to its folder
//	release proxy DIR       write a file:// GOPROXY of every module at that version
//	release strip-sums [F…] drop our own modules' lines from every go.sum (or from the files F)
//	release drop-gone       drop the requires of our modules that go.work no longer lists
//	release tags            print the tags a release of that version pushes
//
// Run it from the repository root (the folder of go.work), or pass -C.
// The scripts under scripts/ and the Makefile's release targets use it.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fset := flag.NewFlagSet("release", flag.ContinueOnError)
	fset.SetOutput(stderr)
	root := fset.String("C", ".", "the repository root, where go.work is")
	fset.Usage = func() {
		fmt.Fprintln(stderr, "usage: release [-C root] check | version | bump vX.Y.Z | sync-work | proxy DIR | strip-sums [FILE…] | drop-gone | tags")
	}
	if err := fset.Parse(args); err != nil {
		return 2
	}
	args = fset.Args()
	if len(args) == 0 {
		fset.Usage()
		return 2
	}
	want := map[string]int{"check": 0, "version": 0, "bump": 1, "sync-work": 0, "proxy": 1, "strip-sums": -1, "drop-gone": 0, "tags": 0}
	n, ok := want[args[0]]
	if !ok || (n >= 0 && len(args)-1 != n) {
		fset.Usage()
		return 2
	}
	ws, err := loadWorkspace(*root)
	if err != nil {
		fmt.Fprintln(stderr, "release:", err)
		return 1
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "release:", err)
		return 1
	}
	switch args[0] {
	case "check":
		problems := ws.check()
		for _, p := range problems {
			fmt.Fprintln(stderr, "release check:", p)
		}
		if len(problems) > 0 {
			return 1
		}
		v, _ := ws.version()
		fmt.Fprintf(stdout, "release check: %d modules of go.work require each other at %s, all go %s, each with the LICENSE and a README.md\n", len(ws.modules), v, ws.goLine)
	case "version":
		v, err := ws.version()
		if err != nil {
			return fail(err)
		}
		fmt.Fprintln(stdout, v)
	case "bump":
		v := args[1]
		if !releasable(v) {
			return fail(fmt.Errorf("%q is not a release version: want vX.Y.Z (or vX.Y.Z-pre) with X 0 or 1", v))
		}
		changed, err := ws.bump(v)
		for _, c := range changed {
			fmt.Fprintln(stdout, "bumped", c)
		}
		if err != nil {
			return fail(err)
		}
	case "sync-work":
		v, err := ws.version()
		if err != nil {
			return fail(err)
		}
		if synced, err := ws.syncWork(v); err != nil {
			return fail(err)
		} else if synced {
			fmt.Fprintln(stdout, "wrote go.work's replaces for", v)
		}
	case "proxy":
		v, err := ws.version()
		if err != nil {
			return fail(err)
		}
		if err := ws.writeProxy(args[1], v); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "release: wrote %d modules at %s to %s\n", len(ws.modules), v, args[1])
	case "strip-sums":
		files := args[1:]
		if len(files) == 0 {
			for _, m := range ws.modules {
				files = append(files, filepath.Join(ws.root, filepath.FromSlash(m.dir), "go.sum"))
			}
		}
		for _, name := range files {
			if err := stripSums(ws, name); err != nil {
				return fail(err)
			}
		}
	case "drop-gone":
		changed, err := ws.dropGone()
		for _, c := range changed {
			fmt.Fprintln(stdout, "dropped", c)
		}
		if err != nil {
			return fail(err)
		}
	case "tags":
		v, err := ws.version()
		if err != nil {
			return fail(err)
		}
		fmt.Fprintln(stdout, strings.Join(ws.tags(v), "\n"))
	}
	return 0
}

// stripSums drops the lines about the repository's own modules from the
// go.sum file name, removing the file if nothing is left.
func stripSums(ws *workspace, name string) error {
	data, err := os.ReadFile(name)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var kept bytes.Buffer
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if path, _, _ := strings.Cut(line, " "); line == "" || ws.ours(path) {
			continue
		}
		kept.WriteString(line)
	}
	if bytes.Equal(kept.Bytes(), data) {
		return nil
	}
	if kept.Len() == 0 {
		return os.Remove(name)
	}
	return os.WriteFile(name, kept.Bytes(), 0o644)
}
