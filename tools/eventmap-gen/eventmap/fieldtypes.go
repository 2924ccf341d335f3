package eventmap

import (
	"errors"
	"fmt"
	"go/ast"
	"go/types"
	"path"
	"reflect"
	"strconv"
)

// basicTypes are the predeclared types encoding/json round-trips.
var basicTypes = map[string]bool{
	"bool": true, "string": true, "byte": true, "rune": true,
	"int": true, "int8": true, "int16": true, "int32": true, "int64": true,
	"uint": true, "uint8": true, "uint16": true, "uint32": true, "uint64": true,
	"float32": true, "float64": true,
}

// foreignTypes are the types of other packages a payload may use, by
// import path. Each round-trips through encoding/json.
var foreignTypes = map[string]map[string]bool{
	"time":                   {"Time": true, "Duration": true},
	"encoding/json":          {"RawMessage": true, "Number": true},
	"github.com/google/uuid": {"UUID": true, "NullUUID": true},
}

// fieldError is a problem with one field, already formatted with its
// position; it passes unchanged through the enclosing fields.
type fieldError struct{ msg string }

func (e *fieldError) Error() string { return e.msg }

// payloadChecker checks that one event struct survives encoding/json.
type payloadChecker struct {
	v        *versionPkg
	event    *eventStruct
	visiting map[string]bool // named types being checked, for recursive types
	ok       map[string]bool
}

// checkPayload returns an error naming the file, line, event and field of
// the first field whose type is not supported (see the package doc).
func checkPayload(v *versionPkg, s *eventStruct) error {
	c := &payloadChecker{v: v, event: s, visiting: map[string]bool{}, ok: map[string]bool{}}
	err := c.named(s.goName, "")
	var fe *fieldError
	if err != nil && !errors.As(err, &fe) {
		return fmt.Errorf("%s: event %s: %w", s.pos, s.goName, err)
	}
	return err
}

func (c *payloadChecker) fieldErr(pos ast.Node, field string, reason error) error {
	var fe *fieldError
	if errors.As(reason, &fe) {
		return fe
	}
	return &fieldError{fmt.Sprintf("%s: field %s of event %s: %v", position(c.v.fset, pos.Pos()), field, c.event.goName, reason)}
}

// named checks a type declared in the event's package.
func (c *payloadChecker) named(name, prefix string) error {
	if c.ok[name] || c.visiting[name] || c.encodesItself(name) {
		return nil
	}
	decl := c.v.decls[name]
	if decl.spec.TypeParams != nil {
		return fmt.Errorf("type %s is generic, which is not supported", name)
	}
	c.visiting[name] = true
	defer delete(c.visiting, name)
	if err := c.expr(decl.spec.Type, decl.file, prefix); err != nil {
		return err
	}
	c.ok[name] = true
	return nil
}

// encodesItself reports whether a type of the package declares the methods
// encoding/json uses instead of inspecting it.
func (c *payloadChecker) encodesItself(name string) bool {
	m := c.v.methods[name]
	return m["MarshalJSON"] && m["UnmarshalJSON"] || m["MarshalText"] && m["UnmarshalText"]
}

// expr checks a type expression written in file; prefix is the field path
// of the fields of a struct type, e.g. "Address.".
func (c *payloadChecker) expr(e ast.Expr, file *ast.File, prefix string) error {
	unsupported := func(why string) error {
		return fmt.Errorf("type %s is not supported: %s", types.ExprString(e), why)
	}
	switch t := e.(type) {
	case *ast.Ident:
		switch name := t.Name; {
		case basicTypes[name]:
			return nil
		case name == "complex64" || name == "complex128":
			return unsupported("encoding/json cannot encode complex numbers")
		case name == "any" || name == "error":
			return unsupported("decoding an interface cannot restore the concrete type")
		case c.v.decls[name] != nil:
			return c.named(name, prefix)
		default:
			return unsupported("want a type declared in the event's package or one of the supported types")
		}
	case *ast.StarExpr:
		return c.expr(t.X, file, prefix)
	case *ast.ParenExpr:
		return c.expr(t.X, file, prefix)
	case *ast.ArrayType:
		return c.expr(t.Elt, file, prefix)
	case *ast.MapType:
		if !c.stringKind(t.Key, 0) {
			return unsupported("map keys must be strings")
		}
		return c.expr(t.Value, file, prefix)
	case *ast.StructType:
		return c.fields(t, file, prefix)
	case *ast.SelectorExpr:
		pkg, ok := importOf(file, t)
		switch {
		case !ok:
			return unsupported("its package is not imported by name")
		case foreignTypes[pkg][t.Sel.Name]:
			return nil
		default:
			return unsupported("from other packages only time.Time, time.Duration, json.RawMessage, json.Number, uuid.UUID and uuid.NullUUID are; declare the type in the event's package")
		}
	case *ast.InterfaceType:
		return unsupported("decoding an interface cannot restore the concrete type")
	case *ast.ChanType:
		return unsupported("encoding/json cannot encode channels")
	case *ast.FuncType:
		return unsupported("encoding/json cannot encode functions")
	case *ast.IndexExpr, *ast.IndexListExpr:
		return unsupported("generic types are not supported")
	default:
		return unsupported("not a payload type")
	}
}

