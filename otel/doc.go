// Package otelchronicle instruments Chronicle with OpenTelemetry: spans for
// the event store's calls and for consumer batches and Handle calls, linked
// to the trace that appended each event, and metrics for appends and
// consumers. It is a module of its own, so that core and the adapters
// stay free of dependencies.
//
//	store := otelchronicle.WrapStore[pgx.Tx](pgStore)           // appends and reads
//	cfg := otelchronicle.InstrumentConfig(consumer.Config{})    // a span per batch, batch metrics
//	c := otelchronicle.WrapConsumer[pgx.Tx](orderTotals{})      // a span per Handle
//	p, err := consumer.NewProcessor(consumers, []consumer.Consumer[pgx.Tx]{c}, cfg)
//	reg, err := otelchronicle.ObserveLag(p)                     // lag gauges
//
// Every function takes WithTracerProvider and WithMeterProvider; without
// them it uses the global providers, which record nothing until the
// application sets them. Recording nothing costs little: the store's
// wrapper sets attributes only on spans that record and measures only
// into instruments that are enabled.
//
// # Spans
//
// Spans follow the semantic conventions (schema 1.43.0) where they have a
// name for what Chronicle does, and use chronicle.* attributes where they
// do not.
//
//   - chronicle.Append, chronicle.Tombstone, chronicle.ReadAggregateStream,
//     chronicle.SaveSnapshot, chronicle.LoadAggregate, chronicle.ReadEvents,
//     chronicle.GetLatestGlobalPosition (WrapStore): kind client,
//     db.system.name "postgresql", db.operation.name the method's name;
//     chronicle.aggregate.type and .id, chronicle.event.count,
//     chronicle.expected_version, chronicle.append.outcome ("appended",
//     "conflict", "error") and chronicle.aggregate.version after an
//     append or tombstone; the snapshot's version and schema version; the
//     read's arguments and what it returned.
//   - chronicle.Batch (InstrumentConfig): kind consumer, one per batch
//     that read events (idle polls make none), from the start of its
//     transaction to its commit or rollback; messaging.system "chronicle",
//     messaging.operation.type "process", messaging.consumer.group.name
//     (the consumer's name), messaging.batch.message_count and
//     chronicle.consumer.cursor.
//   - chronicle.Handle (WrapConsumer): kind consumer, a child of its
//     batch's span, linked to the span that appended the event;
//     messaging.message.id (the event id), chronicle.event.type, the
//     aggregate, its version and chronicle.global_position.
//
// A failed call has status Error, the error as an exception event and
// error.type: "conflict", "duplicate_event", "invalid_event",
// "invalid_argument", "query_canceled", "transaction_order_moved",
// "stream_closed", "snapshot_version", "canceled" or "deadline_exceeded"
// for Chronicle's and the context's
// errors, "handler" on a batch whose Handle failed, "panic" on a Handle
// that panicked, else the error's Go type.
//
// # The trace context in the event
//
// WrapStore's Append writes the W3C traceparent of its span
// ("00-<trace id>-<span id>-<flags>") into core.Event.TraceID of every
// event whose TraceID the application left absent; a TraceID the
// application set is kept (Tombstone does the same with its final event).
// Consumers read it back with EventSpanContext;
// WrapConsumer links each Handle span to it, so that a trace shows where
// an event came from even when it is handled minutes later in another
// process. A TraceID of the application's own that is not a traceparent
// gives no link.
//
// # Metrics
//
//   - chronicle.append.duration (histogram, s): every append and
//     tombstone, with db.system.name, db.operation.name ("Append",
//     "Tombstone"), chronicle.aggregate.type, chronicle.append.outcome and
//     error.type.
//   - chronicle.events.appended (counter, {event}): events of appends and
//     tombstones that returned no error, by chronicle.aggregate.type. The
//     caller's transaction may still roll back.
//   - chronicle.consumer.batch.duration (histogram, s): batches that read
//     events, with error.type when they rolled back.
//   - chronicle.consumer.handler.failures (counter, {failure}): batches
//     rolled back by their Handle.
//   - chronicle.consumer.stops (counter, {stop}): consumers this process
//     stopped after MaxAttempts failures.
//   - chronicle.consumer.events.handled (counter, {event}): events of
//     committed batches.
//   - chronicle.consumer.lag (gauge, {event}) and chronicle.consumer.lag.age
//     (gauge, s), from ObserveLag, which reads the consumers' status at
//     most once per interval (see its cost there).
//
// Consumer metrics carry messaging.system and messaging.consumer.group.name
// (the consumer's name); a partitioned consumer's also
// messaging.destination.partition.id (the partition's index), a series per
// partition.
package otelchronicle
