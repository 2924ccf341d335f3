package eventmap

import (
	"go/ast"
	"go/token"
	"strconv"
)

// domain is what discovery found: the version packages and the event types
// across them, each sorted, so that rendering is deterministic.
type domain struct {
	versions []*versionPkg // by number
	events   []*eventType  // by name
}

// versionPkg is one version folder (or the input folder as version 1).
type versionPkg struct {
	number     int
	dir        string // for messages: the input folder joined with the folder name
	importPath string
	alias      string // the import name in generated code: v<number>
	structs    []*eventStruct
	decls      map[string]*typeDecl       // every type declared in the package
	methods    map[string]map[string]bool // method names by receiver type
	fset       *token.FileSet
}

// typeDecl is a type declared in a version package.
type typeDecl struct {
	spec *ast.TypeSpec
	file *ast.File
	path string // the file, for messages
}

// eventStruct is one Go struct that is an event at one version.
type eventStruct struct {
	goName    string
	eventType string
	pkg       *versionPkg
	pos       string // file:line, for messages
	personal  []personalField
}

// personalField is a field marked //chronicle:personal: sealed with the
// key of the subject another field of the struct names.
type personalField struct {
	jsonName string // the payload member
	subject  string // Go expression of the subject, given the event as e
}

// eventType is an event type with its versions, ascending.
type eventType struct {
	name     string
	versions []*eventStruct
}

func (e *eventType) latest() *eventStruct { return e.versions[len(e.versions)-1] }

// step is one upcasting step between consecutive versions of an event type.
type step struct {
	from, to *eventStruct
	field    string // the Upcasters field
}

func (e *eventType) steps() []step {
	var out []step
	for i := 1; i < len(e.versions); i++ {
		from, to := e.versions[i-1], e.versions[i]
		field := from.goName + "V" + strconv.Itoa(from.pkg.number) + "To"
		if to.goName != from.goName {
			field += to.goName
		}
		field += "V" + strconv.Itoa(to.pkg.number)
		out = append(out, step{from: from, to: to, field: field})
	}
	return out
}
