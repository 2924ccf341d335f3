package memory_test

import (
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/chronicle-go/chronicle/adapters/memory"
	"github.com/chronicle-go/chronicle/core"
)

// FuzzMetadataMatchesPostgres compares the memory store's verdict on an
// event's Metadata (core.PrepareEvents, which every adapter runs before any
// I/O) with a real PostgreSQL server's: SELECT $1::text::jsonb, the cast the
// PostgreSQL adapters' append applies. Whatever the one accepts the other
// must accept, and whatever the server rejects must fail validation, as an
// *core.InvalidEventError naming the event and field.
//
// The server is $CHRONICLE_TEST_DATABASE_URL, else postgres@127.0.0.1:5432;
// the test creates nothing in it. Without a server it skips, unless CI is
// "true", where it fails.
func FuzzMetadataMatchesPostgres(f *testing.F) {
	db := openPostgres(f)
	for _, seed := range []string{
		`{}`, `null`, `[1,2.5,-3e2,"x",true,false,null,{"k":[]}]`, ` {"a" : 1 } `, `"\/\b\f\n\r\t\"\\"`,
		`"\ud83d\ude00"`, `"\ud800"`, `"\udc00"`, `"\ud800\u0041"`, `"\ud800\ud800\udc00"`, `"\ud800x"`, `{"\udbff":1}`,
		`"\u0000"`, `"\\u0000"`, `"\uFFFE"`, `"\u00e9\u20ac"`,
		`1e1000000`, `0e1000000`, `1e131071`, `1e131072`, `0.0001e131075`, `0.0001e131076`, `1e-16383`, `1e-16384`,
		`1.0e-16383`, `0e-16383`, `0e-16384`, `0e1073741822`, `0e1073741823`, `0e-1073741822`, `1e99999999999999999999`,
		`-0`, `1E+5`, `01`, `1.`, `.5`, `+1`, `NaN`, `Infinity`, `[1,]`, `{"a":1,}`, `'x'`, `"\x"`, `"\u12"`, "\"\t\"",
		`[` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `]`, "\xef\xbb\xbf{}", "{\"a\":\"\xff\"}", "\x00",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, metadata []byte) {
		if len(metadata) == 0 {
			return // empty metadata is stored as NULL, not parsed
		}
		ctx := t.Context()
		store := memory.NewStore()
		tx, err := store.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		event := core.Event{AggregateType: "Order", AggregateID: "1", EventID: [16]byte{1}, EventType: "Placed", Metadata: metadata}
		_, err = store.Append(ctx, tx, core.Any(), []core.Event{event})
		memoryAccepts := err == nil
		if err != nil {
			var ie *core.InvalidEventError
			if !errors.As(err, &ie) || ie.Index != 0 || ie.Field != "Metadata" {
				t.Fatalf("metadata %q: %v, want an *core.InvalidEventError for event 0's Metadata", metadata, err)
			}
		}
		serverAccepts, serverErr := postgresAcceptsJSONB(ctx, t, db, metadata)
		if memoryAccepts == serverAccepts {
			return
		}
		if !memoryAccepts && nestingDepth(metadata) > 10000 {
			// The one documented difference: json.Valid's depth limit.
			return
		}
		if memoryAccepts {
			t.Errorf("metadata %q: validation accepts it, PostgreSQL's jsonb rejects it: %v", metadata, serverErr)
		} else {
			t.Errorf("metadata %q: validation rejects it (%v), PostgreSQL's jsonb accepts it", metadata, err)
		}
	})
}

