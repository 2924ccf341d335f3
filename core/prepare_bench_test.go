package core_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/chronicle-go/chronicle/core"
	"github.com/google/uuid"
)

// benchEvents returns n events shaped like the benchmark workloads': a
// ~200-byte JSON payload and metadata {}.
func benchEvents(n int) []core.Event {
	id := uuid.NewString()
	events := make([]core.Event, n)
	for i := range events {
		events[i] = core.Event{
			AggregateType: "Order", AggregateID: id, EventID: uuid.New(), EventType: "OrderPlaced",
			Payload: fmt.Appendf(nil, `{"order_id":%q,"customer_id":"C-%06d","items":[{"sku":"SKU-0001","qty":2,"price_cents":1999}],"currency":"EUR","total_cents":3998,"channel":"web","placed_by":"checkout-service"}`,
				id, i),
			Metadata: []byte(`{}`),
		}
	}
	return events
}

// PrepareEvents runs before every append: validation and defaults.
func BenchmarkPrepareEvents(b *testing.B) {
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			events := benchEvents(n)
			now := time.Now()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := core.PrepareEvents(events, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
