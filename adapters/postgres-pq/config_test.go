package postgres

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestStoreConfig(t *testing.T) {
	def := DefaultStoreConfig()
	if def.EventsTable != "events" || def.AggregateHeadsTable != "aggregate_heads" || def.CheckpointsTable != "consumer_checkpoints" ||
		def.OrderOffsetTable != "transaction_order_offset" || def.Schema != "" || def.NotifyChannel != "" || def.Logger != nil {
		t.Errorf("defaults: %+v", def)
	}
	cfg := NewStoreConfig(WithSchema("s"), WithEventsTable("e"), WithAggregateHeadsTable("h"), WithCheckpointsTable("c"),
		WithOrderOffsetTable("o"), WithNotifyChannel("n"), WithLogger(slog.New(slog.DiscardHandler)))
	if cfg.Schema != "s" || cfg.EventsTable != "e" || cfg.AggregateHeadsTable != "h" || cfg.CheckpointsTable != "c" ||
		cfg.OrderOffsetTable != "o" || cfg.NotifyChannel != "n" || cfg.Logger == nil {
		t.Errorf("options: %+v", cfg)
	}
	if _, err := NewStore(cfg); err != nil {
		t.Errorf("valid config: %v", err)
	}
	_, err := NewStore(NewStoreConfig(WithEventsTable("events; DROP TABLE x")))
	var ce *ConfigError
	if !errors.Is(err, ErrInvalidConfig) || !errors.As(err, &ce) || ce.Field != "EventsTable" || !strings.Contains(err.Error(), "EventsTable") {
		t.Errorf("bad events table: %v", err)
	}
	if _, err := NewStore(StoreConfig{}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("zero config: %v", err)
	}
}

func TestSchemaSQLUsesStoreNames(t *testing.T) {
	s, err := NewStore(NewStoreConfig(WithSchema("app"), WithEventsTable("log")))
	if err != nil {
		t.Fatal(err)
	}
	ddl, err := s.SchemaSQL(SchemaOptions{})
	if err != nil || !strings.Contains(ddl, `"app"."log"`) {
		t.Errorf("schema does not use the store's names (%v):\n%s", err, ddl)
	}
}
