package pgstore_test

import (
	"fmt"
	"strings"

	"github.com/chronicle-go/chronicle/internal/pgstore"
)

// Configured names are validated before they reach SQL, and quoted when
// they do, so case and reserved words are kept.
func ExampleValidateIdentifier() {
	for _, name := range []string{"events", "Billing_Events", "user", "2024_events", "events; DROP TABLE users"} {
		if err := pgstore.ValidateIdentifier(name); err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(pgstore.QuoteIdentifier(name))
	}
	// Output:
	// "events"
	// "Billing_Events"
	// "user"
	// invalid identifier "2024_events": must not start with a digit
	// invalid identifier "events; DROP TABLE users": may only contain ASCII letters, digits and underscores
}

// The schema for custom names, as migrate-gen writes it.
func ExampleSchemaSQL() {
	names := pgstore.DefaultNames()
	names.Schema = "billing"
	names.EventsTable = "billing_events"
	ddl, err := pgstore.SchemaSQL(names, pgstore.SchemaOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, line := range strings.Split(ddl, "\n") {
		if strings.HasPrefix(line, "CREATE TABLE") || strings.HasPrefix(line, "CREATE SCHEMA") {
			fmt.Println(line)
		}
	}
	// Output:
	// CREATE SCHEMA IF NOT EXISTS "billing";
	// CREATE TABLE IF NOT EXISTS "billing"."billing_events" (
	// CREATE TABLE IF NOT EXISTS "billing"."aggregate_heads" (
	// CREATE TABLE IF NOT EXISTS "billing"."consumer_checkpoints" (
	// CREATE TABLE IF NOT EXISTS "billing"."transaction_order_offset" (
	// CREATE TABLE IF NOT EXISTS "billing"."billing_events_schema_version" (
	// CREATE TABLE IF NOT EXISTS "billing"."billing_events_snapshots" (
	// CREATE TABLE IF NOT EXISTS "billing"."billing_events_subject_keys" (
}
