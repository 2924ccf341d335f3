package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
)

// writeProxy writes, under dir, a module proxy in the layout GOPROXY
// reads (file://dir): for every module of the workspace at version v,
// @v/list, @v/v.info, @v/v.mod and @v/v.zip. The zip holds what a tag
// would: the module folder's files that git tracks or would track (not
// ignored), uncommitted changes included, minus nested modules.
func (ws *workspace) writeProxy(dir, v string) error {
	if !releasable(v) {
		return fmt.Errorf("version %s is not a release version vX.Y.Z", v)
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{v, time.Now().UTC().Truncate(time.Second)})
	if err != nil {
		return err
	}
	for _, m := range ws.modules {
		escaped, err := module.EscapePath(m.path)
		if err != nil {
			return err
		}
		at := filepath.Join(dir, filepath.FromSlash(escaped), "@v")
		if err := os.MkdirAll(at, 0o755); err != nil {
			return err
		}
		files, err := ws.moduleFiles(m)
		if err != nil {
			return fmt.Errorf("error listing the files of %s: %w", m.dir, err)
		}
		var zip bytes.Buffer
		if err := modzip.Create(&zip, module.Version{Path: m.path, Version: v}, files); err != nil {
			return fmt.Errorf("error zipping %s: %w", m.dir, err)
		}
		for name, data := range map[string][]byte{
			"list":      []byte(v + "\n"),
			v + ".info": info,
			v + ".mod":  m.raw,
			v + ".zip":  zip.Bytes(),
		} {
			if err := os.WriteFile(filepath.Join(at, name), data, 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// moduleFiles lists the files of m that a tag would hold. Outside a git
// work tree it falls back to every file of the folder.
func (ws *workspace) moduleFiles(m *workModule) ([]modzip.File, error) {
	dir := filepath.Join(ws.root, filepath.FromSlash(m.dir))
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", ".")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if strings.Contains(stderr.String(), "not a git repository") {
			return walkFiles(dir)
		}
		return nil, fmt.Errorf("git ls-files: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var files []modzip.File
	seen := map[string]bool{}
	for _, rel := range strings.Split(string(out), "\x00") {
		if rel == "" || seen[rel] {
			continue
		}
		seen[rel] = true
		abs := filepath.Join(dir, filepath.FromSlash(rel))
		if _, err := os.Lstat(abs); errors.Is(err, fs.ErrNotExist) {
			continue // tracked but deleted in the work tree
		}
		files = append(files, osFile{rel: path.Clean(rel), abs: abs})
	}
	return files, nil
}

func walkFiles(dir string) ([]modzip.File, error) {
	var files []modzip.File
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		files = append(files, osFile{rel: filepath.ToSlash(rel), abs: p})
		return nil
	})
	return files, err
}

// osFile is a file of the work tree, as modzip.Create wants it.
type osFile struct{ rel, abs string }

func (f osFile) Path() string                 { return f.rel }
func (f osFile) Lstat() (os.FileInfo, error)  { return os.Lstat(f.abs) }
func (f osFile) Open() (io.ReadCloser, error) { return os.Open(f.abs) }
