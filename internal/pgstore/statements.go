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
	Append, ReadStream, ReadEvents, LatestPosition, CurrentVersion string
	// The consumer storage's checkpoint statements (claim_checkpoint.sql,
	// save_checkpoint.sql, set_checkpoint.sql, checkpoints.sql).
	ClaimCheckpoint, SaveCheckpoint, SetCheckpoint, Checkpoints string
	// Consumer batches and lag (consumer_batch.sql,
	// count_events_after.sql), each unscoped and scoped to aggregate types.
	ConsumerBatch, ConsumerBatchScoped, CountEventsAfter, CountEventsAfterScoped string
	// The frontier and the transaction order (frontier.sql,
	// frontier_holders.sql, transaction_order.sql, raise_order_offset.sql).
	Frontier, FrontierHolders, TransactionOrder, RaiseOrderOffset string
	// Listen is LISTEN on the notify channel (listen.sql); "" without one.
	Listen string
	// The schema version check at a store's first use (schema_tables.sql,
	// schema_version.sql).
	SchemaTables, SchemaVersion string
}

// statementData fills the markers of the statements' templates.
type statementData struct {
	// Events, Heads, Checkpoints, Offset and Versions are the tables,
	// qualified.
	Events, Heads, Checkpoints, Offset, Versions quoted
	// Channel is the notify channel; "" when there is none.
	Channel quoted
	// Packed selects Append's packed payload encoding.
	Packed bool
	// Notify makes Append pg_notify the channel.
	Notify bool
	// Scoped selects the variant filtered by aggregate types.
	Scoped bool
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
		Events:      names.qualified(names.EventsTable),
		Heads:       names.qualified(names.AggregateHeadsTable),
		Checkpoints: names.qualified(names.CheckpointsTable),
		Offset:      names.qualified(names.OrderOffsetTable),
		Versions:    names.qualified(names.SchemaVersionTable()),
		Packed:      payloads == PayloadPacked,
		Notify:      channel != "",
	}
	scoped := d
	scoped.Scoped = true
	s := Statements{
		Append:                 renderStatement("append.sql", d),
		ReadStream:             renderStatement("read_stream.sql", d),
		ReadEvents:             renderStatement("read_events.sql", d),
		LatestPosition:         renderStatement("latest_position.sql", d),
		CurrentVersion:         renderStatement("current_version.sql", d),
		ClaimCheckpoint:        renderStatement("claim_checkpoint.sql", d),
		SaveCheckpoint:         renderStatement("save_checkpoint.sql", d),
		SetCheckpoint:          renderStatement("set_checkpoint.sql", d),
		Checkpoints:            renderStatement("checkpoints.sql", d),
		ConsumerBatch:          renderStatement("consumer_batch.sql", d),
		ConsumerBatchScoped:    renderStatement("consumer_batch.sql", scoped),
		CountEventsAfter:       renderStatement("count_events_after.sql", d),
		CountEventsAfterScoped: renderStatement("count_events_after.sql", scoped),
		Frontier:               renderStatement("frontier.sql", d),
		FrontierHolders:        renderStatement("frontier_holders.sql", d),
		TransactionOrder:       renderStatement("transaction_order.sql", d),
		RaiseOrderOffset:       renderStatement("raise_order_offset.sql", d),
		SchemaTables:           renderStatement("schema_tables.sql", d),
		SchemaVersion:          renderStatement("schema_version.sql", d),
	}
	if channel != "" {
		d.Channel = quoteIdentifier(channel)
		s.Listen = renderStatement("listen.sql", d)
	}
	return s, nil
}
