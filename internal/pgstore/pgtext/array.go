// Package pgtext builds PostgreSQL array literals — the text form of
// array parameters — for drivers that cannot send arrays otherwise:
// database/sql has no array type, and driver-specific helpers (pq.Array)
// would tie a store to one driver, while every driver passes a string
// unchanged. The statement casts the parameter ($n::text[], $n::uuid[], …).
// Elements are appended in place into one byte buffer, so that an element
// costs no allocation of its own.
package pgtext

import (
	"strconv"
	"time"

	"github.com/chronicle-go/chronicle/core"
	"github.com/google/uuid"
)

// Array builds one array literal. The zero Array is the empty array.
type Array struct {
	b     []byte
	count int
}

// Grow reserves room for n elements of about size bytes each.
func (a *Array) Grow(n, size int) {
	a.b = make([]byte, 0, n*(size+1)+2)
}

func (a *Array) next() {
	if a.count == 0 {
		a.b = append(a.b, '{')
	} else {
		a.b = append(a.b, ',')
	}
	a.count++
}

// Quoted adds s as a quoted element, escaping the two characters that are
// special inside quotes. s holds no NUL (core.PrepareEvents rejects it).
func (a *Array) Quoted(s string) {
	a.next()
	a.b = append(a.b, '"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			a.b = append(a.b, '\\')
		}
		a.b = append(a.b, s[i])
	}
	a.b = append(a.b, '"')
}

// QuotedBytes is Quoted for a []byte, without converting it to a string.
func (a *Array) QuotedBytes(s []byte) {
	a.next()
	a.b = append(a.b, '"')
	for _, c := range s {
		if c == '"' || c == '\\' {
			a.b = append(a.b, '\\')
		}
		a.b = append(a.b, c)
	}
	a.b = append(a.b, '"')
}

// Bare adds an element that needs no quoting (numbers, UUIDs).
func (a *Array) Bare(s string) {
	a.next()
	a.b = append(a.b, s...)
}

// Int adds n in decimal.
func (a *Array) Int(n int) {
	a.next()
	a.b = strconv.AppendInt(a.b, int64(n), 10)
}

// UUID adds id in its canonical text form, which needs no quoting.
func (a *Array) UUID(id uuid.UUID) {
	a.next()
	const hexDigits = "0123456789abcdef"
	for i, c := range id {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			a.b = append(a.b, '-')
		}
		a.b = append(a.b, hexDigits[c>>4], hexDigits[c&0xf])
	}
}

// Time adds t as a quoted ISO 8601 timestamp in UTC.
func (a *Array) Time(t time.Time) {
	a.next()
	a.b = append(a.b, '"')
	a.b = t.UTC().AppendFormat(a.b, TimestampLayout)
	a.b = append(a.b, '"')
}

// Null adds a NULL element.
func (a *Array) Null() {
	a.next()
	a.b = append(a.b, "NULL"...)
}

// NullString adds s quoted, or NULL when it is absent.
func (a *Array) NullString(s core.NullString) {
	if s.Valid {
		a.Quoted(s.String)
	} else {
		a.Null()
	}
}

// String returns the literal, "{}" when no element was added.
func (a *Array) String() string {
	if a.count == 0 {
		return "{}"
	}
	return string(append(a.b, '}'))
}

// TimestampLayout is ISO 8601 with microseconds, which PostgreSQL parses
// exactly; times are in UTC.
const TimestampLayout = "2006-01-02T15:04:05.999999Z07:00"
