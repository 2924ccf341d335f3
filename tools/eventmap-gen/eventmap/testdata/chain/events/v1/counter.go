// Package v1 holds version 1 of the counter events.
package v1

// CounterCreated starts a counter.
type CounterCreated struct{ Name string }

// CounterIncremented has versions 1 and 3 but not 2.
type CounterIncremented struct{ By int }