// TestNumbersNearNumericLimitsMatchPostgres compares validation with the
// server on numbers the fuzzer rarely writes: mantissas with leading and
// trailing zeros whose exponents put them just inside and just outside
// numeric's range (131072 digits before the point, a scale of 16383, an
// exponent of 1073741823).
func TestNumbersNearNumericLimitsMatchPostgres(t *testing.T) {
	db := openPostgres(t)
	rng := rand.New(rand.NewPCG(14, 14))
	digits := func(n int, nonZeroFirst bool) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('0' + rng.IntN(10))
		}
		if n > 0 && nonZeroFirst {
			b[0] = byte('1' + rng.IntN(9))
		}
		return string(b)
	}
	verdicts := map[bool]int{}
	for range 600 {
		intPart := "0"
		if rng.IntN(3) > 0 {
			intPart = digits(1+rng.IntN(4), true)
		}
		frac := strings.Repeat("0", rng.IntN(6)) + digits(rng.IntN(4), false) + strings.Repeat("0", rng.IntN(3))
		var exp int
		switch rng.IntN(4) {
		case 0: // the first non-zero digit near 10^131071
			exp = 131071 - len(intPart) + 1 + rng.IntN(7) - 3
		case 1: // the scale near 16383
			exp = len(frac) - 16383 + rng.IntN(7) - 3
		case 2: // the exponent near 2^30-1, either sign
			exp = (1<<30 - 1 + rng.IntN(5) - 2) * (1 - 2*rng.IntN(2))
		default:
			exp = rng.IntN(40) - 20
		}
		n := intPart
		if frac != "" {
			n += "." + frac
		}
		if rng.IntN(2) == 0 {
			n = "-" + n
		}
		n += []string{"e", "E", "e+"}[rng.IntN(3)] + strconv.Itoa(exp)
		n = strings.Replace(n, "e+-", "e-", 1)
		m := []byte("[" + n + "]")
		_, err := core.PrepareEvents([]core.Event{{AggregateType: "Order", AggregateID: "1", EventID: [16]byte{1}, EventType: "Placed", Metadata: m}}, time.Now())
		accepts, serverErr := postgresAcceptsJSONB(t.Context(), t, db, m)
		if (err == nil) != accepts {
			t.Errorf("number %s: validation error %v, PostgreSQL accepts: %v (%v)", n, err, accepts, serverErr)
		}
		verdicts[accepts]++
	}
	// Both sides of every limit were tried.
	if verdicts[true] < 100 || verdicts[false] < 100 {
		t.Errorf("only %d accepted and %d rejected numbers: the generator misses the limits", verdicts[true], verdicts[false])
	}
}

// postgresAcceptsJSONB asks the server whether jsonb takes m. A data
// exception (SQLSTATE class 22: invalid text, a bad escape, a numeric
// overflow, an invalid byte) or a program limit (class 54: nesting too deep
// for the stack) is a rejection; any other error fails the test.
func postgresAcceptsJSONB(ctx context.Context, t testing.TB, db *sql.DB, m []byte) (bool, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	// Not ::text back: a few bytes of 1e131071 would come back as megabytes.
	var stored bool
	err := db.QueryRowContext(ctx, "SELECT $1::text::jsonb IS NOT NULL", string(m)).Scan(&stored)
	if err == nil {
		return true, nil
	}
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && (pqErr.Code.Class() == "22" || pqErr.Code.Class() == "54") {
		return false, err
	}
	t.Fatalf("asking PostgreSQL about metadata %q: %v", m, err)
	return false, err
}

// nestingDepth returns the deepest nesting of arrays and objects in m,
// ignoring brackets inside strings.
func nestingDepth(m []byte) int {
	depth, deepest, inString := 0, 0, false
	for i := 0; i < len(m); i++ {
		switch c := m[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case inString:
		case c == '[' || c == '{':
			depth++
			deepest = max(deepest, depth)
		case c == ']' || c == '}':
			depth--
		}
	}
	return deepest
}

// openPostgres connects to the test server, or skips when there is none and
// CI is not "true".
func openPostgres(f testing.TB) *sql.DB {
	f.Helper()
	url := os.Getenv("CHRONICLE_TEST_DATABASE_URL")
	if url == "" {
		url = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable&connect_timeout=5"
	}
	db, err := sql.Open("postgres", url)
	if err != nil {
		f.Fatalf("opening %s: %v", url, err)
	}
	f.Cleanup(func() { db.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		if os.Getenv("CI") == "true" {
			f.Fatalf("CI=true and no PostgreSQL to compare jsonb with (set CHRONICLE_TEST_DATABASE_URL): %v", err)
		}
		f.Skipf("no PostgreSQL to compare jsonb with (set CHRONICLE_TEST_DATABASE_URL or run one on 127.0.0.1:5432): %v", err)
	}
	return db
}
