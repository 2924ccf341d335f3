package pgstore

import (
	"errors"
	"math"
	"testing"

	"github.com/chronicle-go/chronicle/core"
)

func TestVersionRange(t *testing.T) {
	v := core.Version
	for _, tc := range []struct {
		from, to         *int64
		wantFrom, wantTo int64
	}{
		{nil, nil, 1, math.MaxInt64},
		{v(3), nil, 3, math.MaxInt64},
		{nil, v(7), 1, 7},
		{v(2), v(2), 2, 2},
	} {
		from, to, err := versionRange(tc.from, tc.to)
		if err != nil || from != tc.wantFrom || to != tc.wantTo {
			t.Errorf("versionRange(%v, %v) = %d, %d, %v; want %d, %d", tc.from, tc.to, from, to, err, tc.wantFrom, tc.wantTo)
		}
	}
	if _, _, err := versionRange(v(5), v(4)); !errors.Is(err, core.ErrInvalidArgument) {
		t.Errorf("from > to: %v, want ErrInvalidArgument", err)
	}
}
