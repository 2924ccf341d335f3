package integration_test

import (
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

func TestDriverDatabaseSQLLibPQ(t *testing.T) {
	coretest.Run(t, sqlHarness(openDB(t, "postgres")))
}

func TestDriverDatabaseSQLPgxStdlib(t *testing.T) {
	coretest.Run(t, sqlHarness(openDB(t, "pgx")))
}

func TestDriverDatabaseSQLPgxStdlibSimpleProtocol(t *testing.T) {
	coretest.Run(t, sqlHarness(openPgxStdlibSimple(t)))
}
