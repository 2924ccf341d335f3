package postgres

import (
	"context"
	"database/sql"

	pgsql "github.com/chronicle-go/chronicle/adapters/postgres-sql"
	"github.com/chronicle-go/chronicle/core"
)

// TransactionOrder implements core.ConsumerStore: StoredMax is the highest
// transaction order stored in events or checkpoint cursors (a cursor may
// sit at a frontier above every event), Current the next transaction id
// plus the order offset. It assigns tx no transaction id.
func (s *ConsumerStore) TransactionOrder(ctx context.Context, tx *sql.Tx) (core.OrderStatus, error) {
	var st core.OrderStatus
	var current, offset sql.NullInt64
	if err := tx.QueryRowContext(ctx, s.queries.TransactionOrder).Scan(&st.StoredMax, &current, &offset); err != nil {
		return core.OrderStatus{}, pgsql.ConsumerError(ctx, "reading the transaction order", err)
	}
	if !current.Valid || !offset.Valid {
		return core.OrderStatus{}, pgsql.ConsumerError(ctx, "reading the transaction order", pgsql.ErrOrderOffsetMissing)
	}
	st.Current, st.Offset = current.Int64, offset.Int64
	return st, nil
}

// RaiseOrderOffset implements core.ConsumerStore: one UPDATE of the offset
// row raises the offset so that Current is StoredMax + 1 when the order
// moved, and changes nothing otherwise; it returns the new status. It locks
// the offset row until tx ends (waiting for another transaction changing
// it) and gives tx a transaction id; new orders continue above StoredMax
// once tx commits. Stop every writer and processor first: a transaction
// already running keeps the order it got. Needs UPDATE on the offset
// table, no superuser.
func (s *ConsumerStore) RaiseOrderOffset(ctx context.Context, tx *sql.Tx) (core.OrderStatus, error) {
	rows, err := tx.QueryContext(ctx, s.queries.RaiseOrderOffset)
	if err != nil {
		return core.OrderStatus{}, pgsql.ConsumerError(ctx, "raising the transaction order offset", err)
	}
	defer rows.Close()
	var st core.OrderStatus
	n := 0
	for rows.Next() {
		if err := rows.Scan(&st.StoredMax, &st.Current, &st.Offset); err != nil {
			return core.OrderStatus{}, pgsql.ConsumerError(ctx, "raising the transaction order offset", err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return core.OrderStatus{}, pgsql.ConsumerError(ctx, "raising the transaction order offset", err)
	}
	if n == 0 {
		return core.OrderStatus{}, pgsql.ConsumerError(ctx, "raising the transaction order offset", pgsql.ErrOrderOffsetMissing)
	}
	return st, nil
}
