package pgtext

import (
	"testing"

	"github.com/chronicle-go/chronicle/core"
)

func TestArrayLiteral(t *testing.T) {
	var a Array
	if a.String() != "{}" {
		t.Errorf("empty: %s", a.String())
	}
	a.Quoted(`plain`)
	a.Quoted(``)
	a.Quoted(`q"uo\te`)
	a.Quoted(`{,}`)
	a.Quoted("NULL")
	a.Null()
	a.Bare("42")
	a.NullString(core.NullString{String: "ignored"})
	a.NullString(core.NewNullString("x"))
	want := `{"plain","","q\"uo\\te","{,}","NULL",NULL,42,NULL,"x"}`
	if got := a.String(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
