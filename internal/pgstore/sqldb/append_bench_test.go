package sqldb

import (
	"fmt"
	"testing"
	"time"

	"github.com/chronicle-go/chronicle/core"
	"github.com/google/uuid"
)

// benchEvents returns n prepared events shaped like the benchmark
// workloads': a ~200-byte JSON payload and metadata {}.
func benchEvents(b *testing.B, n int) []core.Event {
	b.Helper()
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
	prepared, err := core.PrepareEvents(events, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	return prepared
}

// The append's parameters: text array literals and the packed payloads.
func BenchmarkBuildAppendArrays(b *testing.B) {
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			events := benchEvents(b, n)
			b.ReportAllocs()
			for b.Loop() {
				_ = buildAppendArrays(events)
			}
		})
	}
}
