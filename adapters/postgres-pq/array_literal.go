package postgres

import (
	"strconv"
	"strings"

	"github.com/chronicle-go/chronicle/core"
)

// Array parameters travel as PostgreSQL array literals in string
// parameters, cast in SQL ($n::text[], $n::uuid[], …). database/sql has no
// array type, and driver-specific helpers (pq.Array) would tie the adapter
// to one driver; every driver passes a string unchanged. The cost is one
// pass over the batch to build the strings, small next to the round trip.

// arrayLiteral builds one array literal.
type arrayLiteral struct {
	b     strings.Builder
	count int
}

func (a *arrayLiteral) next() {
	if a.count == 0 {
		a.b.WriteByte('{')
	} else {
		a.b.WriteByte(',')
	}
	a.count++
}

// quoted adds s as a quoted element, escaping the two characters that are
// special inside quotes. s holds no NUL (core.PrepareEvents rejects it).
func (a *arrayLiteral) quoted(s string) {
	a.next()
	a.b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			a.b.WriteByte('\\')
		}
		a.b.WriteByte(s[i])
	}
	a.b.WriteByte('"')
}

// bare adds an element that needs no quoting (numbers, UUIDs).
func (a *arrayLiteral) bare(s string) {
	a.next()
	a.b.WriteString(s)
}

func (a *arrayLiteral) null() {
	a.next()
	a.b.WriteString("NULL")
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
	return a.b.String() + "}"
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
	total := 0
	for i := range events {
		total += len(events[i].Payload)
	}
	// Never nil: drivers send a nil []byte as NULL.
	payloads := make([]byte, 0, total)
	for i := range events {
		e := &events[i]
		ids.bare(e.EventID.String())
		types.quoted(e.EventType)
		versions.bare(strconv.Itoa(e.EventVersion))
		if e.Metadata == nil {
			metadata.null()
		} else {
			metadata.quoted(string(e.Metadata))
		}
		created.quoted(e.CreatedAt.UTC().Format(timestampLayout))
		traces.nullString(e.TraceID)
		correlations.nullString(e.CorrelationID)
		causations.nullString(e.CausationID)
		starts.bare(strconv.Itoa(len(payloads) + 1))
		lengths.bare(strconv.Itoa(len(e.Payload)))
		payloads = append(payloads, e.Payload...)
	}
	return appendArrays{
		ids: ids.String(), types: types.String(), versions: versions.String(), metadata: metadata.String(),
		created: created.String(), traces: traces.String(), correlations: correlations.String(),
		causations: causations.String(), payloads: payloads, payloadStarts: starts.String(), payloadLengths: lengths.String(),
	}
}
