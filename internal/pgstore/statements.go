package pgstore

// PayloadEncoding selects how the Append statement receives payloads: the
// form the driver sends best.
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

//go:generate go test -run TestGoldenStatements -update .

// Statements are the SQL texts a store sends, rendered from sql/*.sql for
// one set of names. Each file documents its statement's parameters and
// columns.
type Statements struct {
	// The event store's statements (append.sql, read_stream.sql,
	// read_events.sql, latest_position.sql, current_version.sql).
	// AppendNotify is Append with pg_notify on the channel; "" without one.
	Append, AppendNotify, ReadStream, ReadEvents, LatestPosition, CurrentVersion string
	// Tombstone is Append's closing variant (append.sql), TombstoneNotify
	// with pg_notify ("" without a channel).
	Tombstone, TombstoneNotify string
	// Snapshots (save_snapshot.sql, load_aggregate.sql) and the operator's
	// deletion of a stream (delete_stream_lock.sql, delete_stream.sql,
	// delete_stream_end.sql).
	SaveSnapshot, LoadAggregate, DeleteStreamLock, DeleteStream, DeleteStreamEnd string
	// The consumer storage's lease and checkpoint statements
	// (claim_lease.sql, wait_lease.sql, read_checkpoint.sql,
	// save_checkpoint.sql, set_checkpoint.sql, delete_checkpoint.sql,
	// checkpoints.sql).
	ClaimLease, WaitLease, ReadCheckpoint, SaveCheckpoint, SetCheckpoint, DeleteCheckpoint, Checkpoints string
	// Consumer batches, their pages and lag (consumer_batch.sql,
	// consumer_page.sql, lag.sql), each unscoped and scoped to aggregate
	// types.
	ConsumerBatch, ConsumerBatchScoped, ConsumerPage, ConsumerPageScoped, Lag, LagScoped string
	// The batch for a cursor at the start of the log, unscoped and scoped.
	ConsumerBatchFromStart, ConsumerBatchFromStartScoped string
	// Snapshots, writers and the transaction order (current_snapshot.sql,
	// clear_stats_snapshot.sql, writers.sql, transaction_order.sql,
	// raise_order_offset.sql, writer_id.sql).
	CurrentSnapshot, ClearStatsSnapshot, Writers, TransactionOrder, RaiseOrderOffset, WriterID string
	// An owner's presence, its release and its check (hold_presence.sql,
	// release_presence.sql, owners_present.sql).
	HoldPresence, ReleasePresence, OwnersPresent string
	// Listen is LISTEN on the notify channel (listen.sql); "" without one.
	Listen string
	// The schema version check at a store's first use (schema_tables.sql,
	// schema_version.sql).
	SchemaTables, SchemaVersion string
	// The subjects' data keys (subject_key_create.sql, subject_key_read.sql,
	// subject_key_delete.sql, subject_keys_wrapped_by.sql,
	// subject_key_rewrap.sql).
	CreateSubjectKey, ReadSubjectKey, DeleteSubjectKey, SubjectKeysWrappedBy, RewrapSubjectKey string
}

// statementData fills the markers of the statements' templates.
type statementData struct {
	// Events, Heads, Checkpoints, Offset, Versions, Snapshots and
	// SubjectKeys are the tables, qualified.
	Events, Heads, Checkpoints, Offset, Versions, Snapshots, SubjectKeys quoted
	// WriterCheck is the events table's writer-id check.
	WriterCheck quoted
	// EventsLiteral is Events inside a string literal (a regclass).
	EventsLiteral literal
	// Channel is the notify channel; "" when there is none.
	Channel quoted
	// Packed selects Append's packed payload encoding.
	Packed bool
	// Notify makes Append pg_notify the channel.
	Notify bool
	// Close selects Append's closing variant, Tombstone.
	Close bool
	// Scoped selects the variant filtered by aggregate types.
	Scoped bool
	// FromStart selects the consumer batch for the empty snapshot.
	FromStart bool
}

