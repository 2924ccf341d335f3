package core

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Snapshot is a set of transactions, as PostgreSQL's pg_snapshot describes
// one: every transaction below Xmin is in it, none at or above Xmax, and of
// those in between every one except the ids in Xip. Values are transaction
// ids plus the log's order offset, like PersistedEvent.TransactionID, so
// that they keep their order when a database moves to another cluster (see
// ConsumerStore.RaiseOrderOffset).
//
// A consumer's cursor is a snapshot: it has delivered exactly the events
// whose writer is visible in it. The zero Snapshot contains no transaction:
// the start of the log.
type Snapshot struct {
	// Xmin is the lowest transaction not visible; every lower one is.
	Xmin int64
	// Xmax is the first transaction not visible, and no later one is.
	Xmax int64
	// Xip lists the transactions in [Xmin, Xmax) that are not visible (they
	// were running when the snapshot was taken), ascending.
	Xip []int64
}

// Visible reports whether transaction id (offset applied) is in s.
func (s Snapshot) Visible(id int64) bool {
	if id < s.Xmin {
		return true
	}
	if id >= s.Xmax {
		return false
	}
	_, found := slices.BinarySearch(s.Xip, id)
	return !found
}

// Equal reports whether s and o are the same snapshot.
func (s Snapshot) Equal(o Snapshot) bool {
	return s.Xmin == o.Xmin && s.Xmax == o.Xmax && slices.Equal(s.Xip, o.Xip)
}

// IsZero reports whether s is the zero (empty) snapshot.
func (s Snapshot) IsZero() bool { return s.Xmin == 0 && s.Xmax == 0 && len(s.Xip) == 0 }

// Contains reports whether every transaction visible in o is visible in s:
// s was taken at or after o, so a cursor may move from o to s without
// skipping anything.
func (s Snapshot) Contains(o Snapshot) bool {
	if s.Xmax < o.Xmin {
		return false // [s.Xmax, o.Xmin) is visible in o only
	}
	for _, id := range s.Xip {
		if o.Visible(id) {
			return false
		}
	}
	if o.Xmax > s.Xmax {
		// [s.Xmax, o.Xmax) is not visible in s: o must list all of it as running.
		running := 0
		for _, id := range o.Xip {
			if id >= s.Xmax {
				running++
			}
		}
		return int64(running) == o.Xmax-s.Xmax
	}
	return true
}

// Validate reports whether s is well formed: 0 <= Xmin <= Xmax, and Xip
// ascending without repeats within [Xmin, Xmax).
func (s Snapshot) Validate() error {
	if s.Xmin < 0 || s.Xmax < s.Xmin {
		return &InvalidArgumentError{Argument: "snapshot", Reason: fmt.Sprintf("%s: need 0 <= xmin <= xmax", s)}
	}
	for i, id := range s.Xip {
		if id < s.Xmin || id >= s.Xmax {
			return &InvalidArgumentError{Argument: "snapshot", Reason: fmt.Sprintf("%s: running transaction %d is outside [xmin, xmax)", s, id)}
		}
		if i > 0 && id <= s.Xip[i-1] {
			return &InvalidArgumentError{Argument: "snapshot", Reason: fmt.Sprintf("%s: running transactions must be ascending without repeats", s)}
		}
	}
	return nil
}

