package eventmap

import (
	"bytes"
	_ "embed"
	"fmt"
	"go/format"
	"strconv"
	"strings"
	"text/template"
)

// fixedIdentifiers are the package-level names every generated file
// declares; struct-derived names must not clash with them.
var fixedIdentifiers = []string{
	"ErrUnknownEvent", "UnknownEventError", "ErrUnexpectedEvent", "UnexpectedEventError",
	"ErrMissingUpcaster", "MissingUpcasterError", "Option", "WithTraceID", "WithCorrelationID",
	"WithCausationID", "WithMetadata", "WithCreatedAt", "WithEventIDFunc", "EventTypeOf",
	"ToESEvents", "FromESEvents", "FromESEvent", "FromESEventsLatest", "Upcasters",
	"options", "buildOptions", "newEvent", "toESEvent", "decodePayload", "decodeAs",
	"fromESEvents", "typeName", "versionOf", "WithSealer", "OpenESEvent", "ErrSealedPayload",
}

func constName(et *eventType) string { return "EventType" + et.latest().goName }
func toFunc(s *eventStruct) string   { return "To" + s.goName + "V" + strconv.Itoa(s.pkg.number) }
func fromFunc(s *eventStruct) string { return "From" + s.goName + "V" + strconv.Itoa(s.pkg.number) }

// The view types hold everything the template prints, precomputed so that
// the template has no logic beyond loops.
type (
	view struct {
		Package  string
		Personal bool // some struct has personal fields
		Versions []viewVersion
		Events   []viewEvent
		Structs  []viewStruct // every struct, by version then Go name
		Steps    []viewStep   // every upcasting step, by event type then version
	}
	viewVersion struct {
		Number     int
		Alias      string
		ImportPath string
	}
	viewEvent struct {
		Name     string
		Const    string
		Versions []viewStruct
		Latest   viewStruct
	}
	viewStruct struct {
		EventType, Const string
		Type             string // the qualified Go type, e.g. v1.UserRegistered
		Version          int
		To, From         string
		Upcast           string   // the Upcasters method bringing it to the newest version
		Step             viewStep // the step from this version; zero for the newest
		Latest           string   // the newest version's Go type
		Personal         string   // the function listing its personal fields, "" for none
		Fields           []viewField
	}
	viewField struct {
		Name    string // the payload member
		Subject string // the subject's Go expression on the event e
	}
	viewStep struct {
		Field                  string
		EventType              string
		From, To               string
		FromVersion, ToVersion int
		Next                   string // the upcast method of To, or "" when To is the newest
	}
)

func newView(d *domain, pkg string) view {
	v := view{Package: pkg}
	for _, ver := range d.versions {
		v.Versions = append(v.Versions, viewVersion{Number: ver.number, Alias: ver.alias, ImportPath: ver.importPath})
	}
	for _, et := range d.events {
		steps := et.steps()
		ve := viewEvent{Name: et.name, Const: constName(et)}
		for i, s := range et.versions {
			vs := viewStruct{
				EventType: et.name, Const: ve.Const,
				Type:    qualified(s),
				Version: s.pkg.number,
				To:      toFunc(s), From: fromFunc(s),
				Upcast: "upcast" + s.goName + "V" + strconv.Itoa(s.pkg.number),
				Latest: qualified(et.latest()),
			}
			if len(s.personal) > 0 {
				vs.Personal = "personal" + s.goName + "V" + strconv.Itoa(s.pkg.number)
				for _, p := range s.personal {
					vs.Fields = append(vs.Fields, viewField{Name: p.jsonName, Subject: p.subject})
				}
				v.Personal = true
			}
			if i < len(steps) {
				st := steps[i]
				vs.Step = viewStep{Field: st.field, EventType: et.name, From: qualified(st.from), To: qualified(st.to),
					FromVersion: st.from.pkg.number, ToVersion: st.to.pkg.number}
				if i+1 < len(steps) {
					vs.Step.Next = "upcast" + st.to.goName + "V" + strconv.Itoa(st.to.pkg.number)
				}
				v.Steps = append(v.Steps, vs.Step)
			}
			ve.Versions = append(ve.Versions, vs)
		}
		ve.Latest = ve.Versions[len(ve.Versions)-1]
		v.Events = append(v.Events, ve)
	}
	for _, ver := range d.versions {
		for _, s := range ver.structs {
			for _, ve := range v.Events {
				for _, vs := range ve.Versions {
					if vs.Type == qualified(s) {
						v.Structs = append(v.Structs, vs)
					}
				}
			}
		}
	}
	return v
}

func qualified(s *eventStruct) string { return s.pkg.alias + "." + s.goName }

//go:embed mapping.go.tmpl
var mappingTemplate string

var tmpl = template.Must(template.New("mapping").Funcs(template.FuncMap{
	"quote": strconv.Quote,
	"join":  strings.Join,
}).Parse(mappingTemplate))

// render returns the generated file, gofmt'd.
func render(d *domain, pkg string) ([]byte, error) {
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, newView(d, pkg)); err != nil {
		return nil, fmt.Errorf("error rendering generated code: %w", err)
	}
	out, err := format.Source(buf.Bytes())
	if err != nil {
		// A bug in the template, not in the input: show what failed.
		return nil, fmt.Errorf("error formatting generated code (please report this): %w\n%s", err, buf.Bytes())
	}
	return out, nil
}
