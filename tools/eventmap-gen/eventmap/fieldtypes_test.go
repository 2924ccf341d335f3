package eventmap

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestFieldTypeErrors(t *testing.T) {
	cases := []struct {
		decl string // declarations after the event's package clause and imports
		want string
	}{
		{"type E struct{ C chan int }", "field C of event E: type chan int is not supported: encoding/json cannot encode channels"},
		{"type E struct{ F func() }", "field F of event E: type func() is not supported"},
		{"type E struct{ X any }", "field X of event E: type any is not supported: decoding an interface cannot restore the concrete type"},
		{"type E struct{ X interface{ M() } }", "field X of event E: type interface{M()} is not supported"},
		{"type E struct{ Err error }", "field Err of event E: type error is not supported"},
		{"type E struct{ Z complex128 }", "field Z of event E: type complex128 is not supported"},
		{"type E struct{ P uintptr }", "field P of event E: type uintptr is not supported"},
		{"type E struct{ M map[int]string }", "field M of event E: type map[int]string is not supported: map keys must be strings"},
		{"type E struct{ M map[Key]string }\ntype Key struct{ A string }", "map keys must be strings"},
		{"type E struct{ S []chan int }", "field S of event E: type chan int is not supported"},
		{"type E struct{ B bytes.Buffer }", "field B of event E: type bytes.Buffer is not supported: from other packages only time.Time"},
		{"type E struct{ L time.Location }", "type time.Location is not supported"},
		{"type E struct{ secret string }", "field secret of event E: the field is unexported, so encoding/json would drop it"},
		{"type E struct{ A Address }\n//chronicle:event ignore\ntype Address struct{ Geo *Geo }\n//chronicle:event ignore\ntype Geo struct{ ch chan int }", "field A.Geo.ch of event E: the field is unexported"},
		{"type E struct{ A Address }\n//chronicle:event ignore\ntype Address struct{ Lines []Line }\n//chronicle:event ignore\ntype Line struct{ C chan int }", "field A.Lines.C of event E: type chan int is not supported"},
		{"type E struct{ time.Time }", "field Time of event E: embedded type time.Time is not supported"},
		{"type E struct{ Money }\n//chronicle:event ignore\ntype Money struct{}\nfunc (Money) MarshalJSON() ([]byte, error) { return nil, nil }", "embedded type Money has JSON or text methods"},
		{"type E struct{ tags }\ntype tags []string", "field tags of event E: the embedded type is unexported and not a struct"},
		{"type E struct{ U Unknown[int] }\n//chronicle:event ignore\ntype Unknown[T any] struct{ V T }", "generic types are not supported"},
		{"type E struct{ X Missing }", "type Missing is not supported: want a type declared in the event's package"},
		{"type E struct{ X [2]struct{ C chan int } }", "field X.C of event E: type chan int is not supported"},
		{"type E struct{ X T }\ntype T = chan int", "field X of event E: type chan int is not supported"},
		{"type E struct{ X *Self }\n//chronicle:event ignore\ntype Self struct{ Next *Self; F func() }", "field X.F of event E: type func() is not supported"},
	}
	for _, c := range cases {
		t.Run(c.want, func(t *testing.T) {
			src := "package v1\n\nimport (\n\t\"bytes\"\n\t\"time\"\n)\n\nvar _ bytes.Buffer\nvar _ time.Time\n\n//chronicle:event name=E\n" + c.decl + "\n"
			dir := tree(t, map[string]string{"events/v1/e.go": src})
			_, err := Generate(Config{Input: filepath.Join(dir, "events"), Output: filepath.Join(dir, "out")})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
			if !strings.Contains(err.Error(), filepath.Join("events", "v1", "e.go")+":") {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestSupportedFieldTypes(t *testing.T) {
	src := `package v1

import (
	"encoding/json"
	"time"

	id "github.com/google/uuid"
)

type E struct {
	B     bool
	S     string
	I     int
	I8    int8
	I16   int16
	I32   int32
	I64   int64
	U     uint
	U8    uint8
	U16   uint16
	U32   uint32
	U64   uint64
	Byte  byte
	Rune  rune
	F32   float32
	F64   float64
	T     time.Time
	D     time.Duration
	Raw   json.RawMessage
	Num   json.Number
	ID    id.UUID
	NID   id.NullUUID
	Ptr   *string
	Slice []*int
	Arr   [3]float64
	Map   map[Key]map[string][]Value
	Bytes []byte
	Val   Value
	Inl   struct{ A, B int }
	Rec   *Tree
	Opq   Opaque
	Alias Alias
	Value
	Skip  chan int ` + "`json:\"-\"`" + `
	skip  func()   ` + "`json:\"-\"`" + `
	_     int
}

type Key string

//chronicle:event ignore
type Value struct{ N int }

//chronicle:event ignore
type Tree struct{ Kids []Tree; Up *Tree }

//chronicle:event ignore
type Opaque struct{ hidden chan int }

func (Opaque) MarshalText() ([]byte, error) { return nil, nil }
func (*Opaque) UnmarshalText([]byte) error  { return nil }

type Alias = []Key
`
	dir := tree(t, map[string]string{"events/v1/e.go": src})
	out, err := Generate(Config{Input: filepath.Join(dir, "events"), Output: filepath.Join(dir, "out")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "func ToEV1(") || strings.Contains(string(out), "ToValueV1") {
		t.Errorf("want one event E, got:\n%s", out)
	}
}
