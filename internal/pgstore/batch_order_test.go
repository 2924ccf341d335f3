package pgstore

import (
	"testing"

	"github.com/chronicle-go/chronicle/core"
)

func TestInCursorOrder(t *testing.T) {
	ev := func(order, position int64) core.PersistedEvent {
		return core.PersistedEvent{TransactionOrder: order, GlobalPosition: position}
	}
	for name, c := range map[string]struct{ in, want []core.PersistedEvent }{
		"empty":   {nil, nil},
		"ordered": {[]core.PersistedEvent{ev(1, 5), ev(1, 7), ev(2, 3)}, []core.PersistedEvent{ev(1, 5), ev(1, 7), ev(2, 3)}},
		"shuffled": {[]core.PersistedEvent{ev(2, 3), ev(1, 7), ev(1, 5)},
			[]core.PersistedEvent{ev(1, 5), ev(1, 7), ev(2, 3)}},
	} {
		got := inCursorOrder(c.in)
		if len(got) != len(c.want) {
			t.Fatalf("%s: got %v, want %v", name, got, c.want)
		}
		for i := range got {
			if core.CursorOf(got[i]) != core.CursorOf(c.want[i]) {
				t.Errorf("%s: got %v, want %v", name, got, c.want)
				break
			}
		}
	}
}
