package shred

import (
	"errors"
	"fmt"

	"github.com/google/uuid"
)

// Sentinel errors, for errors.Is, each returned as a typed error with the
// detail, for errors.As.
var (
	// ErrInvalidConfig: New or NewAESKeyWrapper rejected its configuration.
	// Detail: *ConfigError.
	ErrInvalidConfig = errors.New("invalid shredding configuration")
	// ErrCorrupt: a sealed value is malformed, or does not authenticate
	// under its subject's key (it was changed, or copied from another
	// subject). A forgotten subject is not an error: Open reports it as
	// erased. Detail: *CorruptError.
	ErrCorrupt = errors.New("sealed value is corrupt")
	// ErrUnknownWrappingKey: a subject's data key is wrapped by a wrapping
	// key that is neither Config.Wrapper nor one of Config.Previous. Add
	// that key to Previous (during a rotation, until RewrapKeys has run).
	// Detail: *UnknownWrappingKeyError.
	ErrUnknownWrappingKey = errors.New("data key wrapped by an unknown wrapping key")
)

// ConfigError is the detail of ErrInvalidConfig.
type ConfigError struct {
	// Field names the rejected setting, e.g. "Wrapper".
	Field string
	// Reason says what is wrong and how to fix it.
	Reason string
}

// Error names the setting and the fix.
func (e *ConfigError) Error() string {
	return fmt.Sprintf("invalid shredding configuration: %s: %s", e.Field, e.Reason)
}

// Is reports whether target is ErrInvalidConfig.
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

// CorruptError is the detail of ErrCorrupt.
type CorruptError struct {
	// Subject and KeyID name the sealed value's key, where they could be
	// read.
	Subject string
	KeyID   uuid.UUID
	// Field is the payload member that held the value ("" outside a
	// payload).
	Field string
	// Reason says what is wrong.
	Reason string
}

// Error names the subject, key, field and what is wrong.
func (e *CorruptError) Error() string {
	msg := "sealed value is corrupt"
	if e.Field != "" {
		msg += fmt.Sprintf(" in field %q", e.Field)
	}
	if e.Subject != "" {
		msg += fmt.Sprintf(" (subject %q", e.Subject)
		if e.KeyID != uuid.Nil {
			msg += ", key " + e.KeyID.String()
		}
		msg += ")"
	}
	return msg + ": " + e.Reason
}

// Is reports whether target is ErrCorrupt.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// UnknownWrappingKeyError is the detail of ErrUnknownWrappingKey.
type UnknownWrappingKeyError struct {
	// Subject is the subject whose key could not be unwrapped.
	Subject string
	// WrappingKeyID is the id stored with the key.
	WrappingKeyID string
}

// Error names the wrapping key and the fix.
func (e *UnknownWrappingKeyError) Error() string {
	return fmt.Sprintf("the data key of subject %q is wrapped by wrapping key %q, which is not configured: add it to Config.Previous",
		e.Subject, e.WrappingKeyID)
}

// Is reports whether target is ErrUnknownWrappingKey.
func (e *UnknownWrappingKeyError) Is(target error) bool { return target == ErrUnknownWrappingKey }
