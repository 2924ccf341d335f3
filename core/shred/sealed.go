package shred

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/chronicle-go/chronicle/core"
	"github.com/google/uuid"
)

// Sealed is a value encrypted for a subject: AES-256-GCM under the
// subject's data key, with a random 96-bit nonce, authenticating the
// subject and the key id (so a sealed value copied to another subject, or
// under another key id, does not open).
//
// In a JSON payload a Sealed value is one object with the single member
// "$sealed" (MarshalJSON):
//
//	{"$sealed":{"v":1,"sub":"customer-42","kid":"6f1c…","n":"<base64>","ct":"<base64>"}}
//
// v is the format version (1), sub the subject in clear, kid the data key's
// id (a UUID), n the nonce and ct the ciphertext with its 16-byte tag, both
// standard base64 with padding. The plaintext of a sealed JSON field is the
// field's JSON encoding.
type Sealed struct {
	// Subject is the subject whose key sealed the value.
	Subject string
	// KeyID is the id of that key (core.SubjectKey.KeyID).
	KeyID uuid.UUID
	// Nonce is the 12-byte nonce.
	Nonce []byte
	// Ciphertext is the encrypted value followed by the 16-byte tag.
	Ciphertext []byte
}

// sealedFormat is the version of the JSON form that MarshalJSON writes.
const sealedFormat = 1

// sealedMember is the member name that marks a sealed value in JSON.
const sealedMember = "$sealed"

type sealedJSON struct {
	V   int    `json:"v"`
	Sub string `json:"sub"`
	Kid string `json:"kid"`
	N   []byte `json:"n"`
	CT  []byte `json:"ct"`
}

// MarshalJSON writes the documented JSON form (see Sealed).
func (s Sealed) MarshalJSON() ([]byte, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	sub, err := json.Marshal(s.Subject)
	if err != nil {
		return nil, err
	}
	b64 := base64.StdEncoding
	out := make([]byte, 0, 80+len(sub)+b64.EncodedLen(len(s.Nonce))+b64.EncodedLen(len(s.Ciphertext)))
	out = append(out, `{"$sealed":{"v":1,"sub":`...)
	out = append(out, sub...)
	out = append(out, `,"kid":"`...)
	out = append(out, s.KeyID.String()...)
	out = append(out, `","n":"`...)
	out = b64.AppendEncode(out, s.Nonce)
	out = append(out, `","ct":"`...)
	out = b64.AppendEncode(out, s.Ciphertext)
	return append(out, `"}}`...), nil
}

// UnmarshalJSON reads the JSON form; anything else, including a later
// format version, is an error wrapping ErrCorrupt.
func (s *Sealed) UnmarshalJSON(data []byte) error {
	var outer map[string]json.RawMessage
	if err := json.Unmarshal(data, &outer); err != nil {
		return &CorruptError{Reason: "a sealed value is not a JSON object: " + err.Error()}
	}
	inner, ok := outer[sealedMember]
	if len(outer) != 1 || !ok {
		return &CorruptError{Reason: `a sealed value must be an object with the single member "$sealed"`}
	}
	var v sealedJSON
	dec := json.NewDecoder(bytes.NewReader(inner))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return &CorruptError{Reason: "the $sealed object cannot be read: " + err.Error()}
	}
	if v.V != sealedFormat {
		return &CorruptError{Subject: v.Sub, Reason: fmt.Sprintf("sealed format version %d is not known to this release (it reads version %d)", v.V, sealedFormat)}
	}
	kid, err := uuid.Parse(v.Kid)
	if err != nil {
		return &CorruptError{Subject: v.Sub, Reason: fmt.Sprintf("the key id %q is not a UUID", v.Kid)}
	}
	out := Sealed{Subject: v.Sub, KeyID: kid, Nonce: v.N, Ciphertext: v.CT}
	if err := out.validate(); err != nil {
		return err
	}
	*s = out
	return nil
}

// validate checks the parts' shapes, as a *CorruptError.
func (s Sealed) validate() error {
	if err := core.ValidateSubject(s.Subject); err != nil {
		return &CorruptError{Subject: s.Subject, KeyID: s.KeyID, Reason: err.Error()}
	}
	switch {
	case s.KeyID == uuid.Nil:
		return &CorruptError{Subject: s.Subject, Reason: "the key id is the nil UUID"}
	case len(s.Nonce) != nonceSize:
		return &CorruptError{Subject: s.Subject, KeyID: s.KeyID, Reason: fmt.Sprintf("the nonce is %d bytes, want %d", len(s.Nonce), nonceSize)}
	case len(s.Ciphertext) < tagSize:
		return &CorruptError{Subject: s.Subject, KeyID: s.KeyID, Reason: fmt.Sprintf("the ciphertext is %d bytes, shorter than the %d-byte tag", len(s.Ciphertext), tagSize)}
	}
	return nil
}

