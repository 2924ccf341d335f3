package postgres

import (
	"database/sql"
	"errors"
	"reflect"

	pgsql "github.com/chronicle-go/chronicle/adapters/postgres-sql"
)

// sqlStater is what PostgreSQL drivers for database/sql expose on server
// errors: lib/pq's *pq.Error and pgx's *pgconn.PgError both implement it.
type sqlStater interface {
	SQLState() string
}

// databaseError is the adapter's one reading of driver errors: the SQLSTATE
// and constraint name of a server error, and whether err is database/sql's
// "transaction already ended" error; zero for anything else. Queries may
// run on any database/sql driver, so it finds the error by its SQLState method
// and the constraint by the field drivers store it in (lib/pq: Constraint,
// pgx: ConstraintName). What codes and constraints mean is decided in
// package pgsql, identically for both adapters.
func databaseError(err error) pgsql.DatabaseError {
	var s sqlStater
	if !errors.As(err, &s) {
		return pgsql.DatabaseError{TxDone: errors.Is(err, sql.ErrTxDone)}
	}
	return pgsql.DatabaseError{Code: s.SQLState(), Constraint: constraintOf(s)}
}

func constraintOf(err any) string {
	v := reflect.ValueOf(err)
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return ""
	}
	for _, name := range [...]string{"ConstraintName", "Constraint"} {
		if f := v.FieldByName(name); f.IsValid() && f.Kind() == reflect.String {
			return f.String()
		}
	}
	return ""
}
