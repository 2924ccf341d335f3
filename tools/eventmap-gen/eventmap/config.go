package eventmap

import (
	"errors"
	"fmt"
	"go/token"
	"os"
	"path/filepath"
	"strings"
)

// DefaultFilename is the name of the generated file when Config.Filename is
// empty.
const DefaultFilename = "event_mapping.gen.go"

// Config says what to generate and where.
type Config struct {
	// Input is the folder holding the event structs, directly (version 1)
	// or in v1, v2, … subfolders. Required.
	Input string
	// Output is the folder of the generated file; it is created by Write
	// when missing. It must not be Input or inside it. Empty means the
	// current directory.
	Output string
	// Filename is the generated file's name, a plain name ending in .go.
	// Empty means DefaultFilename.
	Filename string
	// Package is the generated file's package name. Empty means the package
	// of the Go files already in Output (other than Filename), or else
	// Output's base name when that is a valid package name.
	Package string
	// Module is the import path of the module holding Input, used to import
	// the version packages. Empty means the module path declared by the
	// nearest go.mod at or above Input. Import paths are built from the
	// folder of that go.mod, or from the current directory when there is
	// none (then Module is required).
	Module string
}

// resolved is a Config with its defaults applied and its paths made
// absolute.
type resolved struct {
	input      string // as given, for messages
	inputAbs   string
	outputAbs  string
	outputPath string // the generated file, as given, for messages
	pkg        string
	module     string
	moduleRoot string
}

func (c Config) resolve() (*resolved, error) {
	if c.Input == "" {
		return nil, errors.New("input folder is required")
	}
	r := &resolved{input: filepath.Clean(c.Input)}
	if err := checkDir(r.input, "input"); err != nil {
		return nil, err
	}
	output := c.Output
	if output == "" {
		output = "."
	}
	filename := c.Filename
	if filename == "" {
		filename = DefaultFilename
	}
	if filename != filepath.Base(filename) || !strings.HasSuffix(filename, ".go") || strings.HasSuffix(filename, "_test.go") {
		return nil, fmt.Errorf("filename %q must be a plain file name ending in .go (not _test.go)", filename)
	}
	r.outputPath = filepath.Join(output, filename)
	var err error
	if r.inputAbs, err = absReal(r.input); err != nil {
		return nil, err
	}
	if r.outputAbs, err = absReal(output); err != nil {
		return nil, err
	}
	if within(r.outputAbs, r.inputAbs) {
		return nil, fmt.Errorf("output folder %s is inside input folder %s: the generated file would be read as event structs; choose an output folder outside it", output, r.input)
	}
	if fi, err := os.Stat(output); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("output %s is not a folder", output)
	}
	if r.pkg, err = outputPackage(c.Package, output, filename); err != nil {
		return nil, err
	}
	if r.module, r.moduleRoot, err = findModule(c.Module, r.inputAbs); err != nil {
		return nil, err
	}
	return r, nil
}

func checkDir(dir, what string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%s folder %s does not exist", what, dir)
	case err != nil:
		return fmt.Errorf("error reading %s folder: %w", what, err)
	case !fi.IsDir():
		return fmt.Errorf("%s %s is not a folder", what, dir)
	}
	return nil
}

// absReal returns path as an absolute path with symbolic links resolved, as
// far as it exists, so that two spellings of one folder compare equal.
func absReal(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("error resolving path %s: %w", path, err)
	}
	var rest []string
	for dir := abs; ; dir = filepath.Dir(dir) {
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(append([]string{real}, rest...)...), nil
		}
		if dir == filepath.Dir(dir) {
			return abs, nil
		}
		rest = append([]string{filepath.Base(dir)}, rest...)
	}
}

// within reports whether path is dir or inside it; both are absReal paths.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func outputPackage(name, output, filename string) (string, error) {
	if name != "" {
		if !token.IsIdentifier(name) || name == "_" {
			return "", fmt.Errorf("package %q is not a valid package name", name)
		}
		return name, nil
	}
	existing, err := existingPackage(output, filename)
	if err != nil {
		return "", err
	}
	if existing != "" {
		return existing, nil
	}
	abs, err := filepath.Abs(output)
	if err != nil {
		return "", fmt.Errorf("error resolving path %s: %w", output, err)
	}
	base := filepath.Base(abs)
	if !token.IsIdentifier(base) || base == "_" {
		return "", fmt.Errorf("cannot derive a package name from output folder %s: set the package name (-package)", output)
	}
	return base, nil
}
