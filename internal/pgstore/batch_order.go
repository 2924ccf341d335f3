package pgstore

import (
	"slices"

	"github.com/chronicle-go/chronicle/core"
)

// inPositionOrder puts a consumer batch in global_position order and
// returns it. The ConsumerBatch statement has no ORDER BY of its own: its
// rows come from the ordered, limited subquery through a nested loop over
// the one snapshot row, which keeps that order, and an outer ORDER BY made
// the server sort every batch again. The store calls this on each batch so
// that the order never rests on the plan's shape: checking an ordered
// batch is one comparison per event, and anything else is sorted.
func inPositionOrder(events []core.PersistedEvent) []core.PersistedEvent {
	for i := 1; i < len(events); i++ {
		if events[i-1].GlobalPosition >= events[i].GlobalPosition {
			slices.SortFunc(events, func(a, b core.PersistedEvent) int {
				switch {
				case a.GlobalPosition < b.GlobalPosition:
					return -1
				case a.GlobalPosition > b.GlobalPosition:
					return 1
				}
				return 0
			})
			return events
		}
	}
	return events
}
