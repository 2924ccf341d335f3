package pgstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/chronicle-go/chronicle/core"
	"github.com/google/uuid"
)

// tx is a pointer transaction type, as *sql.Tx is.
type tx struct{}

// nothing is an Executor whose every statement fails: the misuse checks
// must return before any is run.
type nothing struct{}

var errRan = errors.New("a statement ran")

func (nothing) Query(context.Context, *tx, string, ...any) (Rows, error) { return nil, errRan }
func (nothing) Exec(context.Context, *tx, string, ...any) error          { return errRan }
func (nothing) PayloadEncoding() PayloadEncoding                         { return PayloadArray }
func (nothing) AppendEventParams(args []any, _ []core.Event) []any       { return args }
func (nothing) TextArray(v []string) any                                 { return v }
func (nothing) NewEventRow(int, bool) EventRow                           { return nil }
func (nothing) DatabaseError(error) DatabaseError                        { return DatabaseError{} }

type noTransactions struct{}

func (noTransactions) Begin(context.Context) (*tx, error)                    { return nil, errRan }
func (noTransactions) Commit(context.Context, *tx) error                     { return errRan }
func (noTransactions) Rollback(context.Context, *tx) error                   { return errRan }
func (noTransactions) Listen(context.Context, Listening, func(string)) error { return errRan }
func (noTransactions) Hold(context.Context, Holding, func()) error           { return errRan }

// Misuse — a zero Store or ConsumerStore, a nil transaction — is a typed
// error naming the problem, never a panic, and runs no statement.
func TestMisuseIsAnError(t *testing.T) {
	ctx := context.Background()
	events := []core.Event{{AggregateType: "A", AggregateID: "1", EventID: uuid.New(), EventType: "E", Payload: []byte(`{}`)}}
	store, err := NewStore[*tx](Config{Names: DefaultNames()}, nothing{})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := NewConsumerStore[*tx](store, noTransactions{})
	if err != nil {
		t.Fatal(err)
	}
	var zero Store[*tx]
	var zeroCS ConsumerStore[*tx]
	var nilStore *Store[*tx]
	calls := map[string]func(s *Store[*tx], cs *ConsumerStore[*tx], tx *tx) error{
		"Append": func(s *Store[*tx], _ *ConsumerStore[*tx], tx *tx) error {
			_, err := s.Append(ctx, tx, core.Any(), events)
			return err
		},
		"ReadAggregateStream": func(s *Store[*tx], _ *ConsumerStore[*tx], tx *tx) error {
			_, err := s.ReadAggregateStream(ctx, tx, "A", "1", nil, nil)
			return err
		},
		"ReadEvents": func(s *Store[*tx], _ *ConsumerStore[*tx], tx *tx) error {
			_, err := s.ReadEvents(ctx, tx, 0, 10)
			return err
		},
		"GetLatestGlobalPosition": func(s *Store[*tx], _ *ConsumerStore[*tx], tx *tx) error {
			_, err := s.GetLatestGlobalPosition(ctx, tx)
			return err
		},
		"ClaimCheckpoint": func(_ *Store[*tx], cs *ConsumerStore[*tx], tx *tx) error {
			_, _, err := cs.ClaimCheckpoint(ctx, tx, "c")
			return err
		},
		"SaveCheckpoint": func(_ *Store[*tx], cs *ConsumerStore[*tx], tx *tx) error {
			return cs.SaveCheckpoint(ctx, tx, core.Checkpoint{ConsumerName: "c", UpdatedAt: time.Now()})
		},
		"ReadConsumerBatch": func(_ *Store[*tx], cs *ConsumerStore[*tx], tx *tx) error {
			_, err := cs.ReadConsumerBatch(ctx, tx, core.Cursor{}, core.ConsumerScope{}, 10)
			return err
		},
		"OwnersPresent": func(_ *Store[*tx], cs *ConsumerStore[*tx], tx *tx) error {
			_, err := cs.OwnersPresent(ctx, tx, []string{"host/1"})
			return err
		},
		"Commit": func(_ *Store[*tx], cs *ConsumerStore[*tx], tx *tx) error { return cs.Commit(ctx, tx) },
	}
	for what, c := range map[string]*ConsumerStore[*tx]{"zero consumer store": &zeroCS, "nil consumer store": nil} {
		if err := c.HoldPresence(ctx, "host/1", nil); !errors.Is(err, ErrInvalidConfig) || errors.Is(err, errRan) {
			t.Errorf("HoldPresence with a %s: %v, want ErrInvalidConfig", what, err)
		}
	}
	for name, call := range calls {
		for what, c := range map[string]struct {
			s    *Store[*tx]
			cs   *ConsumerStore[*tx]
			tx   *tx
			want error
		}{
			"nil tx":              {store, cs, nil, core.ErrInvalidArgument},
			"zero store":          {&zero, &zeroCS, &tx{}, ErrInvalidConfig},
			"nil store":           {nilStore, nil, &tx{}, ErrInvalidConfig},
			"zero consumer store": {store, &zeroCS, &tx{}, ErrInvalidConfig},
		} {
			if (name == "Append" || name == "ReadEvents" || name == "ReadAggregateStream" || name == "GetLatestGlobalPosition") &&
				what == "zero consumer store" {
				continue
			}
			err := call(c.s, c.cs, c.tx)
			if !errors.Is(err, c.want) || errors.Is(err, errRan) {
				t.Errorf("%s with a %s: %v, want %v", name, what, err, c.want)
			}
		}
	}
	if _, err := zero.SchemaSQL(SchemaOptions{}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("SchemaSQL of a zero store: %v", err)
	}
	if _, err := store.SchemaSQL(SchemaOptions{AppRole: "x; DROP TABLE x"}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("SchemaSQL with a bad AppRole: %v", err)
	}
	if _, err := NewConsumerStore[*tx](nil, noTransactions{}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("NewConsumerStore(nil): %v", err)
	}
}

// The writers of quiet appends travel in the next notification, in the
// form parseWriters reads; too many, or a foreign payload, name none.
func TestQuietWritersPayload(t *testing.T) {
	var q quietWriters
	if p := q.payload(); p != "" {
		t.Fatalf("empty: %q", p)
	}
	q.add(7)
	q.add(7) // the same transaction again
	q.add(9)
	p := q.payload()
	if p != "7,9" || q.payload() != "" {
		t.Fatalf("payload %q, then %q; want 7,9 and then nothing", p, q.payload())
	}
	if ids := parseWriters(p); len(ids) != 2 || ids[0] != 7 || ids[1] != 9 {
		t.Fatalf("parseWriters(%q) = %v", p, ids)
	}
	for i := range maxQuietWriters + 5 {
		q.add(int64(i))
	}
	if p := q.payload(); p != "" {
		t.Fatalf("too many writers: %q, want none named", p)
	}
	for _, foreign := range []string{"Order", "1,x", ",", "9223372036854775808"} {
		if ids := parseWriters(foreign); ids != nil {
			t.Errorf("parseWriters(%q) = %v, want none", foreign, ids)
		}
	}
}
