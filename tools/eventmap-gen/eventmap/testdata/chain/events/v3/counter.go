// Package v3 holds version 3 of the counter events.
package v3

// CounterOpened is version 3 of "CounterCreated", renamed in Go.
//
//chronicle:event name=CounterCreated
type CounterOpened struct {
	Title string
	Start int
}

// CounterIncremented counts in steps of int64.
type CounterIncremented struct{ By int64 }
