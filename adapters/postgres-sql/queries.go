package pgsql

import (
	"strconv"
	"strings"
)

// PayloadEncoding selects how the Append statement receives payloads.
type PayloadEncoding int

const (
	// PayloadArray: one bytea[] parameter, one element per event. For
	// drivers that encode Go slices as PostgreSQL arrays (pgx).
	PayloadArray PayloadEncoding = iota
	// PayloadPacked: one bytea parameter holding every payload back to
	// back, plus integer[] start offsets (1-based) and lengths. For
	// database/sql, where a single []byte is the only binary value every
	// driver sends exactly, and a bytea[] would have to be spelled as text.
	PayloadPacked
)

// Queries are the statements a store executes. Parameters are cast
// explicitly in the text, so the statements also work over pgx's simple
// protocol (PgBouncer in transaction mode), where the server infers no
// parameter types.
type Queries struct {
	// Append reserves the version range on the aggregate head and inserts
	// the batch, in one statement. Parameters:
	//
	//	$1  aggregate_type text
	//	$2  aggregate_id text
	//	$3  expected version bigint (see ExpectedParam)
	//	$4  number of events bigint
	//	$5  event ids uuid[]
	//	$6  event types text[]
	//	$7  event versions integer[]
	//	$8  metadata text[] (JSON text, NULL elements for none)
	//	$9  created_at timestamptz[]
	//	$10 trace ids text[] (NULL elements for none)
	//	$11 correlation ids text[]
	//	$12 causation ids text[]
	//	PayloadArray:  $13 payloads bytea[]
	//	PayloadPacked: $13 payloads bytea, $14 starts integer[], $15 lengths integer[]
	//	with a notify channel: the channel text as the last parameter
	//
	// It returns one AppendRow per event in version order, or a single
	// conflict row (see ParseAppendRows).
	Append string
	// ReadStream selects an aggregate's events by version: $1 aggregate
	// type, $2 aggregate id, $3 and $4 the inclusive version bounds (bigint).
	// Columns: EventColumns.
	ReadStream string
	// ReadEvents selects the global log after a position: $1 position
	// (bigint, exclusive), $2 limit (bigint). Columns: EventColumns.
	ReadEvents string
	// LatestPosition selects the highest visible global position, 0 when
	// the log is empty.
	LatestPosition string
	// CurrentVersion selects an aggregate's version ($1 type, $2 id), 0
	// when it has none. Used to report a conflict's actual version when the
	// head changed after the Append statement's snapshot.
	CurrentVersion string
}

// EventColumns lists, in order, the columns ReadStream and ReadEvents
// return; drivers scan them in this order into core.PersistedEvent.
// metadata is returned as text (NULL when absent), created_at as
// timestamptz.
var EventColumns = []string{
	"global_position", "aggregate_type", "aggregate_id", "aggregate_version", "event_id", "event_type",
	"event_version", "payload", "metadata", "created_at", "trace_id", "correlation_id", "causation_id",
	"transaction_order",
}

// NewQueries returns the statements for names, with pg_notify on the given
// channel in Append when channel is not "". Invalid names or channel return
// a *ConfigError.
func NewQueries(names Names, channel string, payloads PayloadEncoding) (Queries, error) {
	if err := names.Validate(); err != nil {
		return Queries{}, err
	}
	if err := ValidateNotifyChannel(channel); err != nil {
		return Queries{}, err
	}
	events := names.qualified(names.EventsTable)
	heads := names.qualified(names.AggregateHeadsTable)
	columns := "global_position, aggregate_type, aggregate_id, aggregate_version, event_id, event_type, event_version, " +
		"payload, metadata::text, created_at, trace_id, correlation_id, causation_id, transaction_order"
	return Queries{
		Append: appendSQL(names, channel != "", payloads),
		ReadStream: "SELECT " + columns + " FROM " + events +
			" WHERE aggregate_type = $1::text AND aggregate_id = $2::text AND aggregate_version BETWEEN $3::bigint AND $4::bigint" +
			" ORDER BY aggregate_version",
		ReadEvents: "SELECT " + columns + " FROM " + events +
			" WHERE global_position > $1::bigint ORDER BY global_position LIMIT $2::bigint",
		LatestPosition: "SELECT COALESCE(max(global_position), 0)::bigint FROM " + events,
		CurrentVersion: "SELECT COALESCE((SELECT aggregate_version FROM " + heads +
			" WHERE aggregate_type = $1::text AND aggregate_id = $2::text), 0)::bigint",
	}, nil
}

