package pgstore

import (
	"errors"
	"fmt"
	"hash/fnv"
	"regexp"
	"strings"
)

// MaxIdentifierLength is PostgreSQL's limit on identifiers, in bytes
// (NAMEDATALEN-1). Longer names would be truncated silently by the server.
const MaxIdentifierLength = 63

var identifierPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// ErrInvalidIdentifier: a name is not an identifier Chronicle accepts.
// Detail: *IdentifierError.
var ErrInvalidIdentifier = errors.New("invalid identifier")

// IdentifierError is the detail of ErrInvalidIdentifier.
type IdentifierError struct {
	// Value is the rejected name.
	Value string
	// Reason says what is wrong with it.
	Reason string
}

// Error names the identifier and what is wrong with it.
func (e *IdentifierError) Error() string {
	return fmt.Sprintf("invalid identifier %q: %s", e.Value, e.Reason)
}

// Is reports whether target is ErrInvalidIdentifier.
func (e *IdentifierError) Is(target error) bool { return target == ErrInvalidIdentifier }

// ValidateIdentifier returns nil when name matches
// ^[A-Za-z_][A-Za-z0-9_]{0,62}$ — ASCII letters, digits and underscores,
// not starting with a digit, 1 to 63 bytes — and an *IdentifierError
// otherwise. Names are always quoted, so reserved words and upper-case
// letters are accepted and kept as written.
func ValidateIdentifier(name string) error {
	if identifierPattern.MatchString(name) {
		return nil
	}
	var reason string
	switch {
	case name == "":
		reason = "must not be empty"
	case len(name) > MaxIdentifierLength:
		reason = fmt.Sprintf("is %d bytes long, PostgreSQL allows at most %d", len(name), MaxIdentifierLength)
	case name[0] >= '0' && name[0] <= '9':
		reason = "must not start with a digit"
	default:
		reason = "may only contain ASCII letters, digits and underscores"
	}
	return &IdentifierError{Value: name, Reason: reason}
}

// QuoteIdentifier returns name as a double-quoted SQL identifier, doubling
// any double quote inside it. Callers validate first; the quoting is a
// second line of defence, not a licence to pass arbitrary names.
func QuoteIdentifier(name string) string {
	return string(quoteIdentifier(name))
}

func quoteIdentifier(name string) quoted {
	return quoted(`"` + strings.ReplaceAll(name, `"`, `""`) + `"`)
}

// derivedName returns base+suffix, the name of an object derived from a
// table (a constraint, an index, a trigger). When that would exceed
// PostgreSQL's limit, base is shortened and a hash of the whole base keeps
// the result distinct and deterministic, instead of leaving the server to
// truncate it (and the driver to look for a name that does not exist).
func derivedName(base, suffix string) string {
	if len(base)+len(suffix) <= MaxIdentifierLength {
		return base + suffix
	}
	h := fnv.New32a()
	h.Write([]byte(base))
	tag := fmt.Sprintf("_%08x", h.Sum32())
	return base[:MaxIdentifierLength-len(suffix)-len(tag)] + tag + suffix
}
