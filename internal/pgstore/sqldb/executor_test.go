package sqldb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"testing"
	"time"
)

// blockingConnector's connections come only once released is closed: a
// DB whose every connection is held.
type blockingConnector struct {
	released chan struct{}
	db       *fakeDB
}

func (c *blockingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	select {
	case <-c.released:
		return c.db.Connect(ctx)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *blockingConnector) Driver() driver.Driver { return nil }

// A statement's first use never waits for a connection to prepare it on:
// stmt returns at once (the caller runs the text), and the statement is
// prepared aside as soon as a connection is free, for later calls. Were
// stmt to wait, this test would hang until its deadline.
func TestPreparedStatementsNeverWaitForAConnection(t *testing.T) {
	c := &blockingConnector{released: make(chan struct{}), db: &fakeDB{}}
	db := sql.OpenDB(c)
	defer db.Close()
	s := newStatements(db)
	for range 3 {
		if stmt := s.stmt("SELECT 1"); stmt != nil {
			t.Fatal("a statement was prepared without a connection")
		}
	}
	close(c.released)
	deadline := time.Now().Add(10 * time.Second)
	for s.stmt("SELECT 1") == nil {
		if time.Now().After(deadline) {
			t.Fatal("the statement was not prepared once a connection was free")
		}
		time.Sleep(time.Millisecond) // polling a condition, not timing anything
	}
}
