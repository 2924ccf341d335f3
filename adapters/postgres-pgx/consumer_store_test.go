package postgres

import (
	"errors"
	"testing"

	"github.com/chronicle-go/chronicle/core"
	"github.com/jackc/pgx/v5/pgxpool"
)

func TestNewConsumerStoreChecksItsArguments(t *testing.T) {
	// The pool connects lazily: nothing here reaches a server.
	pool, err := pgxpool.New(t.Context(), "postgres://nobody@127.0.0.1:1/none")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	store, err := NewStore(DefaultStoreConfig())
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		pool  *pgxpool.Pool
		store *Store
		field string
	}{
		"nil pool":   {nil, store, "pool"},
		"nil store":  {pool, nil, "store"},
		"zero store": {pool, &Store{}, "EventsTable"},
	} {
		_, err := NewConsumerStore(c.pool, c.store)
		var ce *ConfigError
		if !errors.Is(err, ErrInvalidConfig) || !errors.As(err, &ce) || ce.Field != c.field {
			t.Errorf("%s: %v, want a *ConfigError for %s", name, err, c.field)
		}
	}
	cs, err := NewConsumerStore(pool, store)
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.Listen(t.Context(), func() { t.Error("woken") }); !errors.Is(err, core.ErrNotificationsUnsupported) {
		t.Errorf("Listen without a notify channel: %v, want ErrNotificationsUnsupported", err)
	}
}
