package postgres

import (
	"context"
	"errors"

	"github.com/chronicle-go/chronicle/core"
	"github.com/chronicle-go/chronicle/internal/pgstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// executor is the pgx side of pgstore.Executor. pgx prepares and caches
// every statement per connection in its default exec mode, and sends text
// in the simple protocol; both work since every parameter is cast.
type executor struct{}

var _ pgstore.Executor[pgx.Tx] = executor{}

func (executor) Query(ctx context.Context, tx pgx.Tx, sql string, args ...any) (pgstore.Rows, error) {
	return tx.Query(ctx, sql, args...)
}

func (executor) Exec(ctx context.Context, tx pgx.Tx, sql string, args ...any) error {
	_, err := tx.Exec(ctx, sql, args...)
	return err
}

func (executor) PayloadEncoding() pgstore.PayloadEncoding { return pgstore.PayloadArray }

// AppendEventParams encodes the arrays as pgtype FlatArrays of pgx's own
// element types: pgx encodes them without reflection, event ids travel as
// 16 binary bytes rather than 36-byte strings the server must parse, absent
// values need no pointer each, and times need no wrapper each. Every
// element type has a registered text form too, which pgx's simple protocol
// needs.
func (executor) AppendEventParams(args []any, events []core.Event) []any {
	n := len(events)
	ids := make(pgtype.FlatArray[pgtype.UUID], n)
	types := make(pgtype.FlatArray[string], n)
	versions := make(pgtype.FlatArray[int32], n)
	metadata := make(pgtype.FlatArray[pgtype.Text], n)
	created := make(pgtype.FlatArray[pgtype.Timestamptz], n)
	traces := make(pgtype.FlatArray[pgtype.Text], n)
	correlations := make(pgtype.FlatArray[pgtype.Text], n)
	causations := make(pgtype.FlatArray[pgtype.Text], n)
	payloads := make(pgtype.FlatArray[[]byte], n)
	for i := range events {
		e := &events[i]
		ids[i] = pgtype.UUID{Bytes: e.EventID, Valid: true}
		types[i] = e.EventType
		versions[i] = int32(e.EventVersion) // PrepareEvents bounds it to 32 bits
		if e.Metadata != nil {
			metadata[i] = pgtype.Text{String: string(e.Metadata), Valid: true}
		}
		created[i] = pgtype.Timestamptz{Time: e.CreatedAt, Valid: true}
		traces[i] = text(e.TraceID)
		correlations[i] = text(e.CorrelationID)
		causations[i] = text(e.CausationID)
		payloads[i] = e.Payload
		if payloads[i] == nil {
			payloads[i] = []byte{} // nil would be NULL
		}
	}
	return append(args, ids, types, versions, metadata, created, traces, correlations, causations, payloads)
}

func text(s core.NullString) pgtype.Text {
	return pgtype.Text{String: s.String, Valid: s.Valid}
}

// TextArray passes values as they are: pgx encodes a []string as text[].
func (executor) TextArray(values []string) any { return values }

func (executor) NewEventRow(leading int, text bool) pgstore.EventRow {
	return newEventRow(leading, text)
}

// DatabaseError reads a *pgconn.PgError, and pgx's "transaction already
// ended" error.
func (executor) DatabaseError(err error) pgstore.DatabaseError {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgstore.DatabaseError{Code: pgErr.Code, Constraint: pgErr.ConstraintName, Detail: pgErr.Detail}
	}
	return pgstore.DatabaseError{TxDone: errors.Is(err, pgx.ErrTxClosed)}
}
