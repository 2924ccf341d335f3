package pgsql

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chronicle-go/chronicle/core"
)

// ConsumerQueries are the statements of the consumer runtime's storage port
// (core.ConsumerStore). Like Queries, every parameter is cast in the text,
// so they also run over pgx's simple protocol, and names come from
// validated Names only.
//
// Transaction orders are bigints: a transaction id (xid8) plus the order
// offset. Every statement that needs the offset reads it in the same
// statement, and reports it as NULL when the offset row is missing, so that
// the caller can fail with a clear error rather than compute with a wrong
// offset.
type ConsumerQueries struct {
	// ClaimCheckpoint locks the checkpoint row of consumer $1 (text) FOR
	// UPDATE SKIP LOCKED, or creates it at the start of the log, in one
	// statement. Columns: CheckpointColumns. No row means another
	// transaction holds the row, or is creating it.
	//
	// A row created by this statement is locked by the creating
	// transaction until it ends, so it is claimed too. Creating takes a
	// transaction-scoped advisory lock on a key derived from the table and
	// the consumer name, without waiting (pg_try_advisory_xact_lock): a
	// second transaction creating the same row concurrently would
	// otherwise wait in the unique index for the first to end, while the
	// port promises that a claim never waits. A hash collision with another
	// advisory lock only makes a creation report "not claimed" until that
	// lock ends.
	ClaimCheckpoint string
	// SaveCheckpoint writes a checkpoint and sets updated_at to now(),
	// creating the row if missing (it waits for the row lock otherwise).
	// Parameters: $1 consumer_name text, $2 transaction_order bigint,
	// $3 global_position bigint, $4 owner text, $5 failed_attempts integer,
	// $6 stopped_at timestamptz (NULL: running), $7 last_error text,
	// $8 last_error_position bigint, $9 last_error_at timestamptz (NULL for
	// none of the last three).
	SaveCheckpoint string
	// SetCheckpoint moves consumer $1 (text) to the cursor ($2, $3)
	// (bigint, bigint), creating its row if missing, and clears
	// failed_attempts and stopped_at; the last error fields stay. Unlike
	// ClaimCheckpoint it waits for a transaction holding the row (a running
	// batch), and for one creating it (it takes the creation's advisory
	// lock, waiting).
	SetCheckpoint string
	// Checkpoints selects every checkpoint ordered by consumer name (byte
	// order, COLLATE "C"): CheckpointColumns and then held boolean.
	//
	// held reports whether another transaction holds the row now. It
	// neither locks nor waits: a transaction that locked or updated the
	// row version this statement sees left its transaction id in the
	// version's xmax, and a running transaction holds an exclusive lock on
	// its own id in pg_locks until it ends (a prepared transaction too,
	// with no pid). A finished locker leaves xmax set but no such lock.
	// Locking the rows with SKIP LOCKED instead would hold them until the
	// caller's transaction ends, making running processors skip their
	// batches meanwhile, and give the caller a transaction id. Reading
	// pg_locks needs no privilege. (A row locked by several transactions
	// at once carries a MultiXact id in xmax, which this does not resolve;
	// Chronicle's statements never share a checkpoint's lock.)
	Checkpoints string
	// ConsumerBatch selects, from one snapshot, the frontier and up to $3
	// (bigint) events after the cursor ($1, $2) (bigint, bigint) below it,
	// in cursor order as the plan delivers them; drivers pass the rows
	// through InCursorOrder, which saves the server a sort. Columns: frontier bigint, then EventColumns, which
	// are NULL in the single row returned when no event qualifies. frontier
	// is NULL when the order offset row is missing.
	//
	// The frontier is pg_snapshot_xmin(pg_current_snapshot()) plus the
	// offset, computed in a subquery the events are joined LATERAL to, so
	// both come from the statement's snapshot: reading the frontier in a
	// statement of its own would let an event commit between the two and
	// be skipped. The cursor is compared as a row value, which the
	// (transaction_order, global_position) index serves as a range scan.
	ConsumerBatch string
	// ConsumerBatchScoped is ConsumerBatch keeping only events whose
	// aggregate_type is in $4 (text[]).
	ConsumerBatchScoped string
	// CountEventsAfter counts events after the cursor ($1, $2) (bigint,
	// bigint), above the frontier too. Columns: count bigint.
	CountEventsAfter string
	// CountEventsAfterScoped is CountEventsAfter for the aggregate types in
	// $3 (text[]).
	CountEventsAfterScoped string
	// Frontier selects the frontier: the oldest transaction id running in
	// the cluster (the caller's included), or the next id if none, plus the
	// offset. It assigns no transaction id. NULL without an offset row.
	Frontier string
	// FrontierHolders selects the transactions holding a transaction id,
	// oldest first: from pg_stat_activity every backend but the caller's
	// with a backend_xid, and every prepared transaction from
	// pg_prepared_xacts. Columns: pid integer (0 for a prepared
	// transaction), xid bigint (the full 64-bit id, with its epoch), started
	// timestamptz (NULL when unknown), state text, query text, application
	// text. For a prepared transaction state is "prepared", query its
	// global id and application its owner.
	//
	// Without pg_read_all_stats (or membership in the session's role),
	// PostgreSQL hides other users' sessions' details: their query reads
	// "<insufficient privilege>", state is "" and started NULL; pid, xid
	// and application name stay visible.
	FrontierHolders string
	// TransactionOrder selects stored_max bigint (the greater of the
	// highest events.transaction_order, read backwards from the cursor
	// index, and the highest checkpoint cursor; 0 when both are empty),
	// current bigint (pg_snapshot_xmax(pg_current_snapshot()), the next
	// transaction id, plus the offset) and offset bigint. It always returns
	// one row, with NULL current and offset without an offset row, and
	// assigns no transaction id.
	TransactionOrder string
	// RaiseOrderOffset updates the offset row so that current becomes
	// stored_max + 1 when stored_max >= current (the log was moved into
	// another cluster), and keeps it otherwise. It returns the new
	// stored_max, current and offset, or no row when the offset row is
	// missing. It locks the offset row (waiting for another transaction
	// changing it, then re-checking against its value) and gives the
	// caller a transaction id.
	RaiseOrderOffset string
	// Listen subscribes a session to the store's notify channel: LISTEN
	// with the quoted channel name. "" when the store has no channel.
	Listen string
}

