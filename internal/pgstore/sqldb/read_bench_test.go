package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"io"
	"testing"
	"time"

	"github.com/chronicle-go/chronicle/core"
)

// fakeDB serves fixed rows through database/sql, in the Go types lib/pq
// decodes the event columns to (text as string, uuid as []byte, integers
// as int64), so that scanning is measured without a server.
type fakeDB struct{ rows [][]driver.Value }

func (d *fakeDB) Connect(context.Context) (driver.Conn, error) { return &fakeConn{d}, nil }
func (d *fakeDB) Driver() driver.Driver                        { return nil }

type fakeConn struct{ db *fakeDB }

func (c *fakeConn) Prepare(string) (driver.Stmt, error) { return &fakeStmt{c.db}, nil }
func (c *fakeConn) Close() error                        { return nil }
func (c *fakeConn) Begin() (driver.Tx, error)           { return fakeTx{}, nil }

type fakeTx struct{}

func (fakeTx) Commit() error   { return nil }
func (fakeTx) Rollback() error { return nil }

type fakeStmt struct{ db *fakeDB }

func (s *fakeStmt) Close() error                               { return nil }
func (s *fakeStmt) NumInput() int                              { return -1 }
func (s *fakeStmt) Exec([]driver.Value) (driver.Result, error) { return driver.RowsAffected(0), nil }
func (s *fakeStmt) Query([]driver.Value) (driver.Rows, error)  { return &fakeRows{rows: s.db.rows}, nil }

type fakeRows struct {
	rows [][]driver.Value
	i    int
}

func (r *fakeRows) Columns() []string {
	return []string{"global_position", "aggregate_type", "aggregate_id", "aggregate_version", "event_id", "event_type",
		"event_version", "payload", "metadata", "created_at", "trace_id", "correlation_id", "causation_id", "transaction_id"}
}
func (r *fakeRows) Close() error { return nil }
func (r *fakeRows) Next(dest []driver.Value) error {
	if r.i == len(r.rows) {
		return io.EOF
	}
	copy(dest, r.rows[r.i])
	r.i++
	return nil
}

// Scanning a page of the log into core.PersistedEvent values, as the
// store's reads do.
func BenchmarkCollectEvents(b *testing.B) {
	const n = 500
	db := &fakeDB{}
	for i, e := range benchEvents(b, n) {
		db.rows = append(db.rows, []driver.Value{int64(i + 1), e.AggregateType, e.AggregateID, int64(i + 1), []byte(e.EventID.String()),
			e.EventType, int64(1), e.Payload, string(e.Metadata), time.Now(), nil, nil, nil, int64(1000)})
	}
	sqlDB := sql.OpenDB(db)
	defer sqlDB.Close()
	ctx := context.Background()
	tx, err := sqlDB.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	b.ReportAllocs()
	for b.Loop() {
		rows, err := executor{}.Query(ctx, tx, "SELECT")
		if err != nil {
			b.Fatal(err)
		}
		events := make([]core.PersistedEvent, 0, n)
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
		rows.Close()
		if len(events) != n {
			b.Fatal(len(events))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/event")
}
