package integration_test

import (
	"database/sql"
	"net/url"
	"testing"

	"github.com/chronicle-go/chronicle/core/coretest"
	"github.com/jackc/pgx/v5"
)

// Every driver configuration runs the whole conformance suite.

func TestDriverPgxPool(t *testing.T) {
	coretest.Run(t, pgxHarness(newPool(t, 0, 32)))
}

func TestDriverPgxSimpleProtocol(t *testing.T) {
	coretest.Run(t, pgxHarness(newPool(t, pgx.QueryExecModeSimpleProtocol, 32)))
}

func TestDriverPgxCacheDescribe(t *testing.T) {
	coretest.Run(t, pgxHarness(newPool(t, pgx.QueryExecModeCacheDescribe, 32)))
}

func TestDriverPgxExec(t *testing.T) {
	coretest.Run(t, pgxHarness(newPool(t, pgx.QueryExecModeExec, 32)))
}

func TestDriverDatabaseSQLLibPQ(t *testing.T) {
	coretest.Run(t, sqlHarness(openDB(t, "postgres")))
}

func TestDriverDatabaseSQLPgxStdlib(t *testing.T) {
	coretest.Run(t, sqlHarness(openDB(t, "pgx")))
}

func TestDriverDatabaseSQLPgxStdlibSimpleProtocol(t *testing.T) {
	coretest.Run(t, sqlHarness(openPgxStdlibSimple(t)))
}

// lib/pq prepares each statement in a round trip of its own unless
// binary_parameters is on, which sends it in one.
func TestDriverDatabaseSQLLibPQBinaryParameters(t *testing.T) {
	coretest.Run(t, sqlHarness(openLibPQBinary(t)))
}

// openLibPQBinary opens lib/pq with binary_parameters=yes.
func openLibPQBinary(t *testing.T) *sql.DB {
	t.Helper()
	needDatabase(t)
	db, err := sql.Open("postgres", withQueryParam(t, databaseURL, "binary_parameters", "yes"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// withQueryParam returns u with the query parameter k set to v.
func withQueryParam(t *testing.T, u, k, v string) string {
	t.Helper()
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatalf("parsing the database URL: %v", err)
	}
	q := parsed.Query()
	q.Set(k, v)
	parsed.RawQuery = q.Encode()
	return parsed.String()
}