// RenderStatements returns the statements for names, with pg_notify on
// channel in Append when channel is not "", and Append's payloads encoded
// as given. Invalid names or channel return a *ConfigError.
func RenderStatements(names Names, channel string, payloads PayloadEncoding) (Statements, error) {
	if err := names.Validate(); err != nil {
		return Statements{}, err
	}
	if err := ValidateNotifyChannel(channel); err != nil {
		return Statements{}, err
	}
	d := statementData{
		Events:        names.qualified(names.EventsTable),
		Heads:         names.qualified(names.AggregateHeadsTable),
		Checkpoints:   names.qualified(names.CheckpointsTable),
		Offset:        names.qualified(names.OrderOffsetTable),
		Versions:      names.qualified(names.SchemaVersionTable()),
		Snapshots:     names.qualified(names.SnapshotsTable()),
		SubjectKeys:   names.qualified(names.SubjectKeysTable()),
		WriterCheck:   quoteIdentifier(names.Constraints().WriterCheck),
		EventsLiteral: literal(names.qualified(names.EventsTable)),
		Packed:        payloads == PayloadPacked,
	}
	scoped := d
	scoped.Scoped = true
	closing := d
	closing.Close = true
	fromStart, fromStartScoped := d, scoped
	fromStart.FromStart, fromStartScoped.FromStart = true, true
	s := Statements{
		Append:                       renderStatement("append.sql", d),
		ReadStream:                   renderStatement("read_stream.sql", d),
		ReadEvents:                   renderStatement("read_events.sql", d),
		LatestPosition:               renderStatement("latest_position.sql", d),
		CurrentVersion:               renderStatement("current_version.sql", d),
		Tombstone:                    renderStatement("append.sql", closing),
		SaveSnapshot:                 renderStatement("save_snapshot.sql", d),
		LoadAggregate:                renderStatement("load_aggregate.sql", d),
		DeleteStreamLock:             renderStatement("delete_stream_lock.sql", d),
		DeleteStream:                 renderStatement("delete_stream.sql", d),
		DeleteStreamEnd:              renderStatement("delete_stream_end.sql", d),
		ClaimLease:                   renderStatement("claim_lease.sql", d),
		WaitLease:                    renderStatement("wait_lease.sql", d),
		ReadCheckpoint:               renderStatement("read_checkpoint.sql", d),
		SaveCheckpoint:               renderStatement("save_checkpoint.sql", d),
		SetCheckpoint:                renderStatement("set_checkpoint.sql", d),
		DeleteCheckpoint:             renderStatement("delete_checkpoint.sql", d),
		Checkpoints:                  renderStatement("checkpoints.sql", d),
		ConsumerBatch:                renderStatement("consumer_batch.sql", d),
		ConsumerBatchScoped:          renderStatement("consumer_batch.sql", scoped),
		ConsumerBatchFromStart:       renderStatement("consumer_batch.sql", fromStart),
		ConsumerBatchFromStartScoped: renderStatement("consumer_batch.sql", fromStartScoped),
		ConsumerPage:                 renderStatement("consumer_page.sql", d),
		ConsumerPageScoped:           renderStatement("consumer_page.sql", scoped),
		Lag:                          renderStatement("lag.sql", d),
		LagScoped:                    renderStatement("lag.sql", scoped),
		CurrentSnapshot:              renderStatement("current_snapshot.sql", d),
		ClearStatsSnapshot:           renderStatement("clear_stats_snapshot.sql", d),
		Writers:                      renderStatement("writers.sql", d),
		TransactionOrder:             renderStatement("transaction_order.sql", d),
		RaiseOrderOffset:             renderStatement("raise_order_offset.sql", d),
		WriterID:                     renderStatement("writer_id.sql", d),
		HoldPresence:                 renderStatement("hold_presence.sql", d),
		ReleasePresence:              renderStatement("release_presence.sql", d),
		OwnersPresent:                renderStatement("owners_present.sql", d),
		SchemaTables:                 renderStatement("schema_tables.sql", d),
		SchemaVersion:                renderStatement("schema_version.sql", d),
		CreateSubjectKey:             renderStatement("subject_key_create.sql", d),
		ReadSubjectKey:               renderStatement("subject_key_read.sql", d),
		DeleteSubjectKey:             renderStatement("subject_key_delete.sql", d),
		SubjectKeysWrappedBy:         renderStatement("subject_keys_wrapped_by.sql", d),
		RewrapSubjectKey:             renderStatement("subject_key_rewrap.sql", d),
	}
	if channel != "" {
		d.Channel = quoteIdentifier(channel)
		s.Listen = renderStatement("listen.sql", d)
		notify := d
		notify.Notify = true
		s.AppendNotify = renderStatement("append.sql", notify)
		notify.Close = true
		s.TombstoneNotify = renderStatement("append.sql", notify)
	}
	return s, nil
}
