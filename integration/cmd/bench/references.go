package main

import (
	"context"
	"fmt"
	"time"

	"github.com/chronicle-go/chronicle/internal/pgstore"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The raw references: plain pgx with prepared statements (pgx's default
// statement cache) against a table made by the same DDL as the store's,
// in the transaction shape of the workload each pairs with.

var rawEvents = pgx.Identifier{rawSchema, "events"}.Sanitize()

// rawInsert is L1's statement; transaction_id gets the writer's id from
// the column default, as the store's rows do.
var rawInsert = `INSERT INTO ` + rawEvents + ` (aggregate_type, aggregate_id, aggregate_version, event_id, event_type, event_version,
    payload, metadata, created_at)
VALUES ($1, $2, 1, $3, $4, 1, $5, $6, $7)
RETURNING global_position`

// rawUnnest is L2's statement: one INSERT … SELECT FROM unnest(arrays).
var rawUnnest = `INSERT INTO ` + rawEvents + ` (aggregate_type, aggregate_id, aggregate_version, event_id, event_type, event_version,
    payload, metadata, created_at)
SELECT $1, $2, e.n, e.event_id, e.event_type, 1, e.payload, e.metadata, e.created_at
FROM unnest($3::uuid[], $4::text[], $5::bytea[], $6::jsonb[], $7::timestamptz[])
    WITH ORDINALITY AS e(event_id, event_type, payload, metadata, created_at, n)
RETURNING global_position`

var rawColumns = []string{"aggregate_type", "aggregate_id", "aggregate_version", "event_id", "event_type", "event_version",
	"payload", "metadata", "created_at"}

// l1 is one single-row insert; autocommit leaves out BEGIN and COMMIT.
func l1(pool *pgxpool.Pool, autocommit bool) func(ctx context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		id := uuid.NewString()
		args := []any{aggregateType, id, uuid.New(), eventType, payload(id), metadata, time.Now().UTC()}
		var pos int64
		if autocommit {
			return 1, pool.QueryRow(ctx, rawInsert, args...).Scan(&pos)
		}
		return 1, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			return tx.QueryRow(ctx, rawInsert, args...).Scan(&pos)
		})
	}
}

// l2 inserts a 100-row batch with one unnest statement.
func l2(pool *pgxpool.Pool, size int) func(ctx context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		id := uuid.NewString()
		ids := make([]uuid.UUID, size)
		types := make([]string, size)
		payloads := make([][]byte, size)
		metas := make([][]byte, size)
		created := make([]time.Time, size)
		now := time.Now().UTC()
		for i := range size {
			ids[i], types[i], payloads[i], metas[i], created[i] = uuid.New(), eventType, payload(id), metadata, now
		}
		return size, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, rawUnnest, aggregateType, id, ids, types, payloads, metas, created)
			if err != nil {
				return err
			}
			n := 0
			var pos int64
			_, err = pgx.ForEachRow(rows, []any{&pos}, func() error { n++; return nil })
			if err == nil && n != size {
				err = fmt.Errorf("inserted %d rows, want %d", n, size)
			}
			return err
		})
	}
}

// l3 loads a 100-row batch with COPY; the bulk-load ceiling, returning
// nothing. transaction_id comes from the column default, as in the store.
func l3(pool *pgxpool.Pool, size int) func(ctx context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		id := uuid.NewString()
		now := time.Now().UTC()
		rows := make([][]any, size)
		for i := range rows {
			rows[i] = []any{aggregateType, id, int64(i + 1), uuid.New(), eventType, int32(1), payload(id), metadata, now}
		}
		return size, pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			n, err := tx.CopyFrom(ctx, pgx.Identifier{rawSchema, "events"}, rawColumns, pgx.CopyFromRows(rows))
			if err == nil && n != int64(size) {
				err = fmt.Errorf("copied %d rows, want %d", n, size)
			}
			return err
		})
	}
}

// logQueries are the store's own read statements on the seeded log, run
// raw by R4 and R5.
func logQueries() pgstore.Statements {
	q, err := pgstore.RenderStatements(namesIn(logSchema), "", pgstore.PayloadArray)
	if err != nil {
		panic(err) // fixed, valid names
	}
	return q
}

// rawRow receives one row of the event columns, reused across rows: the
// least work a caller of pgx can do.
type rawRow struct {
	position, version, order   int64
	aggType, aggID, evType     string
	id                         [16]byte
	evVersion                  int32
	payload                    []byte
	metadata                   *string
	created                    time.Time
	trace, correlation, causal *string
}

func (r *rawRow) targets() []any {
	return []any{&r.position, &r.aggType, &r.aggID, &r.version, &r.id, &r.evType, &r.evVersion, &r.payload,
		&r.metadata, &r.created, &r.trace, &r.correlation, &r.causal, &r.order}
}

// r4 reads the stream aggregate with W4's statement, in a transaction.
func r4(pool *pgxpool.Pool, q pgstore.Statements) func(ctx context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		var n int
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			var err error
			n, err = rawStream(ctx, tx, q.ReadStream, streamID)
			return err
		})
		return n, err
	}
}

// rawStream runs a stream read of ReadStream's shape and scans its event
// rows raw, skipping the header row (the stream state, NULL event
// columns) without decoding it.
func rawStream(ctx context.Context, tx pgx.Tx, statement, id string) (int, error) {
	var r rawRow
	targets := append([]any{nil}, r.targets()...) // the state column is not decoded
	rows, err := tx.Query(ctx, statement, aggregateType, id, int64(1), int64(1<<62))
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		if rows.RawValues()[1] == nil {
			continue // the header
		}
		if err := rows.Scan(targets...); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// r11 reads W11's long aggregate whole with W4's statement, raw: the
// ceiling of a load without a snapshot.
func r11(pool *pgxpool.Pool, events int) func(ctx context.Context) (int, error) {
	q, err := pgstore.RenderStatements(namesIn(longSchema), "", pgstore.PayloadArray)
	if err != nil {
		panic(err) // fixed, valid names
	}
	return func(ctx context.Context) (int, error) {
		var n int
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			var err error
			n, err = rawStream(ctx, tx, q.ReadStream, longID)
			if err == nil && n != events {
				err = fmt.Errorf("read %d events of the long aggregate, want %d", n, events)
			}
			return err
		})
		return n, err
	}
}

// r5 reads the whole log in pages with W5's statement, in one transaction.
func r5(pool *pgxpool.Pool, q pgstore.Statements, total, page int) func(ctx context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		var n int
		err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
			var r rawRow
			for from := int64(0); n < total; {
				rows, err := tx.Query(ctx, q.ReadEvents, from, int64(page))
				if err != nil {
					return err
				}
				got := 0
				if _, err := pgx.ForEachRow(rows, r.targets(), func() error { got++; return nil }); err != nil {
					return err
				}
				if got == 0 {
					return fmt.Errorf("the log ended after %d events, want %d", n, total)
				}
				n += got
				from = r.position
			}
			return nil
		})
		return n, err
	}
}
