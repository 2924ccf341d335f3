// Package eventmap generates the mapping layer between plain domain event
// structs and Chronicle's store types (core.Event, core.PersistedEvent), so
// that domain packages need not import anything from Chronicle.
//
// # Input
//
// The input folder holds the event structs of one domain, either directly
// (they are then version 1) or in version folders v1, v2, … (vN, N a
// positive integer without leading zeros). With version folders, Go files
// directly in the input folder may exist (a doc.go) but must not declare
// exported structs. Subfolders named testdata or starting with "." or "_"
// are skipped; any other subfolder whose name starts with "v" and that holds
// Go files must be a version folder, and other subfolders are ignored.
//
// Every exported, non-generic struct type of a version folder is an event.
// Its event type, the name stored in core.Event.EventType, is the struct's
// name unless its doc comment holds a directive:
//
//	//chronicle:event name=UserSignedUp
//
// so that renaming the Go type does not change stored data. The same event
// type in several version folders is one event type with several versions,
// whatever the Go names. The directive
//
//	//chronicle:event ignore
//
// marks an exported struct that is not an event, such as a value type used
// by event fields: without it, every exported struct is an event. A name
// given with name= is 1 to 200 characters: letters, digits and "_", ".",
// ":", "/", "-", starting with a letter or digit. Misspelt directives and
// options are errors, never ignored.
//
// # Payloads
//
// A payload is the encoding/json encoding of the struct. Fields must
// survive a round trip through encoding/json, so the generator accepts only:
//
//   - bool, string, the sized and unsized integer types (not uintptr),
//     float32 and float64;
//   - time.Time, time.Duration, json.RawMessage, json.Number, uuid.UUID and
//     uuid.NullUUID (github.com/google/uuid);
//   - pointers, slices and arrays of supported types, and maps with string
//     keys (a named string type of the same package also works);
//   - struct types of the same package, named or inline, whose fields are
//     supported in turn (recursion through pointers, slices and maps is
//     fine), and named types of the same package with a supported
//     underlying type;
//   - named types of the same package that declare both MarshalJSON and
//     UnmarshalJSON, or both MarshalText and UnmarshalText: they encode
//     themselves and are not inspected.
//
// Rejected, with an error naming the file, line, event and field: interface
// types (including any and error: decoding could not restore the concrete
// type), channels, functions, complex numbers, uintptr, generic types, map
// keys that are not strings, types from other packages, unexported fields
// (encoding/json would drop them silently; export them or tag them
// `json:"-"`) and embedded types from other packages or with JSON or text
// methods (the promoted methods would replace the encoding of the whole
// event). Fields tagged `json:"-"` are not encoded and not checked.
//
// # Personal fields
//
// A field of an event struct whose doc comment holds
//
//	//chronicle:personal subject=CustomerID
//
// is personal: the generated mapping seals it with the data key of the
// subject that the field CustomerID of the same struct holds (a string or
// a uuid.UUID field, itself not personal), using package core/shred. Its
// JSON member then holds the sealed form instead of the value. ToESEvents
// and To<Name>V<n> need the option WithSealer(shredder.In(ctx, tx)) for
// such an event and fail without it, rather than store personal data in
// clear. OpenESEvent and Upcasters.OpenESEventLatest open the fields and
// decode; for a forgotten subject they return the event with those fields
// at their zero value and name them in erased, without an error. The
// decoding functions that do not open (FromESEvent, From<Name>V<n>, …)
// refuse a payload with sealed fields (ErrSealedPayload) instead of
// returning zero values. The directive is one per field, on a field of its
// own (one name, not embedded), encoded by encoding/json (not tagged
// `json:"-"`), and only on fields of event structs.
//
// # Output
//
// [Generate] returns one gofmt'd Go file, byte for byte the same for the
// same input. It imports the version packages, core, uuid and a few
// standard packages, and declares, in the output package:
//
//   - EventType<Name> constants, one per event type;
//   - EventTypeOf, ToESEvents, FromESEvents, FromESEvent and, per event
//     struct, To<Name>V<n> and From<Name>V<n>;
//   - the options WithTraceID, WithCorrelationID, WithCausationID,
//     WithMetadata, WithCreatedAt and WithEventIDFunc;
//   - Upcasters, a struct with one typed function field per step between
//     consecutive versions of an event type, named after the step's Go types
//     and versions (UserRegisteredV1ToV2, or AccountClosedV1ToUserClosedV2
//     when the Go type was renamed), with the methods Validate, Upcast and
//     FromESEventLatest, and FromESEventsLatest: they return the newest
//     version of each event type, applying the steps in turn;
//   - the errors ErrUnknownEvent, ErrUnexpectedEvent and ErrMissingUpcaster
//     with their typed details;
//   - when a struct has personal fields: WithSealer, OpenESEvent,
//     Upcasters.OpenESEventLatest and ErrSealedPayload, and the import of
//     core/shred.
//
// The generated file belongs in a package of its own (or one holding only
// documentation), outside the input folder.
package eventmap
