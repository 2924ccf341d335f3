// Package orders is a small domain written against Chronicle's core ports
// only: an order with a credit limit, its events, and the command handlers
// that change it. Nothing here names a database, so the same handlers run
// on the in-memory store in unit tests (orders_test.go) and on PostgreSQL
// in production (the example's main).
package orders
