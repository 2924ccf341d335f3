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
	if err := cs.Listen(t.Context(), func([]int64) { t.Error("woken") }); !errors.Is(err, core.ErrNotificationsUnsupported) {
		t.Errorf("Listen without a notify channel: %v, want ErrNotificationsUnsupported", err)
	}
}

// A connection failure is Listen's error, for the processor to retry.
func TestListenReturnsAConnectionFailure(t *testing.T) {
	pool, err := pgxpool.New(t.Context(), "postgres://nobody@127.0.0.1:1/none?connect_timeout=5")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	store, err := NewStore(NewStoreConfig(WithNotifyChannel("events")))
	if err != nil {
		t.Fatal(err)
	}
	cs, err := NewConsumerStore(pool, store)
	if err != nil {
		t.Fatal(err)
	}
	err = cs.Listen(t.Context(), func([]int64) { t.Error("woken without a connection") })
	if err == nil || errors.Is(err, core.ErrNotificationsUnsupported) {
		t.Errorf("Listen without a server: %v, want the connection error", err)
	}
}
