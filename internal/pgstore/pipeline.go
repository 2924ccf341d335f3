package pgstore

import (
	"context"
)

// Pipelined is one statement of a pipeline (see Pipeliner): its text and
// parameters, Read for its rows, and Skip, asked once the statements
// before it were read: true when its rows are not wanted.
type Pipelined struct {
	SQL  string
	Args []any
	// Skip, when set and true, means the statement's rows are not wanted:
	// a driver that sends statements one by one does not send it, one that
	// sent it already discards its rows unread.
	Skip func() bool
	// Read reads the statement's rows; it may stop before the last row.
	Read func(Rows) error
}

// Pipeliner is a Transactor that sends several statements in one round
// trip. The ConsumerStore uses it, when its Transactor is one, for a
// consumer batch's BEGIN, claim and read, and for its save and COMMIT;
// otherwise it sends them one by one.
type Pipeliner[TX any] interface {
	// BeginWith begins a READ COMMITTED transaction and runs queries in it,
	// in one round trip, reading their results in order. The server runs
	// them one after the other, each with its own snapshot as separate
	// statements have. On an error it returns the failing statement's index
	// (-1 for the BEGIN) and no transaction: the statements after the
	// failing one did not run, and the transaction was rolled back.
	BeginWith(ctx context.Context, queries ...Pipelined) (tx TX, failed int, err error)
	// ExecCommit runs a statement returning no rows and then commits tx, in
	// one round trip, and ends tx as Transactor.Commit does. When the
	// statement fails nothing is committed, and tx is left for Rollback.
	ExecCommit(ctx context.Context, tx TX, sql string, args ...any) error
	// ExecCommitChain runs a statement returning no rows, COMMIT AND CHAIN
	// and queries, in one round trip: tx goes on in the transaction chained
	// to the committed one (same connection, same isolation level), in
	// which queries run. committed reports whether the COMMIT succeeded;
	// before it tx is left for Rollback, after it a failure (at index
	// failed of queries) ends tx.
	ExecCommitChain(ctx context.Context, tx TX, sql string, args []any, queries ...Pipelined) (committed bool, failed int, err error)
}

// beginWith begins a transaction and runs queries in it: in one round trip
// when the transactor is a Pipeliner and the schema was checked (a schema
// at another version is reported before any statement of the store's runs
// on it), else one by one, leaving out those that Skip. After an error
// there is no transaction.
func (s *ConsumerStore[TX]) beginWith(ctx context.Context, queries ...Pipelined) (tx TX, failed int, err error) {
	if p, ok := s.tr.(Pipeliner[TX]); ok && s.store.schemaChecked.Load() {
		return p.BeginWith(ctx, queries...)
	}
	var none TX
	if tx, err = s.tr.Begin(ctx); err != nil {
		return none, -1, err
	}
	if err := s.ready(ctx, tx); err != nil {
		_ = s.tr.Rollback(context.WithoutCancel(ctx), tx)
		return none, -2, err
	}
	for i, q := range queries {
		if q.Skip != nil && q.Skip() {
			continue
		}
		if err = s.runPipelined(ctx, tx, q); err != nil {
			_ = s.tr.Rollback(context.WithoutCancel(ctx), tx)
			return none, i, err
		}
	}
	return tx, 0, nil
}

// runPipelined runs one query of a pipeline on its own.
func (s *ConsumerStore[TX]) runPipelined(ctx context.Context, tx TX, q Pipelined) error {
	rows, err := s.store.exec.Query(ctx, tx, q.SQL, q.Args...)
	if err != nil {
		return err
	}
	err = q.Read(rows)
	rows.Close()
	if err == nil {
		err = rows.Err()
	}
	return err
}

// scanRow reads the first row of rows into dest: errNoRow when there is
// none.
func scanRow(rows Rows, dest ...any) error {
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return errNoRow
	}
	return rows.Scan(dest...)
}
