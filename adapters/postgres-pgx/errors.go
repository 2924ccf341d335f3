package postgres

import (
	"errors"

	pgsql "github.com/chronicle-go/chronicle/adapters/postgres-sql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// databaseError is the adapter's one reading of pgx errors: the SQLSTATE
// and constraint name of a server error, and whether err is pgx's
// "transaction already ended" error; zero for anything else. What they
// mean is decided in package pgsql, identically for both drivers.
func databaseError(err error) pgsql.DatabaseError {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgsql.DatabaseError{Code: pgErr.Code, Constraint: pgErr.ConstraintName}
	}
	return pgsql.DatabaseError{TxDone: errors.Is(err, pgx.ErrTxClosed)}
}
