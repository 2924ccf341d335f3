package eventmap

import (
	"fmt"
	"go/ast"
	"go/token"
	"reflect"
	"strconv"
	"strings"
)

const personalDirective = "//chronicle:personal"

// structFields returns the fields of a struct type spec, nil for other
// types.
func structFields(ts *ast.TypeSpec) []*ast.Field {
	st, ok := ts.Type.(*ast.StructType)
	if !ok || st.Fields == nil {
		return nil
	}
	return st.Fields.List
}

// personalFields reads the //chronicle:personal directives in the doc
// comments of the fields of ts, which is an event struct when event is not
// nil, and marks their comment groups in docs as placed. A directive on a
// field of anything but an event struct, a misspelt one, a subject that is
// not a string or UUID field of the same struct, and a personal field that
// encoding/json does not encode are errors.
func personalFields(fset *token.FileSet, f *ast.File, ts *ast.TypeSpec, event *eventStruct, docs map[*ast.CommentGroup]bool) ([]personalField, error) {
	fields := structFields(ts)
	type marked struct {
		field   *ast.Field
		subject string
		pos     string
	}
	var marks []marked
	for _, field := range fields {
		if field.Doc == nil {
			continue
		}
		for _, c := range field.Doc.List {
			if !isDirective(c.Text) {
				continue
			}
			docs[field.Doc] = true
			pos := position(fset, c.Slash)
			rest, ok := strings.CutPrefix(c.Text, personalDirective)
			if !ok || (rest != "" && rest[0] != ' ' && rest[0] != '\t') {
				return nil, fmt.Errorf("%s: %s on a field: the only field directive is %s subject=<Field>", pos, strings.Fields(c.Text)[0], personalDirective)
			}
			if event == nil {
				return nil, fmt.Errorf("%s: %s on a field of %s, which is not an event struct: mark the fields of the event structs", pos, personalDirective, ts.Name.Name)
			}
			opts := strings.Fields(rest)
			subject, isSubject := "", false
			if len(opts) == 1 {
				subject, isSubject = strings.CutPrefix(opts[0], "subject=")
			}
			if !isSubject || subject == "" {
				return nil, fmt.Errorf("%s: %s wants exactly one option, subject=<Field> naming the field of %s that holds the subject", pos, personalDirective, ts.Name.Name)
			}
			if len(field.Names) != 1 {
				return nil, fmt.Errorf("%s: %s must be on a field of its own (one name, not embedded)", pos, personalDirective)
			}
			for _, m := range marks {
				if m.field == field {
					return nil, fmt.Errorf("%s: a second %s for field %s", pos, personalDirective, field.Names[0].Name)
				}
			}
			marks = append(marks, marked{field: field, subject: subject, pos: pos})
		}
	}
	var out []personalField
	for _, m := range marks {
		name := m.field.Names[0].Name
		jsonName, encoded := jsonMember(m.field, name)
		if !encoded {
			return nil, fmt.Errorf("%s: personal field %s of %s is tagged `json:\"-\"`: it is not encoded, so there is nothing to seal", m.pos, name, ts.Name.Name)
		}
		subjectExpr, err := subjectOf(f, fields, m.subject)
		if err != nil {
			return nil, fmt.Errorf("%s: personal field %s of %s: %w", m.pos, name, ts.Name.Name, err)
		}
		for _, other := range marks {
			if other.field.Names[0].Name == m.subject {
				return nil, fmt.Errorf("%s: personal field %s of %s: its subject %s is personal too: a subject is stored in clear", m.pos, name, ts.Name.Name, m.subject)
			}
		}
		out = append(out, personalField{jsonName: jsonName, subject: subjectExpr})
	}
	return out, nil
}

// jsonMember returns the member name encoding/json gives a field, false
// when it does not encode it.
func jsonMember(field *ast.Field, goName string) (string, bool) {
	if field.Tag == nil {
		return goName, true
	}
	tag, err := strconv.Unquote(field.Tag.Value)
	if err != nil {
		return goName, true // checkPayload reports the malformed tag
	}
	value := reflect.StructTag(tag).Get("json")
	if value == "-" {
		return "", false
	}
	if name, _, _ := strings.Cut(value, ","); name != "" {
		return name, true
	}
	return goName, true
}

// subjectOf returns the Go expression of the subject held by the field
// named name (as an expression on the event e): a string field, or a
// uuid.UUID.
func subjectOf(f *ast.File, fields []*ast.Field, name string) (string, error) {
	for _, field := range fields {
		for _, n := range field.Names {
			if n.Name != name {
				continue
			}
			if _, encoded := jsonMember(field, name); !encoded {
				return "", fmt.Errorf("its subject field %s is tagged `json:\"-\"`", name)
			}
			switch t := field.Type.(type) {
			case *ast.Ident:
				if t.Name == "string" {
					return "e." + name, nil
				}
			case *ast.SelectorExpr:
				if p, ok := importOf(f, t); ok && p == "github.com/google/uuid" && t.Sel.Name == "UUID" {
					return "e." + name + ".String()", nil
				}
			}
			return "", fmt.Errorf("its subject field %s must be a string or a uuid.UUID", name)
		}
	}
	return "", fmt.Errorf("there is no field %s to hold its subject", name)
}
