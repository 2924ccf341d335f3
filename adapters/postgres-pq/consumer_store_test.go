package postgres

import (
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/chronicle-go/chronicle/core"
)

func TestNewConsumerStoreChecksItsArguments(t *testing.T) {
	// sql.Open connects lazily: nothing here reaches a server.
	db, err := sql.Open("postgres", "postgres://nobody:secret@127.0.0.1:1/none")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store, err := NewStore(NewStoreConfig(WithNotifyChannel("events")))
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		db    *sql.DB
		store *Store
		field string
	}{
		"nil db":     {nil, store, "db"},
		"nil store":  {db, nil, "store"},
		"zero store": {db, &Store{}, "EventsTable"},
	} {
		_, err := NewConsumerStore(c.db, c.store)
		var ce *ConfigError
		if !errors.Is(err, ErrInvalidConfig) || !errors.As(err, &ce) || ce.Field != c.field {
			t.Errorf("%s: %v, want a *ConfigError for %s", name, err, c.field)
		}
	}
	// A DSN lib/pq cannot read is the store's configuration error, which
	// does not show it.
	_, err = NewStore(NewStoreConfig(WithListenDSN("postgres://secret@%zz")))
	var ce *ConfigError
	if !errors.Is(err, ErrInvalidConfig) || !errors.As(err, &ce) || ce.Field != "ListenDSN" {
		t.Errorf("bad DSN: %v, want a *ConfigError for ListenDSN", err)
	} else if strings.Contains(err.Error(), "secret") {
		t.Errorf("bad DSN: the error shows the DSN: %v", err)
	}
	// Notifications need both a channel and a DSN.
	cs, err := NewConsumerStore(db, store)
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.Listen(t.Context(), func([]int64) { t.Error("woken") }); !errors.Is(err, core.ErrNotificationsUnsupported) {
		t.Errorf("Listen without a DSN: %v, want ErrNotificationsUnsupported", err)
	}
	quiet, err := NewStore(NewStoreConfig(WithListenDSN("postgres://127.0.0.1:1/none")))
	if err != nil {
		t.Fatal(err)
	}
	cs, err = NewConsumerStore(db, quiet)
	if err != nil {
		t.Fatal(err)
	}
	if err := cs.Listen(t.Context(), func([]int64) { t.Error("woken") }); !errors.Is(err, core.ErrNotificationsUnsupported) {
		t.Errorf("Listen without a notify channel: %v, want ErrNotificationsUnsupported", err)
	}
}

// A first connection that fails is Listen's error, for the processor to
// retry (later losses lib/pq reconnects by itself).
func TestListenReturnsAFirstConnectionFailure(t *testing.T) {
	db, err := sql.Open("postgres", "postgres://nobody@127.0.0.1:1/none")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store, err := NewStore(NewStoreConfig(WithNotifyChannel("events"),
		WithListenDSN("postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=5")))
	if err != nil {
		t.Fatal(err)
	}
	cs, err := NewConsumerStore(db, store)
	if err != nil {
		t.Fatal(err)
	}
	err = cs.Listen(t.Context(), func([]int64) { t.Error("woken without a connection") })
	if err == nil || errors.Is(err, core.ErrNotificationsUnsupported) {
		t.Errorf("Listen without a server: %v, want the connection error", err)
	}
}