// String encodes s as pg_snapshot does: "xmin:xmax:xip,xip", e.g.
// "742:748:743,745" or "748:748:". ParseSnapshot reads it back.
func (s Snapshot) String() string {
	var b strings.Builder
	b.WriteString(strconv.FormatInt(s.Xmin, 10))
	b.WriteByte(':')
	b.WriteString(strconv.FormatInt(s.Xmax, 10))
	b.WriteByte(':')
	for i, id := range s.Xip {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	return b.String()
}

// ParseSnapshot parses the form Snapshot.String writes; the result is
// valid (see Snapshot.Validate).
func ParseSnapshot(text string) (Snapshot, error) {
	parts := strings.Split(text, ":")
	if len(parts) != 3 {
		return Snapshot{}, &InvalidArgumentError{Argument: "snapshot", Reason: fmt.Sprintf("%q is not of the form XMIN:XMAX:XIP,…", text)}
	}
	var s Snapshot
	var err error
	if s.Xmin, err = parseID(parts[0]); err != nil {
		return Snapshot{}, &InvalidArgumentError{Argument: "snapshot", Reason: fmt.Sprintf("%q: xmin %v", text, err)}
	}
	if s.Xmax, err = parseID(parts[1]); err != nil {
		return Snapshot{}, &InvalidArgumentError{Argument: "snapshot", Reason: fmt.Sprintf("%q: xmax %v", text, err)}
	}
	if parts[2] != "" {
		for _, f := range strings.Split(parts[2], ",") {
			id, err := parseID(f)
			if err != nil {
				return Snapshot{}, &InvalidArgumentError{Argument: "snapshot", Reason: fmt.Sprintf("%q: running transaction %v", text, err)}
			}
			s.Xip = append(s.Xip, id)
		}
	}
	if err := s.Validate(); err != nil {
		return Snapshot{}, err
	}
	return s, nil
}

func parseID(f string) (int64, error) {
	v, err := strconv.ParseInt(f, 10, 64)
	if err != nil || v < 0 || strings.HasPrefix(f, "+") {
		return 0, fmt.Errorf("%q is not a non-negative integer", f)
	}
	return v, nil
}

// Cursor is a consumer's place in the log. The consumer has delivered
// exactly the events whose writer is visible in Snapshot and, while it
// pages through a large batch (Paging), also those visible in Upper with a
// GlobalPosition at most Position. The zero Cursor is the start of the log.
//
// Nothing can appear behind a cursor: a transaction that is not visible in
// a snapshot stays so, and becomes visible in a later one, so each
// committed writer's events fall into exactly one step from one snapshot to
// the next.
type Cursor struct {
	Snapshot Snapshot
	// Upper is the snapshot a batch larger than the batch size is read up
	// to, page by page; zero when not paging.
	Upper Snapshot
	// Position is the global position of the last event delivered from the
	// page being read; 0 when not paging.
	Position int64
}

// Equal reports whether c and o are the same cursor.
func (c Cursor) Equal(o Cursor) bool {
	return c.Snapshot.Equal(o.Snapshot) && c.Upper.Equal(o.Upper) && c.Position == o.Position
}

// Paging reports whether c is inside a batch read page by page.
func (c Cursor) Paging() bool { return !c.Upper.IsZero() }

// Delivered reports whether a consumer at c has delivered e.
func (c Cursor) Delivered(e PersistedEvent) bool {
	if c.Snapshot.Visible(e.TransactionID) {
		return true
	}
	return c.Paging() && c.Upper.Visible(e.TransactionID) && e.GlobalPosition <= c.Position
}

// Validate reports whether c is well formed: valid snapshots, Upper
// containing Snapshot when paging, and no Position without Upper.
func (c Cursor) Validate() error {
	if err := c.Snapshot.Validate(); err != nil {
		return err
	}
	if !c.Paging() {
		if c.Position != 0 {
			return &InvalidArgumentError{Argument: "cursor", Reason: fmt.Sprintf("position %d without an upper snapshot", c.Position)}
		}
		return nil
	}
	if err := c.Upper.Validate(); err != nil {
		return err
	}
	if c.Position < 0 {
		return &InvalidArgumentError{Argument: "cursor", Reason: fmt.Sprintf("position %d is negative", c.Position)}
	}
	if !c.Upper.Contains(c.Snapshot) {
		return &InvalidArgumentError{Argument: "cursor", Reason: fmt.Sprintf("upper snapshot %s is not at or after %s", c.Upper, c.Snapshot)}
	}
	return nil
}

// String encodes c: its snapshot (see Snapshot.String) or, when paging,
// "SNAPSHOT/UPPER/POSITION", e.g. "742:748:743/750:750:/1093".
// ParseCursor reads it back.
func (c Cursor) String() string {
	if !c.Paging() {
		return c.Snapshot.String()
	}
	return c.Snapshot.String() + "/" + c.Upper.String() + "/" + strconv.FormatInt(c.Position, 10)
}

// ParseCursor parses the form Cursor.String writes; the result is valid
// (see Cursor.Validate).
func ParseCursor(text string) (Cursor, error) {
	parts := strings.Split(text, "/")
	var c Cursor
	var err error
	switch len(parts) {
	case 1:
		c.Snapshot, err = ParseSnapshot(parts[0])
	case 3:
		if c.Snapshot, err = ParseSnapshot(parts[0]); err != nil {
			break
		}
		if c.Upper, err = ParseSnapshot(parts[1]); err != nil {
			break
		}
		if c.Position, err = parseID(parts[2]); err != nil {
			err = &InvalidArgumentError{Argument: "cursor", Reason: fmt.Sprintf("%q: position %v", text, err)}
		}
	default:
		err = &InvalidArgumentError{Argument: "cursor", Reason: fmt.Sprintf("%q is neither SNAPSHOT nor SNAPSHOT/UPPER/POSITION", text)}
	}
	if err == nil {
		err = c.Validate()
	}
	var invalid *InvalidArgumentError
	if errors.As(err, &invalid) {
		// The snapshot's errors name the snapshot; the caller gave a cursor.
		return Cursor{}, &InvalidArgumentError{Argument: "cursor", Reason: invalid.Reason}
	}
	if err != nil {
		return Cursor{}, err
	}
	return c, nil
}
