package main

import (
	"fmt"
	"math/rand/v2"

	"github.com/chronicle-go/chronicle/core"
	"github.com/google/uuid"
)

// The workloads' events, as BENCHMARKS.md describes them: aggregate type
// Order with UUID ids, type OrderPlaced, a JSON payload of about 200 bytes,
// metadata {} and random UUIDv4 event ids.
const (
	aggregateType = "Order"
	eventType     = "OrderPlaced"
)

var metadata = []byte(`{}`)

// payload returns a ~200-byte JSON order for the aggregate id.
func payload(id string) []byte {
	return fmt.Appendf(nil, `{"order_id":%q,"customer_id":"C-%06d","items":[{"sku":"SKU-%04d","qty":%d,"price_cents":%d}],"currency":"EUR","total_cents":%d,"channel":"web","placed_by":"checkout-service"}`,
		id, rand.IntN(1_000_000), rand.IntN(10_000), 1+rand.IntN(5), 100+rand.IntN(10_000), 100+rand.IntN(50_000))
}

// orderEvents returns n events for a new aggregate.
func orderEvents(n int) []core.Event {
	return moreOrderEvents(uuid.NewString(), n)
}

// moreOrderEvents returns n events for the aggregate id.
func moreOrderEvents(id string, n int) []core.Event {
	events := make([]core.Event, n)
	for i := range events {
		events[i] = core.Event{
			AggregateType: aggregateType, AggregateID: id, EventID: uuid.New(),
			EventType: eventType, EventVersion: 1, Payload: payload(id), Metadata: metadata,
		}
	}
	return events
}
