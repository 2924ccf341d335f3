package postgres

import (
	"fmt"
	"testing"
	"time"

	"github.com/chronicle-go/chronicle/core"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
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

// The append's parameters: the arrays pgx then encodes in binary.
func BenchmarkAppendArgs(b *testing.B) {
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			events := benchEvents(b, n)
			b.ReportAllocs()
			for b.Loop() {
				_ = appendArgs(events)
			}
		})
	}
}

// The append's parameters as pgx encodes them for the wire (binary, with
// the statement's parameter types), which is where most of their cost is.
func BenchmarkAppendEncode(b *testing.B) {
	sd := &pgconn.StatementDescription{ParamOIDs: []uint32{pgtype.TextOID, pgtype.TextOID, pgtype.Int8OID, pgtype.Int8OID,
		pgtype.UUIDArrayOID, pgtype.TextArrayOID, pgtype.Int4ArrayOID, pgtype.TextArrayOID, pgtype.TimestamptzArrayOID,
		pgtype.TextArrayOID, pgtype.TextArrayOID, pgtype.TextArrayOID, pgtype.ByteaArrayOID, pgtype.TextOID}}
	m := pgtype.NewMap()
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			events := benchEvents(b, n)
			var eqb pgx.ExtendedQueryBuilder
			b.ReportAllocs()
			for b.Loop() {
				if err := eqb.Build(m, sd, appendArgs(events)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// appendArgs are the parameters the store passes for events: the four
// leading ones, the executor's arrays, and the notify channel.
func appendArgs(events []core.Event) []any {
	args := append(make([]any, 0, 16), events[0].AggregateType, events[0].AggregateID, int64(-1), int64(len(events)))
	return append(executor{}.AppendEventParams(args, events), "events")
}
