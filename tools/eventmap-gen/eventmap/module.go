package eventmap

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// findModule returns the module path and the folder import paths are
// relative to: the nearest go.mod at or above inputAbs, else the current
// directory when module is set.
func findModule(module, inputAbs string) (path, root string, err error) {
	for dir := inputAbs; ; dir = filepath.Dir(dir) {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		switch {
		case err == nil:
			if module != "" {
				return module, dir, validModulePath(module)
			}
			path, err := modulePath(data)
			if err != nil {
				return "", "", fmt.Errorf("error reading %s: %w", filepath.Join(dir, "go.mod"), err)
			}
			return path, dir, nil
		case !errors.Is(err, os.ErrNotExist):
			return "", "", fmt.Errorf("error reading go.mod: %w", err)
		}
		if dir == filepath.Dir(dir) {
			break
		}
	}
	if module == "" {
		return "", "", fmt.Errorf("no go.mod found at or above %s: set the module path (-module)", inputAbs)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", "", fmt.Errorf("error reading current directory: %w", err)
	}
	if root, err = absReal(wd); err != nil {
		return "", "", err
	}
	if !within(inputAbs, root) {
		return "", "", fmt.Errorf("input folder %s is outside the current directory, and no go.mod is found above it to place it in module %s", inputAbs, module)
	}
	return module, root, validModulePath(module)
}

func validModulePath(module string) error {
	if strings.ContainsAny(module, " \t\"\\`") || strings.HasPrefix(module, "/") || strings.HasSuffix(module, "/") || strings.Contains(module, "//") {
		return fmt.Errorf("module %q is not a valid module path", module)
	}
	return nil
}

// modulePath returns the path of go.mod's module directive.
func modulePath(gomod []byte) (string, error) {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, "//"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		rest, ok := strings.CutPrefix(line, "module")
		if !ok || rest == "" || (rest[0] != ' ' && rest[0] != '\t' && rest[0] != '"') {
			continue
		}
		rest = strings.TrimSpace(rest)
		if strings.HasPrefix(rest, `"`) || strings.HasPrefix(rest, "`") {
			unq, err := strconv.Unquote(rest)
			if err != nil {
				return "", fmt.Errorf("invalid module path %s", rest)
			}
			rest = unq
		}
		if rest == "" {
			break
		}
		return rest, validModulePath(rest)
	}
	return "", errors.New("no module directive")
}

// importPath returns the import path of the package in dir, a folder inside
// the module root.
func (r *resolved) importPath(dirAbs string) string {
	rel, err := filepath.Rel(r.moduleRoot, dirAbs)
	if err != nil || rel == "." {
		return r.module
	}
	return r.module + "/" + filepath.ToSlash(rel)
}

// existingPackage returns the package name of the Go files already in dir,
// other than the generated file and tests, or "" when there are none.
func existingPackage(dir, generated string) (string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("error reading output folder: %w", err)
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if !e.IsDir() && isGoSource(n) && n != generated {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "", nil
	}
	// The first file in name order decides, as the go tool's error would.
	sort.Strings(names)
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(dir, names[0]), nil, parser.PackageClauseOnly)
	if err != nil {
		return "", fmt.Errorf("error reading package name of output folder: %w", err)
	}
	return f.Name.Name, nil
}

// isGoSource reports whether a file name is a non-test Go file the go tool
// would consider.
func isGoSource(name string) bool {
	return strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, "_test.go") &&
		!strings.HasPrefix(name, ".") && !strings.HasPrefix(name, "_")
}
