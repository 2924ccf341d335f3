package sqldb

import (
	"github.com/chronicle-go/chronicle/core"
	"github.com/chronicle-go/chronicle/internal/pgstore/pgtext"
)

// appendArrays are the Append statement's array parameters for a batch.
type appendArrays struct {
	ids, types, versions, metadata, created string
	traces, correlations, causations        string
	payloads                                []byte
	payloadStarts, payloadLengths           string
}

func buildAppendArrays(events []core.Event) appendArrays {
	var ids, types, versions, metadata, created, traces, correlations, causations, starts, lengths pgtext.Array
	n := len(events)
	total, typeSize, metaSize := 0, 0, 0
	for i := range events {
		total += len(events[i].Payload)
		typeSize += len(events[i].EventType) + 2
		metaSize += len(events[i].Metadata) + 4
	}
	ids.Grow(n, 36)
	types.Grow(1, typeSize+n)
	versions.Grow(n, 2)
	metadata.Grow(1, metaSize+n)
	created.Grow(n, 30)
	starts.Grow(n, 7)
	lengths.Grow(n, 4)
	// Never nil: drivers send a nil []byte as NULL.
	payloads := make([]byte, 0, total)
	for i := range events {
		e := &events[i]
		ids.UUID(e.EventID)
		types.Quoted(e.EventType)
		versions.Int(e.EventVersion)
		if e.Metadata == nil {
			metadata.Null()
		} else {
			metadata.QuotedBytes(e.Metadata)
		}
		created.Time(e.CreatedAt)
		traces.NullString(e.TraceID)
		correlations.NullString(e.CorrelationID)
		causations.NullString(e.CausationID)
		starts.Int(len(payloads) + 1)
		lengths.Int(len(e.Payload))
		payloads = append(payloads, e.Payload...)
	}
	return appendArrays{
		ids: ids.String(), types: types.String(), versions: versions.String(), metadata: metadata.String(),
		created: created.String(), traces: traces.String(), correlations: correlations.String(),
		causations: causations.String(), payloads: payloads, payloadStarts: starts.String(), payloadLengths: lengths.String(),
	}
}
