package pgstore

import (
	"errors"
	"strings"
	"testing"
)

func TestNamesValidate(t *testing.T) {
	if err := DefaultNames().Validate(); err != nil {
		t.Fatalf("default names: %v", err)
	}
	cases := []struct {
		mutate func(*Names)
		field  string
	}{
		{func(n *Names) { n.Schema = "a b" }, "Schema"},
		{func(n *Names) { n.EventsTable = "" }, "EventsTable"},
		{func(n *Names) { n.AggregateHeadsTable = "x;" }, "AggregateHeadsTable"},
		{func(n *Names) { n.CheckpointsTable = strings.Repeat("c", 64) }, "CheckpointsTable"},
		{func(n *Names) { n.OrderOffsetTable = "9" }, "OrderOffsetTable"},
		{func(n *Names) { n.CheckpointsTable = n.EventsTable }, "CheckpointsTable"},
	}
	for _, c := range cases {
		n := DefaultNames()
		c.mutate(&n)
		err := n.Validate()
		var ce *ConfigError
		if !errors.Is(err, ErrInvalidConfig) || !errors.As(err, &ce) || ce.Field != c.field || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%+v: %v, want a ConfigError for %s", n, err, c.field)
		}
	}
	if err := ValidateNotifyChannel(""); err != nil {
		t.Errorf("empty channel: %v", err)
	}
	if err := ValidateNotifyChannel("chan;x"); !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "NotifyChannel") {
		t.Errorf("bad channel: %v", err)
	}
}

func TestSchemaSQL(t *testing.T) {
	n := DefaultNames()
	n.Schema = "App"
	a, err := SchemaSQL(n, SchemaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := SchemaSQL(n, SchemaOptions{})
	if a != b {
		t.Fatal("SchemaSQL is not deterministic")
	}
	for _, want := range []string{
		`CREATE SCHEMA IF NOT EXISTS "App"`, `CREATE TABLE IF NOT EXISTS "App"."events"`, `CONSTRAINT "events_event_id_key" UNIQUE (event_id)`,
		`CONSTRAINT "events_aggregate_version_key" UNIQUE (aggregate_type, aggregate_id, aggregate_version)`,
		`ON "App"."events" (transaction_order, global_position)`, `CREATE TABLE IF NOT EXISTS "App"."transaction_order_offset"`,
		`CREATE TRIGGER "events_append_only" BEFORE UPDATE OR DELETE`, `ON CONFLICT DO NOTHING`,
	} {
		if !strings.Contains(a, want) {
			t.Errorf("schema lacks %s", want)
		}
	}
	if strings.Count(a, "CREATE TABLE IF NOT EXISTS") != 7 || strings.Contains(a, "CREATE TABLE ") && strings.Count(a, "CREATE TABLE ") != 7 {
		t.Errorf("want exactly seven idempotent CREATE TABLE statements")
	}
	c, _ := SchemaSQL(n, SchemaOptions{OmitAppendOnlyTrigger: true})
	if strings.Contains(c, "TRIGGER") {
		t.Error("OmitAppendOnlyTrigger left a trigger in")
	}
	if _, err := SchemaSQL(Names{}, SchemaOptions{}); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("zero names: %v, want ErrInvalidConfig", err)
	}
	d, _ := SchemaSQL(DefaultNames(), SchemaOptions{})
	if strings.Contains(d, "CREATE SCHEMA") || strings.Contains(d, `"App"`) {
		t.Error("no schema configured, yet the script names one")
	}
}