// AES-GCM's standard nonce and tag sizes.
const (
	nonceSize = 12
	tagSize   = 16
)

// IsSealed reports whether value, one JSON value, is in the sealed form
// (an object whose only member is "$sealed"), whether or not it is valid.
func IsSealed(value []byte) bool {
	value = bytes.TrimSpace(value)
	if len(value) == 0 || value[0] != '{' || !bytes.Contains(value, []byte(`"$sealed"`)) {
		return false
	}
	var outer map[string]json.RawMessage
	if json.Unmarshal(value, &outer) != nil {
		return false
	}
	_, ok := outer[sealedMember]
	return ok && len(outer) == 1
}

// HasSealed reports whether payload, a JSON object, holds a sealed value
// in one of its members (the fields SealJSON seals). It is false for
// anything that is not a JSON object. Generated mappings use it to refuse
// decoding a payload that was not opened first.
func HasSealed(payload []byte) bool {
	if !bytes.Contains(payload, []byte(`"$sealed"`)) {
		return false
	}
	members, err := splitObject(payload)
	if err != nil {
		return false
	}
	for _, m := range members {
		if IsSealed(m.value) {
			return true
		}
	}
	return false
}

// member is one member of a JSON object, in the order of the text.
type member struct {
	name  string
	key   json.RawMessage // the name as written, quoted
	value json.RawMessage
}

// errNotObject: a payload given to SealJSON or OpenJSON is not a JSON
// object.
var errNotObject = errors.New("the payload is not a JSON object")

// splitObject returns the members of the JSON object payload in order,
// keeping each name and value as written. The payload is validated whole
// first (json.Valid, which allocates nothing); the walk over its members
// then only has to find where each ends.
func splitObject(payload []byte) ([]member, error) {
	if !json.Valid(payload) {
		return nil, fmt.Errorf("%w: it is not valid JSON", errNotObject)
	}
	i := skipSpace(payload, 0)
	if i >= len(payload) || payload[i] != '{' {
		return nil, errNotObject
	}
	i = skipSpace(payload, i+1)
	var members []member
	for payload[i] != '}' {
		keyEnd := endOfValue(payload, i) // a string: the name
		key := payload[i:keyEnd]
		name := string(key[1 : len(key)-1])
		if bytes.IndexByte(key, '\\') >= 0 {
			if err := json.Unmarshal(key, &name); err != nil {
				return nil, fmt.Errorf("%w: %w", errNotObject, err)
			}
		}
		i = skipSpace(payload, keyEnd)
		i = skipSpace(payload, i+1) // the colon
		valueEnd := endOfValue(payload, i)
		members = append(members, member{name: name, key: key, value: payload[i:valueEnd]})
		i = skipSpace(payload, valueEnd)
		if payload[i] == ',' {
			i = skipSpace(payload, i+1)
		}
	}
	return members, nil
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON whitespace.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// endOfValue returns the index just after the JSON value starting at i, in
// text that json.Valid accepted.
func endOfValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		for j := i + 1; ; j++ {
			switch b[j] {
			case '\\':
				j++
			case '"':
				return j + 1
			}
		}
	case '{', '[':
		depth := 0
		for j := i; ; j++ {
			switch b[j] {
			case '"':
				j = endOfValue(b, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
	default: // a number, true, false or null
		j := i
		for j < len(b) && !endsScalar(b[j]) {
			j++
		}
		return j
	}
}

// endsScalar reports whether c ends a number or literal.
func endsScalar(c byte) bool {
	switch c {
	case ',', '}', ']', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// joinObject writes members as a JSON object, in order.
func joinObject(members []member) []byte {
	n := 2
	for _, m := range members {
		n += len(m.key) + len(m.value) + 2
	}
	out := make([]byte, 0, n)
	out = append(out, '{')
	for i, m := range members {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, m.key...)
		out = append(out, ':')
		out = append(out, m.value...)
	}
	return append(out, '}')
}
