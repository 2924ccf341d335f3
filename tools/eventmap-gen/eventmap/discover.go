package eventmap

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// discover reads the input folder into a domain, or returns the first
// problem found, naming the folder, file and type concerned.
func discover(r *resolved) (*domain, error) {
	entries, err := os.ReadDir(r.inputAbs)
	if err != nil {
		return nil, fmt.Errorf("error reading input folder: %w", err)
	}
	hasRootFiles := false
	type folder struct {
		name   string
		number int
	}
	var folders []folder
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() {
			hasRootFiles = hasRootFiles || isGoSource(name)
			continue
		}
		n, ok, err := versionFolder(r.input, r.inputAbs, name)
		if err != nil {
			return nil, err
		}
		if ok {
			folders = append(folders, folder{name, n})
		}
	}
	sort.Slice(folders, func(i, j int) bool { return folders[i].number < folders[j].number })

	d := &domain{}
	if len(folders) == 0 {
		if !hasRootFiles {
			return nil, fmt.Errorf("input folder %s is empty: it holds no Go files and no version folders (v1, v2, …)", r.input)
		}
		v, err := parsePackage(r.input, r.inputAbs, 1)
		if err != nil {
			return nil, err
		}
		if len(v.structs) == 0 {
			return nil, fmt.Errorf("no exported struct types in input folder %s", r.input)
		}
		v.importPath = r.importPath(r.inputAbs)
		d.versions = append(d.versions, v)
	} else {
		if hasRootFiles {
			root, err := parsePackage(r.input, r.inputAbs, 0)
			if err != nil {
				return nil, err
			}
			if len(root.structs) > 0 {
				s := root.structs[0]
				return nil, fmt.Errorf("%s: exported struct %s is directly in input folder %s, next to version folders: move it into a version folder, or mark it //chronicle:event ignore", s.pos, s.goName, r.input)
			}
		}
		for _, f := range folders {
			dir := filepath.Join(r.input, f.name)
			dirAbs := filepath.Join(r.inputAbs, f.name)
			v, err := parsePackage(dir, dirAbs, f.number)
			if err != nil {
				return nil, err
			}
			if len(v.structs) == 0 {
				return nil, fmt.Errorf("no exported struct types in version folder %s", dir)
			}
			v.importPath = r.importPath(dirAbs)
			d.versions = append(d.versions, v)
		}
	}

	for _, v := range d.versions {
		for _, s := range v.structs {
			if err := checkPayload(v, s); err != nil {
				return nil, err
			}
		}
	}
	if err := d.group(); err != nil {
		return nil, err
	}
	if err := d.checkIdentifiers(); err != nil {
		return nil, err
	}
	return d, nil
}

// versionFolder reports whether the subfolder name of the input folder is a
// version folder, and its number. A name that looks like a version folder
// but is not a valid one is an error, so that a typo is never skipped
// silently.
func versionFolder(input, inputAbs, name string) (int, bool, error) {
	if name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
		return 0, false, nil
	}
	if name[0] != 'v' && name[0] != 'V' {
		return 0, false, nil
	}
	rest := name[1:]
	dir := filepath.Join(input, name)
	if rest != "" && rest[0] >= '0' && rest[0] <= '9' {
		n, err := strconv.Atoi(rest)
		if err != nil || n < 1 || rest[0] == '0' || name[0] != 'v' {
			return 0, false, fmt.Errorf("version folder %s: %q is not a version: want v followed by a number from 1 without leading zeros (v1, v2, …)", dir, name)
		}
		return n, true, nil
	}
	has, err := hasGoFiles(filepath.Join(inputAbs, name))
	if err != nil {
		return 0, false, err
	}
	if has {
		return 0, false, fmt.Errorf("folder %s holds Go files but %q is not a version: want v followed by a number (v1, v2, …); move other packages out of the input folder", dir, name)
	}
	return 0, false, nil
}

func hasGoFiles(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, fmt.Errorf("error reading folder: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() && isGoSource(e.Name()) {
			return true, nil
		}
	}
	return false, nil
}

// group collects the structs of every version into event types.
func (d *domain) group() error {
	byName := map[string]*eventType{}
	for _, v := range d.versions {
		for _, s := range v.structs {
			et := byName[s.eventType]
			if et == nil {
				et = &eventType{name: s.eventType}
				byName[s.eventType] = et
				d.events = append(d.events, et)
			}
			if len(et.versions) > 0 && et.latest().pkg == v {
				prev := et.latest()
				return fmt.Errorf("%s: event type %q is declared twice in version %d: by %s and by %s (%s); rename one or set //chronicle:event name=…",
					s.pos, s.eventType, v.number, prev.goName, s.goName, prev.pos)
			}
			et.versions = append(et.versions, s)
		}
	}
	sort.Slice(d.events, func(i, j int) bool { return d.events[i].name < d.events[j].name })
	return nil
}

// checkIdentifiers rejects inputs whose generated identifiers would clash,
// which would otherwise surface as a compile error in generated code.
func (d *domain) checkIdentifiers() error {
	seen := map[string]string{}
	for _, n := range fixedIdentifiers {
		seen[n] = "the generated API"
	}
	add := func(ident, what string) error {
		if prev, ok := seen[ident]; ok {
			return fmt.Errorf("generated identifier %s would be declared twice, for %s and for %s: rename one of the structs", ident, prev, what)
		}
		seen[ident] = what
		return nil
	}
	for _, et := range d.events {
		if err := add(constName(et), fmt.Sprintf("event type %q", et.name)); err != nil {
			return err
		}
		for _, s := range et.versions {
			what := fmt.Sprintf("%s (%s)", s.goName, s.pos)
			if err := add(toFunc(s), what); err != nil {
				return err
			}
			if err := add(fromFunc(s), what); err != nil {
				return err
			}
		}
	}
	return nil
}
