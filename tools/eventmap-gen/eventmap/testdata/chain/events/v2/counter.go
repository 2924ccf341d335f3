// Package v2 holds version 2 of the counter events.
package v2

// CounterCreated adds a start value.
type CounterCreated struct {
	Name  string
	Start int
}
