package core

import "strconv"

// ExpectedVersion states what the caller believes about an aggregate's
// current version when appending. The zero value is Any.
type ExpectedVersion struct {
	kind    expectedKind
	version int64
}

type expectedKind uint8

const (
	expectAny expectedKind = iota
	expectNoStream
	expectExact
	expectStreamExists
)

// Any accepts whatever the aggregate's version is. Concurrent Any appends to
// one aggregate all succeed, each after the other, with contiguous versions.
func Any() ExpectedVersion { return ExpectedVersion{kind: expectAny} }

// NoStream requires that the aggregate has no events yet.
func NoStream() ExpectedVersion { return ExpectedVersion{kind: expectNoStream} }

// Exact requires that the aggregate's current version is n. Exact(0) is
// NoStream. A negative n is rejected by Append with ErrInvalidArgument.
func Exact(n int64) ExpectedVersion {
	if n == 0 {
		return NoStream()
	}
	return ExpectedVersion{kind: expectExact, version: n}
}

// StreamExists requires that the aggregate has at least one event, at any
// version.
func StreamExists() ExpectedVersion { return ExpectedVersion{kind: expectStreamExists} }

// IsAny reports whether e is Any.
func (e ExpectedVersion) IsAny() bool { return e.kind == expectAny }

// IsNoStream reports whether e is NoStream (or Exact(0)).
func (e ExpectedVersion) IsNoStream() bool { return e.kind == expectNoStream }

// IsStreamExists reports whether e is StreamExists.
func (e ExpectedVersion) IsStreamExists() bool { return e.kind == expectStreamExists }

// ExactVersion returns n and true when e is Exact(n) with n > 0.
func (e ExpectedVersion) ExactVersion() (int64, bool) {
	return e.version, e.kind == expectExact
}

// Validate returns an ErrInvalidArgument error for Exact with a negative
// version, and nil otherwise.
func (e ExpectedVersion) Validate() error {
	if e.kind == expectExact && e.version < 0 {
		return &InvalidArgumentError{Argument: "expected version", Reason: "Exact(" + strconv.FormatInt(e.version, 10) + ") is negative; use NoStream or Exact(n) with n >= 1"}
	}
	return nil
}

// Matches reports whether an aggregate whose head is at current (0: no
// events) satisfies e. It is the single statement of the expected-version
// rule for stores that evaluate it in Go.
func (e ExpectedVersion) Matches(current int64) bool {
	switch e.kind {
	case expectNoStream:
		return current == 0
	case expectExact:
		return current == e.version
	case expectStreamExists:
		return current > 0
	default:
		return true
	}
}

// String returns "Any", "NoStream", "StreamExists" or "Exact(n)".
func (e ExpectedVersion) String() string {
	switch e.kind {
	case expectNoStream:
		return "NoStream"
	case expectExact:
		return "Exact(" + strconv.FormatInt(e.version, 10) + ")"
	case expectStreamExists:
		return "StreamExists"
	default:
		return "Any"
	}
}
