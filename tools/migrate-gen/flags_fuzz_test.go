package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// FuzzFlags runs migrate-gen with arbitrary names in every naming flag
// and one arbitrary extra argument. It must never panic or write a file;
// it either writes SQL in which every name is a valid identifier and
// appears only double-quoted, or fails with status 2 and one line on
// stderr naming a flag or argument.
func FuzzFlags(f *testing.F) {
	f.Add("", "events", "aggregate_heads", "consumer_checkpoints", "transaction_order_offset", "", "")
	f.Add("es", "ev", "heads", "cps", "ord", "chronicle_app", "-no-append-only-trigger")
	f.Add(`es"; DROP SCHEMA public; --`, "events", "heads", "cps", "ord", "app", "")
	f.Add("", "events' OR '1'='1", "heads", "cps", "ord", "", "-bogus")
	f.Add("", "events", "events", "cps", "ord", "", "positional")
	f.Add("", "$1", "heads", "cps", "ord", "app\x00", "-stdout=maybe")
	f.Add("Ünï", "ev\nents", "heads", "cps", "ord", "app role", "-help")
	f.Fuzz(func(t *testing.T, schema, events, heads, checkpoints, offset, role, extra string) {
		args := []string{"-schema", schema, "-events-table", events, "-aggregate-heads-table", heads,
			"-checkpoints-table", checkpoints, "-order-offset-table", offset, "-app-role", role, extra, "-stdout"}
		if extra == "" {
			args = append(args[:12], "-stdout")
		}
		// A fuzzed -output or -filename never matters: -stdout comes last.
		var stdout, stderr bytes.Buffer
		code := run(args, &stdout, &stderr)
		switch code {
		case 0:
			if stderr.Len() > 0 {
				return // -help
			}
			sql := stdout.String()
			for _, name := range []string{schema, events, heads, checkpoints, offset, role} {
				if name == "" {
					continue
				}
				if !identifier.MatchString(name) {
					t.Fatalf("accepted the name %q", name)
				}
			}
			if !strings.HasPrefix(sql, header) {
				t.Fatalf("output without the generated header: %.80q", sql)
			}
			if strings.Contains(sql, `""`) {
				t.Fatalf("an empty or escaped quoted identifier in the output")
			}
		case 2:
			msg := stderr.String()
			if stdout.Len() != 0 || strings.Count(msg, "\n") != 1 || !strings.HasSuffix(msg, "\n") || !strings.HasPrefix(msg, "migrate-gen: ") {
				t.Fatalf("rejection with stdout %q and stderr %q", stdout.String(), msg)
			}
		default:
			t.Fatalf("exit status %d: %s", code, stderr.String())
		}
	})
}
