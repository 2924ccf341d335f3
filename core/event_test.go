package core_test

import (
	"testing"

	"github.com/chronicle-go/chronicle/core"
)

func TestStream(t *testing.T) {
	var empty core.Stream
	if !empty.IsEmpty() || empty.Len() != 0 || empty.Version() != 0 {
		t.Errorf("empty stream: %v %d %d", empty.IsEmpty(), empty.Len(), empty.Version())
	}
	s := core.Stream{Events: []core.PersistedEvent{{AggregateVersion: 4}, {AggregateVersion: 5}}}
	if s.IsEmpty() || s.Len() != 2 || s.Version() != 5 {
		t.Errorf("stream: %v %d %d", s.IsEmpty(), s.Len(), s.Version())
	}
}

func TestAppendResultVersions(t *testing.T) {
	var r core.AppendResult
	if r.FromVersion() != 0 || r.ToVersion() != 0 {
		t.Error("empty result")
	}
	r.Events = []core.PersistedEvent{{AggregateVersion: 3}, {AggregateVersion: 4}, {AggregateVersion: 5}}
	if r.FromVersion() != 2 || r.ToVersion() != 5 {
		t.Errorf("FromVersion, ToVersion = %d, %d; want 2 (before the append), 5 (after)", r.FromVersion(), r.ToVersion())
	}
	r.Events = []core.PersistedEvent{{AggregateVersion: 1}}
	if r.FromVersion() != 0 || r.ToVersion() != 1 {
		t.Errorf("creating append: FromVersion, ToVersion = %d, %d; want 0, 1", r.FromVersion(), r.ToVersion())
	}
}

func TestNullString(t *testing.T) {
	if s := core.NewNullString(""); !s.Valid || s.String != "" {
		t.Errorf("NewNullString(\"\") = %+v", s)
	}
	if (core.NullString{}).Valid {
		t.Error("zero NullString must be absent")
	}
	if v := core.Version(7); *v != 7 {
		t.Errorf("Version(7) = %d", *v)
	}
}
