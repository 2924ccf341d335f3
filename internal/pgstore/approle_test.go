package pgstore

import (
	"errors"
	"strings"
	"testing"
)

// TestSchemaAppRoleGrantsLeastPrivilege: the role's grants are exactly the
// documented ones, never UPDATE or DELETE on the events table (DELETE on checkpoints, from migration 0002, lets operations remove a consumer;
// snapshots, from migration 0003, may be upserted but not deleted; on the
// subject keys, from migration 0004, DELETE forgets a subject and UPDATE of
// the wrapped key alone rotates the wrapping key).
func TestSchemaAppRoleGrantsLeastPrivilege(t *testing.T) {
	names := DefaultNames()
	names.Schema = "es"
	ddl, err := SchemaSQL(names, SchemaOptions{AppRole: "chronicle_app"})
	if err != nil {
		t.Fatal(err)
	}
	var grants []string
	for _, line := range strings.Split(ddl, "\n") {
		if strings.HasPrefix(line, "GRANT ") {
			grants = append(grants, line)
		}
	}
	want := []string{
		`GRANT USAGE ON SCHEMA "es" TO "chronicle_app";`,
		`GRANT SELECT, INSERT ON "es"."events" TO "chronicle_app";`,
		`GRANT SELECT, INSERT, UPDATE ON "es"."aggregate_heads" TO "chronicle_app";`,
		`GRANT SELECT, INSERT, UPDATE ON "es"."consumer_checkpoints" TO "chronicle_app";`,
		`GRANT SELECT ON "es"."transaction_order_offset" TO "chronicle_app";`,
		`GRANT SELECT ON "es"."events_schema_version" TO "chronicle_app";`,
		`GRANT DELETE ON "es"."consumer_checkpoints" TO "chronicle_app";`,
		`GRANT SELECT, INSERT, UPDATE ON "es"."events_snapshots" TO "chronicle_app";`,
		`GRANT SELECT, INSERT, DELETE ON "es"."events_subject_keys" TO "chronicle_app";`,
		`GRANT UPDATE (wrapped_key, wrapping_key_id) ON "es"."events_subject_keys" TO "chronicle_app";`,
	}
	if strings.Join(grants, "\n") != strings.Join(want, "\n") {
		t.Fatalf("grants:\n%s\nwant:\n%s", strings.Join(grants, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(ddl, `CREATE ROLE "chronicle_app" NOLOGIN;`) || !strings.Contains(ddl, "rolname = 'chronicle_app'") {
		t.Fatalf("the role is not created when missing:\n%s", ddl)
	}
	plain, err := SchemaSQL(names, SchemaOptions{})
	if err != nil || strings.Contains(plain, "GRANT") || strings.Contains(plain, "ROLE") {
		t.Fatalf("a schema without AppRole grants or creates roles: %v", err)
	}
}

// TestSchemaAppRoleRejectsNonIdentifiers: a role name can never carry SQL.
func TestSchemaAppRoleRejectsNonIdentifiers(t *testing.T) {
	for _, role := range []string{`app"; DROP TABLE events; --`, "app' OR '1'='1", "app role", "1app", "app-role", "app\x00", strings.Repeat("r", 64), "rôle", "$1"} {
		_, err := SchemaSQL(DefaultNames(), SchemaOptions{AppRole: role})
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Field != "AppRole" || ce.Value != role || !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("AppRole %q: %v, want a *ConfigError for AppRole", role, err)
		}
	}
}
