package core

import (
	"bytes"
	"strconv"
)

// PostgreSQL's jsonb accepts less than the JSON grammar (and json.Valid)
// does. Beyond syntax, jsonb_in rejects:
//
//   - a \u escape of U+0000 (SQLSTATE 22P05): text cannot hold NUL;
//   - a \u escape of a UTF-16 surrogate that is not a high surrogate
//     (U+D800–U+DBFF) directly followed by a \u escape of a low one
//     (U+DC00–U+DFFF) (22P02); such a pair is one code point and fine;
//   - a number that numeric cannot hold (22003, "value overflows numeric
//     format"): numeric_in parses the token with an exponent limited to
//     |e| < 2^30-1 (INT_MAX/2, in every case, even for a zero mantissa), and
//     the value must fit numeric's storage: a weight of at most 32767
//     base-10000 digits before the point (131072 decimal digits) and a
//     display scale — the digits after the point as written, minus the
//     exponent — of at most 16383.
//
// jsonbProblem finds the first of these in m, which must be valid JSON
// (json.Valid) and valid UTF-8, and returns what is wrong with it, or "" when
// jsonb stores m. It reads m once and allocates only for its answer.
func jsonbProblem(m []byte) string {
	for i := 0; i < len(m); {
		switch c := m[i]; {
		case c == '"':
			end, problem := jsonbString(m, i)
			if problem != "" {
				return problem
			}
			i = end
		case c == '-' || (c >= '0' && c <= '9'):
			end := numberEnd(m, i)
			if problem := numericProblem(m[i:end]); problem != "" {
				return "the number " + excerpt(m[i:end]) + " at byte " + strconv.Itoa(i) + " " + problem
			}
			i = end
		default:
			i++
		}
	}
	return ""
}

// jsonbString checks the string starting at m[start] (its opening quote)
// and returns the index after its closing quote.
func jsonbString(m []byte, start int) (end int, problem string) {
	high := -1 // the index of a \u escape of a high surrogate awaiting its low one
	i := start + 1
	for i < len(m) {
		// Skip to the next quote or escape: nothing else matters here.
		j := bytes.IndexAny(m[i:], `"\`)
		if j < 0 {
			break // not valid JSON; json.Valid has said so already
		}
		if j > 0 && high >= 0 {
			return 0, unpaired(m, high)
		}
		i += j
		if m[i] == '"' {
			if high >= 0 {
				return 0, unpaired(m, high)
			}
			return i + 1, ""
		}
		// An escape: \uXXXX, or a two-byte one.
		if i+1 >= len(m) || m[i+1] != 'u' || i+6 > len(m) {
			if high >= 0 {
				return 0, unpaired(m, high)
			}
			i += 2
			continue
		}
		cp, ok := hex4(m[i+2 : i+6])
		switch {
		case !ok:
			return i + 6, "" // not valid JSON; json.Valid has said so already
		case cp >= 0xdc00 && cp <= 0xdfff:
			if high < 0 {
				return 0, unpaired(m, i)
			}
			high = -1
		case high >= 0:
			return 0, unpaired(m, high)
		case cp >= 0xd800 && cp <= 0xdbff:
			high = i
		case cp == 0:
			return 0, `\u0000 at byte ` + strconv.Itoa(i) + ` is a NUL character, which jsonb cannot store`
		}
		i += 6
	}
	return len(m), ""
}

func unpaired(m []byte, at int) string {
	return string(m[at:at+6]) + " at byte " + strconv.Itoa(at) +
		" is half of a UTF-16 surrogate pair without its other half, which jsonb rejects (escape the code point as a high surrogate followed by a low one)"
}

// hex4 decodes four hexadecimal digits.
func hex4(b []byte) (int, bool) {
	v := 0
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | int(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | int(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | int(c-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}

// numberEnd returns the index after the JSON number starting at m[start].
func numberEnd(m []byte, start int) int {
	i := start
	for i < len(m) {
		switch c := m[i]; {
		case c >= '0' && c <= '9', c == '-', c == '+', c == '.', c == 'e', c == 'E':
			i++
		default:
			return i
		}
	}
	return i
}

// PostgreSQL's numeric limits (src/backend/utils/adt/numeric.c): the
// exponent numeric_in accepts, and what its storage format holds.
const (
	numericMaxExponent = 1<<31/2 - 1 // INT_MAX / 2: |exponent| must stay below it
	numericMaxWeight   = 1<<15 - 1   // NUMERIC_WEIGHT_MAX, in base-10000 digits
	numericMaxDScale   = 1<<14 - 1   // NUMERIC_DSCALE_MAX: digits after the point
)

// numericProblem says why numeric_in rejects the JSON number tok, or returns
// "" when it accepts it. tok is -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func numericProblem(tok []byte) string {
	i := 0
	if i < len(tok) && tok[i] == '-' {
		i++
	}
	intStart := i
	for i < len(tok) && tok[i] >= '0' && tok[i] <= '9' {
		i++
	}
	intEnd, fracStart, fracEnd := i, i, i
	if i < len(tok) && tok[i] == '.' {
		i++
		fracStart = i
		for i < len(tok) && tok[i] >= '0' && tok[i] <= '9' {
			i++
		}
		fracEnd = i
	}
	var exp int64
	if i < len(tok) && (tok[i] == 'e' || tok[i] == 'E') {
		i++
		neg := false
		if i < len(tok) && (tok[i] == '+' || tok[i] == '-') {
			neg = tok[i] == '-'
			i++
		}
		for ; i < len(tok); i++ {
			if exp < numericMaxExponent { // saturate, as strtol does at LONG_MAX
				exp = exp*10 + int64(tok[i]-'0')
			}
		}
		if exp >= numericMaxExponent {
			return "has an exponent beyond jsonb's numeric range (|exponent| must be below 1073741823)"
		}
		if neg {
			exp = -exp
		}
	}
	// Display scale: the digits written after the point, less the exponent.
	if dscale := int64(fracEnd-fracStart) - exp; dscale > numericMaxDScale {
		return "is beyond jsonb's numeric range (at most 16383 digits after the decimal point)"
	}
	// Weight: where the first non-zero digit sits, in base-10000 digits.
	first := -1
	for j := intStart; j < fracEnd; j++ {
		if j == intEnd {
			j = fracStart
			if j == fracEnd {
				break
			}
		}
		if tok[j] != '0' {
			first = j
			break
		}
	}
	if first < 0 {
		return "" // zero: any exponent numeric_in accepts, and a scale that fits
	}
	// The first non-zero digit's decimal exponent: digits before the point
	// count down from intEnd-intStart-1, those after it from -1.
	var e1 int64
	if first < intEnd {
		e1 = int64(intEnd-first-1) + exp
	} else {
		e1 = -int64(first-fracStart+1) + exp
	}
	weight := e1 / 4
	if e1 < 0 && e1%4 != 0 {
		weight--
	}
	if weight > numericMaxWeight {
		return "is beyond jsonb's numeric range (at most 131072 digits before the decimal point)"
	}
	return ""
}

// excerpt quotes a number for an error message, shortened when long.
func excerpt(b []byte) string {
	if len(b) > 40 {
		return strconv.Quote(string(b[:20])+"…"+string(b[len(b)-12:])) + " (" + strconv.Itoa(len(b)) + " bytes)"
	}
	return string(b)
}
