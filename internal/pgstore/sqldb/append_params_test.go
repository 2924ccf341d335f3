package sqldb

import (
	"testing"
	"time"

	"github.com/chronicle-go/chronicle/core"
	"github.com/google/uuid"
)

func TestBuildAppendArrays(t *testing.T) {
	id1, id2 := uuid.MustParse("6ba7b810-9dad-11d1-80b4-00c04fd430c8"), uuid.MustParse("6ba7b811-9dad-11d1-80b4-00c04fd430c8")
	at := time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.FixedZone("X", 3600))
	a := buildAppendArrays([]core.Event{
		{EventID: id1, EventType: "A", EventVersion: 1, Payload: []byte{0, 1}, Metadata: []byte(`{"k":"v"}`), CreatedAt: at, TraceID: core.NewNullString("t")},
		{EventID: id2, EventType: "B", EventVersion: 2, CreatedAt: at.Add(time.Second)},
	})
	checks := map[string][2]string{
		"ids":      {a.ids, "{" + id1.String() + "," + id2.String() + "}"},
		"types":    {a.types, `{"A","B"}`},
		"versions": {a.versions, `{1,2}`},
		"metadata": {a.metadata, `{"{\"k\":\"v\"}",NULL}`},
		"created":  {a.created, `{"2024-01-02T02:04:05.123456Z","2024-01-02T02:04:06.123456Z"}`},
		"traces":   {a.traces, `{"t",NULL}`},
		"starts":   {a.payloadStarts, `{1,3}`},
		"lengths":  {a.payloadLengths, `{2,0}`},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s: got %s, want %s", name, c[0], c[1])
		}
	}
	if string(a.payloads) != "\x00\x01" {
		t.Errorf("payloads %q", a.payloads)
	}
	empty := buildAppendArrays([]core.Event{{EventID: id1, EventType: "A", EventVersion: 1, CreatedAt: at}})
	if empty.payloads == nil {
		t.Error("an all-empty payload blob is nil, which drivers send as NULL")
	}
}
