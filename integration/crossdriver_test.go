package integration_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	pgxstore "github.com/chronicle-go/chronicle/adapters/postgres-pgx"
	pqstore "github.com/chronicle-go/chronicle/adapters/postgres-pq"
	"github.com/chronicle-go/chronicle/core"
	"github.com/chronicle-go/chronicle/internal/pgstore"
	"github.com/google/uuid"
)

// Events written by one adapter read back identically through the other:
// the two share one schema and one encoding of every field.
func TestWrittenByOneDriverReadByTheOther(t *testing.T) {
	names := newNames()
	migrate(t, names, pgstore.SchemaOptions{})
	pgxStore, err := pgxstore.NewStore(pgxConfig(names))
	if err != nil {
		t.Fatal(err)
	}
	pqStore, err := pqstore.NewStore(pqConfig(names))
	if err != nil {
		t.Fatal(err)
	}
	px := pgxRigFor(newPool(t, 0, 4), pgxStore, names)
	pq := sqlRigFor(openDB(t, "postgres"), pqStore, names)
	ctx := testContext(t)

	for _, dir := range []struct {
		name         string
		write        func(events []core.Event) core.AppendResult
		readBack     func(aggregateType, aggregateID string) core.Stream
		readBackOwn  func(aggregateType, aggregateID string) core.Stream
		readLogOther func(from int64) []core.PersistedEvent
	}{
		{
			name:         "pgx writes, database/sql reads",
			write:        func(e []core.Event) core.AppendResult { return px.appendCommitted(t, ctx, core.NoStream(), e...) },
			readBack:     func(a, id string) core.Stream { return pq.readStream(t, ctx, a, id) },
			readBackOwn:  func(a, id string) core.Stream { return px.readStream(t, ctx, a, id) },
			readLogOther: func(from int64) []core.PersistedEvent { return readLog(t, ctx, pq, from) },
		},
		{
			name:         "database/sql writes, pgx reads",
			write:        func(e []core.Event) core.AppendResult { return pq.appendCommitted(t, ctx, core.NoStream(), e...) },
			readBack:     func(a, id string) core.Stream { return px.readStream(t, ctx, a, id) },
			readBackOwn:  func(a, id string) core.Stream { return pq.readStream(t, ctx, a, id) },
			readLogOther: func(from int64) []core.PersistedEvent { return readLog(t, ctx, px, from) },
		},
	} {
		events := richEvents()
		res := dir.write(events)
		other := dir.readBack(events[0].AggregateType, events[0].AggregateID)
		own := dir.readBackOwn(events[0].AggregateType, events[0].AggregateID)
		log := dir.readLogOther(res.GlobalPositions[0] - 1)
		if len(other.Events) != len(events) || len(own.Events) != len(events) || len(log) < len(events) {
			t.Fatalf("%s: read %d/%d/%d events, want %d", dir.name, len(other.Events), len(own.Events), len(log), len(events))
		}
		for i := range events {
			sameEvent(t, dir.name+": stream read by the other driver vs own driver", other.Events[i], own.Events[i])
			sameEvent(t, dir.name+": log read by the other driver vs own driver", log[i], own.Events[i])
			result := res.Events[i]
			result.Metadata = own.Events[i].Metadata // JSONB normalises; compared in the reads above
			sameEvent(t, dir.name+": append result vs read", result, own.Events[i])
		}
	}
}

// richEvents uses every field, with values that stress encodings: quotes,
// backslashes, braces, commas and NULL-looking text in arrays, binary
// payloads, and times with microseconds in another zone.
func richEvents() []core.Event {
	id := `Order-"quoted",{braced}\` + uuid.NewString()
	at := time.Date(2024, 2, 29, 23, 59, 59, 123456789, time.FixedZone("X", -7*3600))
	return []core.Event{
		{AggregateType: "Order", AggregateID: id, EventID: uuid.New(), EventType: `Placed "now", {x}\y`, EventVersion: 3,
			Payload: []byte{0, 1, 2, 0xff, '\\', '"', '{'}, Metadata: []byte(`{"user": "a\"b", "n": [1, 2]}`), CreatedAt: at,
			TraceID: core.NewNullString("NULL"), CorrelationID: core.NewNullString(""), CausationID: core.NewNullString(`c,"d"`)},
		{AggregateType: "Order", AggregateID: id, EventID: uuid.New(), EventType: "Paid"},
		{AggregateType: "Order", AggregateID: id, EventID: uuid.New(), EventType: "Shipped", Payload: []byte{},
			Metadata: []byte(`"just a string"`), TraceID: core.NewNullString("ünïcode ✓")},
	}
}

func readLog[TX any](t *testing.T, ctx context.Context, r rig[TX], from int64) []core.PersistedEvent {
	t.Helper()
	tx := r.mustBegin(t, ctx, false)
	defer func() { _ = r.rollback(ctx, tx) }()
	events, err := r.store.ReadEvents(ctx, tx, from, 100)
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func sameEvent(t *testing.T, where string, got, want core.PersistedEvent) {
	t.Helper()
	if !got.CreatedAt.Equal(want.CreatedAt) || got.CreatedAt.Location() != time.UTC {
		t.Errorf("%s: CreatedAt %v, want %v in UTC", where, got.CreatedAt, want.CreatedAt)
	}
	got.CreatedAt, want.CreatedAt = time.Time{}, time.Time{}
	if len(got.Payload) == 0 && len(want.Payload) == 0 {
		got.Payload, want.Payload = nil, nil
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: event differs:\n got %+v\nwant %+v", where, got, want)
	}
}
