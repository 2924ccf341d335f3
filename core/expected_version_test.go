package core_test

import (
	"errors"
	"math"
	"testing"

	"github.com/chronicle-go/chronicle/core"
)

func TestExpectedVersionMatches(t *testing.T) {
	tests := []struct {
		expected core.ExpectedVersion
		name     string
		match    []int64
		conflict []int64
	}{
		{core.Any(), "Any", []int64{0, 1, 99}, nil},
		{core.NoStream(), "NoStream", []int64{0}, []int64{1, 5}},
		{core.Exact(0), "NoStream", []int64{0}, []int64{1}},
		{core.Exact(3), "Exact(3)", []int64{3}, []int64{0, 2, 4}},
		{core.Exact(math.MaxInt64), "Exact(9223372036854775807)", []int64{math.MaxInt64}, []int64{0, math.MaxInt64 - 1}},
		{core.StreamExists(), "StreamExists", []int64{1, 42}, []int64{0}},
		{core.ExpectedVersion{}, "Any", []int64{0, 7}, nil},
	}
	for _, tc := range tests {
		if got := tc.expected.String(); got != tc.name {
			t.Errorf("String() = %q, want %q", got, tc.name)
		}
		for _, v := range tc.match {
			if !tc.expected.Matches(v) {
				t.Errorf("%s should match version %d", tc.name, v)
			}
		}
		for _, v := range tc.conflict {
			if tc.expected.Matches(v) {
				t.Errorf("%s should conflict with version %d", tc.name, v)
			}
		}
	}
}

func TestExpectedVersionAccessors(t *testing.T) {
	if !core.Exact(0).IsNoStream() || !core.NoStream().IsNoStream() || core.Any().IsNoStream() {
		t.Error("IsNoStream")
	}
	if !core.Any().IsAny() || !core.StreamExists().IsStreamExists() {
		t.Error("IsAny/IsStreamExists")
	}
	if n, ok := core.Exact(5).ExactVersion(); !ok || n != 5 {
		t.Errorf("ExactVersion() = %d, %v", n, ok)
	}
	if _, ok := core.Any().ExactVersion(); ok {
		t.Error("Any is not Exact")
	}
}

func TestExpectedVersionValidate(t *testing.T) {
	if err := core.Exact(-1).Validate(); !errors.Is(err, core.ErrInvalidArgument) {
		t.Errorf("Exact(-1).Validate() = %v, want ErrInvalidArgument", err)
	}
	for _, e := range []core.ExpectedVersion{core.Any(), core.NoStream(), core.Exact(1), core.StreamExists()} {
		if err := e.Validate(); err != nil {
			t.Errorf("%s.Validate() = %v", e, err)
		}
	}
}
