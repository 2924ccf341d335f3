package pgstore

import (
	"testing"

	"github.com/chronicle-go/chronicle/core"
)

func TestInPositionOrder(t *testing.T) {
	ev := func(position int64) core.PersistedEvent { return core.PersistedEvent{GlobalPosition: position} }
	for name, c := range map[string]struct{ in, want []core.PersistedEvent }{
		"empty":    {nil, nil},
		"ordered":  {[]core.PersistedEvent{ev(3), ev(5), ev(7)}, []core.PersistedEvent{ev(3), ev(5), ev(7)}},
		"shuffled": {[]core.PersistedEvent{ev(7), ev(3), ev(5)}, []core.PersistedEvent{ev(3), ev(5), ev(7)}},
	} {
		got := inPositionOrder(c.in)
		if len(got) != len(c.want) {
			t.Fatalf("%s: got %v, want %v", name, got, c.want)
		}
		for i := range got {
			if got[i].GlobalPosition != c.want[i].GlobalPosition {
				t.Errorf("%s: got %v, want %v", name, got, c.want)
				break
			}
		}
	}
}
