package postgres

import (
	"reflect"

	"github.com/chronicle-go/chronicle/core"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// fakeRows serves rows already in the binary wire format through pgx's
// own decoding, with scan plans cached per column as pgx's rows cache
// them, so that scanning is measured without a server.
type fakeRows struct {
	pgx.Rows // not called; embedded to satisfy the interface
	m        *pgtype.Map
	fields   []pgconn.FieldDescription
	rows     [][][]byte
	i        int
	err      error
	plans    []pgtype.ScanPlan
	types    []reflect.Type
}

func (r *fakeRows) Next() bool {
	r.i++
	return r.i <= len(r.rows)
}
func (r *fakeRows) Scan(dest ...any) error {
	if len(r.plans) != len(dest) {
		r.plans, r.types = make([]pgtype.ScanPlan, len(dest)), make([]reflect.Type, len(dest))
	}
	row := r.rows[r.i-1]
	for i, d := range dest {
		if t := reflect.TypeOf(d); r.types[i] != t {
			r.plans[i], r.types[i] = r.m.PlanScan(r.fields[i].DataTypeOID, r.fields[i].Format, d), t
		}
		if err := r.plans[i].Scan(row[i], d); err != nil {
			return err
		}
	}
	return nil
}
func (r *fakeRows) RawValues() [][]byte                          { return r.rows[r.i-1] }
func (r *fakeRows) FieldDescriptions() []pgconn.FieldDescription { return r.fields }
func (r *fakeRows) Err() error                                   { return r.err }
func (r *fakeRows) Close()                                       {}
func (r *fakeRows) CommandTag() pgconn.CommandTag                { return pgconn.NewCommandTag("SELECT") }

// eventRows encodes n events as rows of the event columns.
func eventRows(b *testing.B, n int) *fakeRows {
	b.Helper()
	m := pgtype.NewMap()
	oids := []uint32{pgtype.Int8OID, pgtype.TextOID, pgtype.TextOID, pgtype.Int8OID, pgtype.UUIDOID, pgtype.TextOID,
		pgtype.Int4OID, pgtype.ByteaOID, pgtype.TextOID, pgtype.TimestamptzOID, pgtype.TextOID, pgtype.TextOID, pgtype.TextOID,
		pgtype.Int8OID}
	r := &fakeRows{m: m}
	for _, oid := range oids {
		r.fields = append(r.fields, pgconn.FieldDescription{DataTypeOID: oid, Format: pgtype.BinaryFormatCode})
	}
	events := benchEvents(b, n)
	for i, e := range events {
		values := []any{int64(i + 1), e.AggregateType, e.AggregateID, int64(i + 1), e.EventID, e.EventType, int32(1),
			e.Payload, string(e.Metadata), time.Now(), nil, nil, nil, int64(1000)}
		row := make([][]byte, len(values))
		for j, v := range values {
			if v == nil {
				continue
			}
			if id, ok := v.(uuid.UUID); ok {
				v = [16]byte(id)
			}
			buf, err := m.Encode(oids[j], pgtype.BinaryFormatCode, v, nil)
			if err != nil {
				b.Fatalf("encoding column %d: %v", j, err)
			}
			row[j] = buf
		}
		r.rows = append(r.rows, row)
	}
	return r
}

// Scanning a page of the log into core.PersistedEvent values, as the
// store's reads do.
func BenchmarkCollectEvents(b *testing.B) {
	rows := eventRows(b, 500)
	b.ReportAllocs()
	for b.Loop() {
		rows.i = 0
		events := make([]core.PersistedEvent, 0, 500)
		r := newEventRow(0, false)
		targets := r.Targets()
		for rows.Next() {
			if err := rows.Scan(targets...); err != nil {
				b.Fatal(err)
			}
			e, err := r.Event()
			if err != nil {
				b.Fatal(err)
			}
			events = append(events, e)
		}
		if len(events) != 500 {
			b.Fatal(len(events))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*500), "ns/event")
}
