package core

import (
	"fmt"
	"strconv"
	"strings"
)

// Cursor is a consumer's place in the log: the pair (TransactionOrder,
// GlobalPosition) of the last event it processed. Consumers read events in
// cursor order, and because every event committed in the future has a
// TransactionOrder at or above its writer's transaction id, nothing ever
// appears behind a cursor taken below the frontier. The zero Cursor is the
// start of the log.
type Cursor struct {
	TransactionOrder int64
	GlobalPosition   int64
}

// CursorOf returns the cursor just at e: a consumer whose cursor is
// CursorOf(e) has processed e and everything before it.
func CursorOf(e PersistedEvent) Cursor {
	return Cursor{TransactionOrder: e.TransactionOrder, GlobalPosition: e.GlobalPosition}
}

// Compare returns -1, 0 or +1 as c sorts before, with or after o.
func (c Cursor) Compare(o Cursor) int {
	switch {
	case c.TransactionOrder < o.TransactionOrder:
		return -1
	case c.TransactionOrder > o.TransactionOrder:
		return 1
	case c.GlobalPosition < o.GlobalPosition:
		return -1
	case c.GlobalPosition > o.GlobalPosition:
		return 1
	}
	return 0
}

// String encodes c as "TransactionOrder/GlobalPosition", e.g. "7421/1093".
// ParseCursor reads it back.
func (c Cursor) String() string {
	return strconv.FormatInt(c.TransactionOrder, 10) + "/" + strconv.FormatInt(c.GlobalPosition, 10)
}

// ParseCursor parses the form Cursor.String writes. Both parts must be
// non-negative base-10 integers.
func ParseCursor(s string) (Cursor, error) {
	order, pos, ok := strings.Cut(s, "/")
	if !ok {
		return Cursor{}, &InvalidArgumentError{Argument: "cursor", Reason: fmt.Sprintf("%q is not of the form ORDER/POSITION", s)}
	}
	o, err := strconv.ParseInt(order, 10, 64)
	if err != nil || o < 0 || strings.HasPrefix(order, "+") {
		return Cursor{}, &InvalidArgumentError{Argument: "cursor", Reason: fmt.Sprintf("transaction order %q is not a non-negative integer", order)}
	}
	p, err := strconv.ParseInt(pos, 10, 64)
	if err != nil || p < 0 || strings.HasPrefix(pos, "+") {
		return Cursor{}, &InvalidArgumentError{Argument: "cursor", Reason: fmt.Sprintf("global position %q is not a non-negative integer", pos)}
	}
	return Cursor{TransactionOrder: o, GlobalPosition: p}, nil
}