// CheckpointColumns lists, in order, the checkpoint columns that
// ClaimCheckpoint and Checkpoints return: consumer_name text,
// transaction_order bigint, global_position bigint, updated_at timestamptz,
// owner text, failed_attempts integer, stopped_at timestamptz (NULL),
// last_error text (NULL), last_error_position bigint (NULL), last_error_at
// timestamptz (NULL).
var CheckpointColumns = []string{
	"consumer_name", "transaction_order", "global_position", "updated_at", "owner", "failed_attempts",
	"stopped_at", "last_error", "last_error_position", "last_error_at",
}

// NewConsumerQueries returns the consumer statements for names, and the
// LISTEN statement for channel ("" for none). Invalid names or channel
// return a *ConfigError.
func NewConsumerQueries(names Names, channel string) (ConsumerQueries, error) {
	if err := names.Validate(); err != nil {
		return ConsumerQueries{}, err
	}
	if err := ValidateNotifyChannel(channel); err != nil {
		return ConsumerQueries{}, err
	}
	events := names.qualified(names.EventsTable)
	checkpoints := names.qualified(names.CheckpointsTable)
	offset := "(SELECT order_offset FROM " + names.qualified(names.OrderOffsetTable) + ")"
	cpColumns := "consumer_name, transaction_order, global_position, updated_at, owner, failed_attempts, " +
		"stopped_at, last_error, last_error_position, last_error_at"
	// The creation lock's key: validated names hold no quote that could end
	// the literal.
	creationKey := "pg_catalog.hashtextextended('chronicle checkpoint " + checkpoints + " ' || $1::text, 0)"
	eventColumns := "e.global_position, e.aggregate_type, e.aggregate_id, e.aggregate_version, e.event_id, e.event_type, " +
		"e.event_version, e.payload, e.metadata::text, e.created_at, e.trace_id, e.correlation_id, e.causation_id, e.transaction_order"
	snapshotXmin := "pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())::text::bigint"
	snapshotXmax := "pg_catalog.pg_snapshot_xmax(pg_catalog.pg_current_snapshot())::text::bigint"
	batch := func(scope string) string {
		return "SELECT f.frontier, " + eventColumns + `
FROM (SELECT ` + snapshotXmin + ` + ` + offset + ` AS frontier) f
LEFT JOIN LATERAL (
    SELECT * FROM ` + events + `
    WHERE transaction_order < f.frontier
      AND (transaction_order, global_position) > ($1::bigint, $2::bigint)` + scope + `
    ORDER BY transaction_order, global_position
    LIMIT $3::bigint
) e ON true`
	}
	count := func(scope string) string {
		return "SELECT count(*)::bigint FROM " + events +
			" WHERE (transaction_order, global_position) > ($1::bigint, $2::bigint)" + scope
	}
	// storedMax is the highest stored order: max() over the index's leading
	// column is planned as a backward index-only scan with LIMIT 1.
	storedMax := "GREATEST((SELECT max(transaction_order) FROM " + events + "), (SELECT max(transaction_order) FROM " + checkpoints + "), 0)"
	q := ConsumerQueries{
		ClaimCheckpoint: `WITH claimed AS (
    SELECT ` + cpColumns + ` FROM ` + checkpoints + `
    WHERE consumer_name = $1::text
    FOR UPDATE SKIP LOCKED
),
created AS (
    INSERT INTO ` + checkpoints + ` (consumer_name)
    SELECT $1::text
    WHERE CASE WHEN EXISTS (SELECT 1 FROM ` + checkpoints + ` WHERE consumer_name = $1::text) THEN false
               ELSE pg_catalog.pg_try_advisory_xact_lock(` + creationKey + `) END
    ON CONFLICT (consumer_name) DO NOTHING
    RETURNING ` + cpColumns + `
)
SELECT ` + cpColumns + ` FROM claimed
UNION ALL
SELECT ` + cpColumns + ` FROM created`,
		SaveCheckpoint: `INSERT INTO ` + checkpoints + ` AS c (` + cpColumns + `)
VALUES ($1::text, $2::bigint, $3::bigint, now(), $4::text, $5::integer, $6::timestamptz, $7::text, $8::bigint, $9::timestamptz)
ON CONFLICT (consumer_name) DO UPDATE SET
    transaction_order = EXCLUDED.transaction_order,
    global_position = EXCLUDED.global_position,
    updated_at = EXCLUDED.updated_at,
    owner = EXCLUDED.owner,
    failed_attempts = EXCLUDED.failed_attempts,
    stopped_at = EXCLUDED.stopped_at,
    last_error = EXCLUDED.last_error,
    last_error_position = EXCLUDED.last_error_position,
    last_error_at = EXCLUDED.last_error_at`,
		SetCheckpoint: `INSERT INTO ` + checkpoints + ` AS c (consumer_name, transaction_order, global_position, updated_at)
SELECT $1::text, $2::bigint, $3::bigint, now()
FROM (SELECT pg_catalog.pg_advisory_xact_lock(` + creationKey + `)) creation
ON CONFLICT (consumer_name) DO UPDATE SET
    transaction_order = EXCLUDED.transaction_order,
    global_position = EXCLUDED.global_position,
    updated_at = EXCLUDED.updated_at,
    failed_attempts = 0,
    stopped_at = NULL`,
		// The running ids are collected once (an uncorrelated ARRAY is an
		// InitPlan): pg_locks is a snapshot of the whole lock table.
		Checkpoints: `SELECT ` + cpColumns + `,
    c.xmax = ANY (ARRAY(
        SELECT l.transactionid FROM pg_catalog.pg_locks l
        WHERE l.locktype = 'transactionid' AND l.mode = 'ExclusiveLock' AND l.granted
          AND l.pid IS DISTINCT FROM pg_catalog.pg_backend_pid())) AS held
FROM ` + checkpoints + ` c
ORDER BY consumer_name COLLATE "C"`,
		ConsumerBatch:          batch(""),
		ConsumerBatchScoped:    batch("\n      AND aggregate_type = ANY($4::text[])"),
		CountEventsAfter:       count(""),
		CountEventsAfterScoped: count(" AND aggregate_type = ANY($3::text[])"),
		Frontier:               "SELECT " + snapshotXmin + " + " + offset,
		FrontierHolders: `WITH now AS (
    SELECT ` + snapshotXmax + ` AS next_xid
),
holders AS (
    SELECT a.pid, a.backend_xid AS xid, a.xact_start AS started, COALESCE(a.state, '') AS state,
        COALESCE(a.query, '') AS query, COALESCE(a.application_name, '') AS application
    FROM pg_catalog.pg_stat_activity a
    WHERE a.backend_xid IS NOT NULL AND a.pid <> pg_catalog.pg_backend_pid()
    UNION ALL
    SELECT 0, p.transaction, p.prepared, 'prepared', p.gid, p.owner::text
    FROM pg_catalog.pg_prepared_xacts p
),
full_ids AS (
    -- A 32-bit xid is within 2^31 of the next id: its signed distance from
    -- the next id's low 32 bits gives the full 64-bit id.
    SELECT h.*, now.next_xid + (((h.xid::text::bigint - now.next_xid % 4294967296) + 6442450944) % 4294967296 - 2147483648) AS full_xid
    FROM holders h CROSS JOIN now
)
SELECT pid, full_xid, started, state, query, application
FROM full_ids
ORDER BY full_xid, pid`,
		TransactionOrder: `SELECT ` + storedMax + `, ` + snapshotXmax + ` + o.order_offset, o.order_offset
FROM (SELECT 1) one LEFT JOIN ` + names.qualified(names.OrderOffsetTable) + ` o ON true`,
		RaiseOrderOffset: `WITH st AS (
    SELECT ` + storedMax + ` AS stored_max, ` + snapshotXmax + ` AS next_xid
)
UPDATE ` + names.qualified(names.OrderOffsetTable) + ` AS o
SET order_offset = CASE WHEN st.stored_max >= st.next_xid + o.order_offset THEN st.stored_max + 1 - st.next_xid
                        ELSE o.order_offset END
FROM st
RETURNING st.stored_max, st.next_xid + o.order_offset, o.order_offset`,
	}
	if channel != "" {
		q.Listen = "LISTEN " + QuoteIdentifier(channel)
	}
	return q, nil
}