// appendSQL builds the one-statement append. How it works:
//
//   - ord computes the writer's transaction order: its transaction id plus
//     the offset. A missing offset row makes it NULL and the head's NOT NULL
//     constraint fails the append loudly rather than order events wrongly.
//   - inserted_head serves Any (-1) and NoStream (0), the expectations that
//     may create the head. The conflict arm updates only for Any, so
//     NoStream against an existing head changes nothing (the row is locked
//     all the same, as ON CONFLICT does). Concurrent Any appends queue on
//     the head row and each gets the versions after the previous commit.
//   - updated_head serves Exact(n>0) and StreamExists (-2): a plain UPDATE
//     of an existing head, so these never create one. Under READ COMMITTED
//     an UPDATE that waited for a concurrent writer re-checks the version
//     against the committed row.
//   - A head that did not match is not written: neither its version nor
//     its transaction order moves on a conflict.
//   - appended inserts the batch from unnest(...) WITH ORDINALITY, in
//     version order, at GREATEST(writer's order, head's previous order).
//   - The result is the appended rows, or — when no head row was written —
//     one conflict row: global_position 0 and the head's version as the
//     statement's snapshot saw it.
func appendSQL(names Names, notify bool, payloads PayloadEncoding) string {
	heads := names.qualified(names.AggregateHeadsTable)
	var b strings.Builder
	b.WriteString(`WITH ord AS (
    SELECT pg_current_xact_id()::text::bigint + (SELECT order_offset FROM ` + names.qualified(names.OrderOffsetTable) + `) AS transaction_order
),
inserted_head AS (
    INSERT INTO ` + heads + ` AS h (aggregate_type, aggregate_id, aggregate_version, transaction_order)
    SELECT $1::text, $2::text, $4::bigint, ord.transaction_order FROM ord
    WHERE $3::bigint IN (-1, 0)
    ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE
        SET aggregate_version = h.aggregate_version + EXCLUDED.aggregate_version,
            transaction_order = GREATEST(h.transaction_order, EXCLUDED.transaction_order)
        WHERE $3::bigint = -1
    RETURNING h.aggregate_version, h.transaction_order
),
updated_head AS (
    UPDATE ` + heads + ` AS h
    SET aggregate_version = h.aggregate_version + $4::bigint,
        transaction_order = GREATEST(h.transaction_order, ord.transaction_order)
    FROM ord
    WHERE $3::bigint NOT IN (-1, 0)
      AND h.aggregate_type = $1::text AND h.aggregate_id = $2::text
      AND ($3::bigint = -2 OR h.aggregate_version = $3::bigint)
    RETURNING h.aggregate_version, h.transaction_order
),
head AS (
    SELECT aggregate_version, transaction_order FROM inserted_head
    UNION ALL
    SELECT aggregate_version, transaction_order FROM updated_head
),
appended AS (
    INSERT INTO ` + names.qualified(names.EventsTable) + ` (aggregate_type, aggregate_id, aggregate_version, event_id, event_type,
        event_version, payload, metadata, created_at, trace_id, correlation_id, causation_id, transaction_order)
    SELECT $1::text, $2::text, head.aggregate_version - $4::bigint + e.n, e.event_id, e.event_type,
        e.event_version, `)
	var next int
	switch payloads {
	case PayloadPacked:
		b.WriteString(`substring($13::bytea FROM e.payload_start FOR e.payload_length)`)
		next = 16
	default:
		b.WriteString(`COALESCE(e.payload, ''::bytea)`)
		next = 14
	}
	b.WriteString(`, e.metadata::jsonb, e.created_at, e.trace_id, e.correlation_id, e.causation_id, head.transaction_order
    FROM head
    CROSS JOIN unnest($5::uuid[], $6::text[], $7::integer[], $8::text[], $9::timestamptz[], $10::text[], $11::text[], $12::text[], `)
	switch payloads {
	case PayloadPacked:
		b.WriteString(`$14::integer[], $15::integer[])
        WITH ORDINALITY AS e(event_id, event_type, event_version, metadata, created_at, trace_id, correlation_id, causation_id, payload_start, payload_length, n)`)
	default:
		b.WriteString(`$13::bytea[])
        WITH ORDINALITY AS e(event_id, event_type, event_version, metadata, created_at, trace_id, correlation_id, causation_id, payload, n)`)
	}
	b.WriteString(`
    ORDER BY e.n
    RETURNING global_position, aggregate_version, transaction_order
)`)
	from := "appended"
	if notify {
		// The payload is a hint for listeners (the aggregate type), left
		// empty when it would exceed pg_notify's 8000-byte limit.
		p := "$" + strconv.Itoa(next) + "::text"
		b.WriteString(`,
notified AS (
    SELECT pg_notify(` + p + `, CASE WHEN octet_length($1::text) < 7000 THEN $1::text ELSE '' END) FROM head
)`)
		from = "appended CROSS JOIN notified"
	}
	b.WriteString(`
SELECT global_position, aggregate_version, transaction_order FROM ` + from + `
UNION ALL
SELECT 0, COALESCE((SELECT aggregate_version FROM ` + heads + ` WHERE aggregate_type = $1::text AND aggregate_id = $2::text), 0), 0
WHERE NOT EXISTS (SELECT 1 FROM head)
ORDER BY 2`)
	return b.String()
}
