package otelchronicle

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/chronicle-go/chronicle/core"
)

// schemaURL is the version of the semantic conventions the spans and
// metrics follow.
const schemaURL = semconv.SchemaURL

// Chronicle's own attributes, where the semantic conventions have none.
const (
	// AggregateTypeKey is the aggregate type of an append, a stream read or
	// a handled event (also on the append metrics).
	AggregateTypeKey = attribute.Key("chronicle.aggregate.type")
	// AggregateIDKey is the aggregate id (spans only: ids are unbounded).
	AggregateIDKey = attribute.Key("chronicle.aggregate.id")
	// AggregateVersionKey is the aggregate's version after an append, or a
	// handled event's version.
	AggregateVersionKey = attribute.Key("chronicle.aggregate.version")
	// EventCountKey is how many events an append stored or a read returned.
	EventCountKey = attribute.Key("chronicle.event.count")
	// EventTypeKey is a handled event's type.
	EventTypeKey = attribute.Key("chronicle.event.type")
	// GlobalPositionKey is a handled event's global position, or the
	// position GetLatestGlobalPosition returned.
	GlobalPositionKey = attribute.Key("chronicle.global_position")
	// ExpectedVersionKey is an append's expected version, as
	// core.ExpectedVersion.String writes it.
	ExpectedVersionKey = attribute.Key("chronicle.expected_version")
	// OutcomeKey is how an append or tombstone ended: "appended", "conflict" (the
	// expected version did not hold: core.ErrOptimisticConcurrency) or
	// "error" (any other error; error.type says which).
	OutcomeKey = attribute.Key("chronicle.append.outcome")
	// FromPositionKey and LimitKey are ReadEvents' arguments.
	FromPositionKey = attribute.Key("chronicle.read.from_position")
	LimitKey        = attribute.Key("chronicle.read.limit")
	// FromVersionKey and ToVersionKey are ReadAggregateStream's bounds,
	// when set.
	FromVersionKey = attribute.Key("chronicle.read.from_version")
	ToVersionKey   = attribute.Key("chronicle.read.to_version")
	// StateSchemaVersionKey is the state schema version of a snapshot saved
	// or loaded.
	StateSchemaVersionKey = attribute.Key("chronicle.snapshot.schema_version")
	// SnapshotLoadedKey reports whether LoadAggregate found a snapshot.
	SnapshotLoadedKey = attribute.Key("chronicle.snapshot.loaded")
	// CursorKey is the cursor a consumer batch read after
	// (core.Cursor.String).
	CursorKey = attribute.Key("chronicle.consumer.cursor")
)

// The values of OutcomeKey.
const (
	OutcomeAppended = "appended"
	OutcomeConflict = "conflict"
	OutcomeError    = "error"
)

// messagingSystem is messaging.system on consumer spans and metrics: the
// semantic conventions know no value for Chronicle, and allow one of its
// own.
var messagingSystem = semconv.MessagingSystemKey.String("chronicle")

// dbSystem is db.system.name on the store's spans and metrics.
var dbSystem = semconv.DBSystemNamePostgreSQL

// errorType returns the error.type value of err: a short name for
// Chronicle's own errors and the context's, else the semantic conventions'
// rule (the error's ErrorType method, or its Go type).
func errorType(err error) string {
	switch {
	case errors.Is(err, core.ErrOptimisticConcurrency):
		return "conflict"
	case errors.Is(err, core.ErrDuplicateEvent):
		return "duplicate_event"
	case errors.Is(err, core.ErrInvalidEvent):
		return "invalid_event"
	case errors.Is(err, core.ErrInvalidArgument):
		return "invalid_argument"
	case errors.Is(err, core.ErrQueryCanceled):
		return "query_canceled"
	case errors.Is(err, core.ErrTransactionOrderMoved):
		return "transaction_order_moved"
	case errors.Is(err, core.ErrStreamClosed):
		return "stream_closed"
	case errors.Is(err, core.ErrSnapshotVersion):
		return "snapshot_version"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline_exceeded"
	}
	return semconv.ErrorType(err).Value.AsString()
}