// ErrOrderOffsetMissing is returned by the consumer statements' callers
// when the order offset table has no row: the schema was not created by
// SchemaSQL, or the row was deleted. Running SchemaSQL again restores it
// with offset 0 (raise it again with the recovery if the log was moved).
var ErrOrderOffsetMissing = errors.New("the transaction order offset row is missing; run the schema (SchemaSQL or tools/migrate-gen) to restore it")

// ConsumerError wraps err, the failure of the consumer store operation
// described by doing (e.g. "claiming the checkpoint of consumer \"c\""), as
// "error doing: err". When ctx has ended it also wraps ctx's error, so that
// errors.Is(err, context.Canceled) or context.DeadlineExceeded holds
// whichever error the driver reported for the cancelled statement (some
// report the server's "canceling statement" error only).
func ConsumerError(ctx context.Context, doing string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		return fmt.Errorf("error %s: %w: %w", doing, ctxErr, err)
	}
	return fmt.Errorf("error %s: %w", doing, err)
}

// ValidateConsumerName rejects an empty consumer name with a
// *core.InvalidArgumentError, before any statement runs.
func ValidateConsumerName(name string) error {
	if name == "" {
		return &core.InvalidArgumentError{Argument: "consumer", Reason: "the consumer name must not be empty"}
	}
	return nil
}

// ValidateCursor rejects a cursor with a negative part with a
// *core.InvalidArgumentError: no event sorts after it usefully, and it is
// not something the runtime ever stores.
func ValidateCursor(c core.Cursor) error {
	if c.TransactionOrder < 0 || c.GlobalPosition < 0 {
		return &core.InvalidArgumentError{Argument: "cursor", Reason: fmt.Sprintf("both parts must be >= 0, got %s", c)}
	}
	return nil
}

// ValidateBatchLimit rejects a batch limit below 1 with a
// *core.InvalidArgumentError.
func ValidateBatchLimit(limit int) error {
	if limit < 1 {
		return &core.InvalidArgumentError{Argument: "limit", Reason: fmt.Sprintf("must be >= 1, got %d", limit)}
	}
	return nil
}

// DBTime returns t as a timestamptz parameter: in UTC and truncated to the
// microsecond, as PostgreSQL stores it (the server would round a text
// timestamp with nanoseconds instead, so drivers that send text would
// differ from those that send binary). The zero time is nil (NULL).
func DBTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Truncate(time.Microsecond)
}
