package eventmap

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// parsePackage parses the Go files of one folder and collects its type
// declarations, methods and event structs. number is the version, or 0 for
// the input folder next to version folders.
func parsePackage(dir, dirAbs string, number int) (*versionPkg, error) {
	entries, err := os.ReadDir(dirAbs)
	if err != nil {
		return nil, fmt.Errorf("error reading folder %s: %w", dir, err)
	}
	v := &versionPkg{
		number:  number,
		dir:     dir,
		alias:   "v" + strconv.Itoa(number),
		decls:   map[string]*typeDecl{},
		methods: map[string]map[string]bool{},
	}
	fset := token.NewFileSet()
	v.fset = fset
	var pkgName, pkgFile string
	files := 0
	for _, e := range entries {
		if e.IsDir() || !isGoSource(e.Name()) {
			continue
		}
		files++
		path := filepath.Join(dir, e.Name())
		src, err := os.ReadFile(filepath.Join(dirAbs, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("error reading Go file: %w", err)
		}
		f, err := parser.ParseFile(fset, path, src, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return nil, syntaxError(err)
		}
		switch name := f.Name.Name; {
		case pkgName == "":
			pkgName, pkgFile = name, path
		case name != pkgName:
			return nil, fmt.Errorf("%s: package %s, but %s is package %s: one folder holds one package", path, name, pkgFile, pkgName)
		}
		if number > 0 && f.Name.Name == "main" {
			return nil, fmt.Errorf("%s: package main cannot be imported: event structs need a library package", path)
		}
		if err := v.collect(fset, f, path); err != nil {
			return nil, err
		}
	}
	if files == 0 {
		return nil, fmt.Errorf("version folder %s holds no Go files", dir)
	}
	sort.Slice(v.structs, func(i, j int) bool { return v.structs[i].goName < v.structs[j].goName })
	return v, nil
}

// collect adds the type declarations, methods and event structs of one file.
func (v *versionPkg) collect(fset *token.FileSet, f *ast.File, path string) error {
	docs := map[*ast.CommentGroup]bool{}
	for _, decl := range f.Decls {
		switch decl := decl.(type) {
		case *ast.FuncDecl:
			if decl.Recv != nil && len(decl.Recv.List) == 1 {
				recv := receiverName(decl.Recv.List[0].Type)
				if v.methods[recv] == nil {
					v.methods[recv] = map[string]bool{}
				}
				v.methods[recv][decl.Name.Name] = true
			}
		case *ast.GenDecl:
			if decl.Tok != token.TYPE {
				continue
			}
			for _, spec := range decl.Specs {
				ts := spec.(*ast.TypeSpec)
				doc := ts.Doc
				if doc == nil && !decl.Lparen.IsValid() {
					doc = decl.Doc
				}
				docs[doc] = true
				if err := v.addType(fset, f, path, ts, doc, docs); err != nil {
					return err
				}
			}
		}
	}
	// A directive anywhere else would be ignored; say so instead.
	for _, cg := range f.Comments {
		if docs[cg] {
			continue
		}
		for _, c := range cg.List {
			if strings.HasPrefix(c.Text, personalDirective) {
				return fmt.Errorf("%s: %s must be in the doc comment of a field of an event struct", position(fset, c.Slash), c.Text)
			}
			if isDirective(c.Text) {
				return fmt.Errorf("%s: %s must be in the doc comment of a struct type", position(fset, c.Slash), c.Text)
			}
		}
	}
	return nil
}

func (v *versionPkg) addType(fset *token.FileSet, f *ast.File, path string, ts *ast.TypeSpec, doc *ast.CommentGroup, docs map[*ast.CommentGroup]bool) error {
	name := ts.Name.Name
	pos := position(fset, ts.Name.Pos())
	if prev, ok := v.decls[name]; ok {
		return fmt.Errorf("%s: type %s is declared twice (also in %s)", pos, name, prev.path)
	}
	v.decls[name] = &typeDecl{spec: ts, file: f, path: path}
	d, err := parseDirective(fset, doc)
	if err != nil {
		return err
	}
	_, isStruct := ts.Type.(*ast.StructType)
	candidate := ast.IsExported(name) && isStruct && !ts.Assign.IsValid()
	switch {
	case d.found && !candidate:
		return fmt.Errorf("%s: //chronicle:event on %s, which is not an exported struct type", pos, name)
	case !candidate || d.ignore:
		_, err := personalFields(fset, f, ts, nil, docs)
		return err
	case ts.TypeParams != nil:
		return fmt.Errorf("%s: exported struct %s is generic, which an event cannot be: make it non-generic or mark it //chronicle:event ignore", pos, name)
	}
	eventType := name
	if d.name != "" {
		eventType = d.name
	}
	s := &eventStruct{goName: name, eventType: eventType, pkg: v, pos: pos}
	if s.personal, err = personalFields(fset, f, ts, s, docs); err != nil {
		return err
	}
	v.structs = append(v.structs, s)
	return nil
}

// syntaxError reports the first of a file's syntax errors on one line: the
// scanner quotes offending input verbatim, newlines included.
func syntaxError(err error) error {
	var list scanner.ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		return fmt.Errorf("error parsing Go file: %w", err)
	}
	more := ""
	if len(list) > 1 {
		more = fmt.Sprintf(" (and %d more)", len(list)-1)
	}
	msg := strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace(list[0].Msg)
	return fmt.Errorf("%s:%d: syntax error: %s%s", list[0].Pos.Filename, list[0].Pos.Line, msg, more)
}

// receiverName returns the base type name of a method receiver.
func receiverName(expr ast.Expr) string {
	for {
		switch e := expr.(type) {
		case *ast.StarExpr:
			expr = e.X
		case *ast.ParenExpr:
			expr = e.X
		case *ast.IndexExpr:
			expr = e.X
		case *ast.IndexListExpr:
			expr = e.X
		case *ast.Ident:
			return e.Name
		default:
			return ""
		}
	}
}

func position(fset *token.FileSet, p token.Pos) string {
	pos := fset.Position(p)
	return pos.Filename + ":" + strconv.Itoa(pos.Line)
}