// fields checks the fields of a struct type as encoding/json sees them.
func (c *payloadChecker) fields(st *ast.StructType, file *ast.File, prefix string) error {
	for _, f := range st.Fields.List {
		if f.Tag != nil {
			tag, err := strconv.Unquote(f.Tag.Value)
			if err != nil {
				return c.fieldErr(f, prefix+fieldName(f), errors.New("malformed struct tag"))
			}
			if reflect.StructTag(tag).Get("json") == "-" {
				continue
			}
		}
		if len(f.Names) == 0 {
			if err := c.embedded(f, file, prefix); err != nil {
				return err
			}
			continue
		}
		for _, n := range f.Names {
			name := prefix + n.Name
			switch {
			case n.Name == "_":
				continue
			case !n.IsExported():
				return c.fieldErr(n, name, errors.New("the field is unexported, so encoding/json would drop it: export it or tag it `json:\"-\"`"))
			}
			if err := c.expr(f.Type, file, name+"."); err != nil {
				return c.fieldErr(n, name, err)
			}
		}
	}
	return nil
}

// embedded checks an embedded field. encoding/json flattens an embedded
// struct's fields into the outer object, but promoted JSON or text methods
// would take over the encoding of the whole outer struct.
func (c *payloadChecker) embedded(f *ast.Field, file *ast.File, prefix string) error {
	typ := f.Type
	if star, ok := typ.(*ast.StarExpr); ok {
		typ = star.X
	}
	name := prefix + fieldName(f)
	id, ok := typ.(*ast.Ident)
	if !ok || c.v.decls[id.Name] == nil {
		return c.fieldErr(f, name, fmt.Errorf("embedded type %s is not supported: embed only types of the event's package, or make it a named field", types.ExprString(f.Type)))
	}
	m := c.v.methods[id.Name]
	if m["MarshalJSON"] || m["UnmarshalJSON"] || m["MarshalText"] || m["UnmarshalText"] {
		return c.fieldErr(f, name, fmt.Errorf("embedded type %s has JSON or text methods, which would replace the encoding of the whole struct: make it a named field", id.Name))
	}
	if _, isStruct := c.v.decls[id.Name].spec.Type.(*ast.StructType); isStruct {
		if err := c.named(id.Name, prefix); err != nil {
			return c.fieldErr(f, name, err)
		}
		return nil
	}
	if !id.IsExported() {
		return c.fieldErr(f, name, errors.New("the embedded type is unexported and not a struct, so encoding/json would drop it: make it a named, exported field"))
	}
	if err := c.named(id.Name, name+"."); err != nil {
		return c.fieldErr(f, name, err)
	}
	return nil
}

// stringKind reports whether a map key type is a string as encoding/json
// sees it: string, or a type of the package whose underlying type is.
func (c *payloadChecker) stringKind(e ast.Expr, depth int) bool {
	id, ok := e.(*ast.Ident)
	switch {
	case !ok || depth > 100:
		return false
	case id.Name == "string":
		return true
	case c.v.decls[id.Name] != nil:
		return c.stringKind(c.v.decls[id.Name].spec.Type, depth+1)
	}
	return false
}

func fieldName(f *ast.Field) string {
	if len(f.Names) > 0 {
		return f.Names[0].Name
	}
	typ := f.Type
	if star, ok := typ.(*ast.StarExpr); ok {
		typ = star.X
	}
	if sel, ok := typ.(*ast.SelectorExpr); ok {
		return sel.Sel.Name
	}
	return receiverName(typ)
}

// importOf returns the import path of a qualified identifier's package.
func importOf(file *ast.File, sel *ast.SelectorExpr) (string, bool) {
	x, ok := sel.X.(*ast.Ident)
	if !ok {
		return "", false
	}
	for _, imp := range file.Imports {
		p, err := strconv.Unquote(imp.Path.Value)
		if err != nil {
			continue
		}
		name := path.Base(p)
		if imp.Name != nil {
			name = imp.Name.Name
		}
		if name == x.Name {
			return p, true
		}
	}
	return "", false
}
