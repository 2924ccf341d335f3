package pgstore

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestValidateIdentifier(t *testing.T) {
	good := []string{"events", "Events", "_x", "a1", "select", "A_b_C", strings.Repeat("x", 63)}
	for _, name := range good {
		if err := ValidateIdentifier(name); err != nil {
			t.Errorf("ValidateIdentifier(%q) = %v, want nil", name, err)
		}
	}
	bad := map[string]string{
		"":                      "must not be empty",
		strings.Repeat("x", 64): "64 bytes long",
		"1events":               "must not start with a digit",
		"events; DROP TABLE x":  "ASCII letters",
		`ev"ents`:               "ASCII letters",
		"ev'ents":               "ASCII letters",
		"évents":                "ASCII letters",
		"ev ents":               "ASCII letters",
		"ev\x00":                "ASCII letters",
		"a.b":                   "ASCII letters",
	}
	for name, reason := range bad {
		err := ValidateIdentifier(name)
		var ie *IdentifierError
		if !errors.Is(err, ErrInvalidIdentifier) || !errors.As(err, &ie) || !strings.Contains(ie.Reason, reason) {
			t.Errorf("ValidateIdentifier(%q) = %v, want ErrInvalidIdentifier saying %q", name, err, reason)
		}
	}
}

func TestQuoteIdentifier(t *testing.T) {
	for in, want := range map[string]string{"events": `"events"`, "Events": `"Events"`, `a"b`: `"a""b"`} {
		if got := QuoteIdentifier(in); got != want {
			t.Errorf("QuoteIdentifier(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestDerivedName(t *testing.T) {
	if got := derivedName("events", "_pkey"); got != "events_pkey" {
		t.Errorf("short name: %s", got)
	}
	long1, long2 := strings.Repeat("a", 63), strings.Repeat("a", 62)+"b"
	n1, n2 := derivedName(long1, "_event_id_key"), derivedName(long2, "_event_id_key")
	for _, n := range []string{n1, n2} {
		if len(n) > MaxIdentifierLength || !strings.HasSuffix(n, "_event_id_key") || ValidateIdentifier(n) != nil {
			t.Errorf("derived name %q: too long, wrong suffix or invalid", n)
		}
	}
	if n1 == n2 {
		t.Errorf("names differing only past the cut derive the same name %q", n1)
	}
	if derivedName(long1, "_event_id_key") != n1 {
		t.Error("derivedName is not deterministic")
	}
}

// FuzzValidateIdentifier: whatever ValidateIdentifier accepts is a plain
// identifier that quoting leaves unchanged inside the quotes; what it
// rejects gets a reason.
func FuzzValidateIdentifier(f *testing.F) {
	for _, s := range []string{"events", "", "1a", "a\"b", "events; DROP TABLE x", strings.Repeat("z", 64), "ü", "_"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := ValidateIdentifier(name)
		if err != nil {
			var ie *IdentifierError
			if !errors.As(err, &ie) || ie.Reason == "" || ie.Value != name {
				t.Fatalf("rejection of %q without detail: %v", name, err)
			}
			return
		}
		if name == "" || len(name) > MaxIdentifierLength || !utf8.ValidString(name) {
			t.Fatalf("accepted %q", name)
		}
		for i := 0; i < len(name); i++ {
			c := name[i]
			ok := c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9'
			if !ok {
				t.Fatalf("accepted %q with byte %q at %d", name, c, i)
			}
		}
		if q := QuoteIdentifier(name); q != `"`+name+`"` {
			t.Fatalf("quoting an accepted name changed it: %s", q)
		}
		for _, suffix := range []string{"_pkey", "_aggregate_version_key"} {
			if d := derivedName(name, suffix); ValidateIdentifier(d) != nil {
				t.Fatalf("derived name %q of %q is not an identifier", d, name)
			}
		}
	})
}
