package postgres

import (
	"strconv"
	"time"

	"github.com/chronicle-go/chronicle/core"
	"github.com/google/uuid"
)

// Array parameters travel as PostgreSQL array literals in string
// parameters, cast in SQL ($n::text[], $n::uuid[], …). database/sql has no
// array type, and driver-specific helpers (pq.Array) would tie the adapter
// to one driver; every driver passes a string unchanged. The cost is one
// pass over the batch to build the strings, small next to the round trip.

// arrayLiteral builds one array literal in a byte buffer, appending
// numbers, ids and times in place, so that an element costs no allocation
// of its own.
type arrayLiteral struct {
	b     []byte
	count int
}

// grow reserves room for n elements of about size bytes each.
func (a *arrayLiteral) grow(n, size int) {
	a.b = make([]byte, 0, n*(size+1)+2)
}

func (a *arrayLiteral) next() {
	if a.count == 0 {
		a.b = append(a.b, '{')
	} else {
		a.b = append(a.b, ',')
	}
	a.count++
}

// quoted adds s as a quoted element, escaping the two characters that are
// special inside quotes. s holds no NUL (core.PrepareEvents rejects it).
func (a *arrayLiteral) quoted(s string) {
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

// quotedBytes is quoted for a []byte, without converting it to a string.
func (a *arrayLiteral) quotedBytes(s []byte) {
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

// bare adds an element that needs no quoting (numbers, UUIDs).
func (a *arrayLiteral) bare(s string) {
	a.next()
	a.b = append(a.b, s...)
}

func (a *arrayLiteral) int(n int) {
	a.next()
	a.b = strconv.AppendInt(a.b, int64(n), 10)
}

// uuid adds id in its canonical text form, which needs no quoting.
func (a *arrayLiteral) uuid(id uuid.UUID) {
	a.next()
	const hexDigits = "0123456789abcdef"
	for i, c := range id {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			a.b = append(a.b, '-')
		}
		a.b = append(a.b, hexDigits[c>>4], hexDigits[c&0xf])
	}
}

// time adds t as a quoted ISO 8601 timestamp in UTC.
func (a *arrayLiteral) time(t time.Time) {
	a.next()
	a.b = append(a.b, '"')
	a.b = t.UTC().AppendFormat(a.b, timestampLayout)
	a.b = append(a.b, '"')
}

func (a *arrayLiteral) null() {
	a.next()
	a.b = append(a.b, "NULL"...)
}

func (a *arrayLiteral) nullString(s core.NullString) {
	if s.Valid {
		a.quoted(s.String)
	} else {
		a.null()
	}
}

// String returns the literal, "{}" when no element was added.
func (a *arrayLiteral) String() string {
	if a.count == 0 {
		return "{}"
	}
	return string(append(a.b, '}'))
}

// timestampLayout is ISO 8601 with microseconds, which PostgreSQL parses
// exactly; times are in UTC.
const timestampLayout = "2006-01-02T15:04:05.999999Z07:00"

// appendArrays are the Append statement's array parameters for a batch.
type appendArrays struct {
	ids, types, versions, metadata, created string
	traces, correlations, causations        string
	payloads                                []byte
	payloadStarts, payloadLengths           string
}

func buildAppendArrays(events []core.Event) appendArrays {
	var ids, types, versions, metadata, created, traces, correlations, causations, starts, lengths arrayLiteral
	n := len(events)
	total, typeSize, metaSize := 0, 0, 0
	for i := range events {
		total += len(events[i].Payload)
		typeSize += len(events[i].EventType) + 2
		metaSize += len(events[i].Metadata) + 4
	}
	ids.grow(n, 36)
	types.grow(1, typeSize+n)
	versions.grow(n, 2)
	metadata.grow(1, metaSize+n)
	created.grow(n, 30)
	starts.grow(n, 7)
	lengths.grow(n, 4)
	// Never nil: drivers send a nil []byte as NULL.
	payloads := make([]byte, 0, total)
	for i := range events {
		e := &events[i]
		ids.uuid(e.EventID)
		types.quoted(e.EventType)
		versions.int(e.EventVersion)
		if e.Metadata == nil {
			metadata.null()
		} else {
			metadata.quotedBytes(e.Metadata)
		}
		created.time(e.CreatedAt)
		traces.nullString(e.TraceID)
		correlations.nullString(e.CorrelationID)
		causations.nullString(e.CausationID)
		starts.int(len(payloads) + 1)
		lengths.int(len(e.Payload))
		payloads = append(payloads, e.Payload...)
	}
	return appendArrays{
		ids: ids.String(), types: types.String(), versions: versions.String(), metadata: metadata.String(),
		created: created.String(), traces: traces.String(), correlations: correlations.String(),
		causations: causations.String(), payloads: payloads, payloadStarts: starts.String(), payloadLengths: lengths.String(),
	}
}
