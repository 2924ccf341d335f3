package main

import (
	"strings"
	"testing"
)

// TestNamingFlagsNeverCarrySQL: every flag that names a database object
// rejects anything but a plain identifier, with exit status 2 and the
// field named, before any connection is tried (the URL leads nowhere).
func TestNamingFlagsNeverCarrySQL(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	fields := map[string]string{
		"-schema": "Schema", "-events-table": "EventsTable", "-aggregate-heads-table": "AggregateHeadsTable",
		"-checkpoints-table": "CheckpointsTable", "-order-offset-table": "OrderOffsetTable",
	}
	hostile := []string{`x"; DROP TABLE events; --`, "x' OR '1'='1", "x y", "1x", "x-y", "x.y", "$1", "x\x00", "é", strings.Repeat("x", 64)}
	for flag, field := range fields {
		for _, value := range hostile {
			code, stdout, stderr := chronicle(t, "-database-url", "postgres://nowhere.invalid:1/x", flag, value, "status")
			if code != 2 || !strings.Contains(stderr, field) || stdout != "" {
				t.Errorf("%s %q: exit %d, stdout %q, stderr %q; want 2 naming %s", flag, value, code, stdout, stderr, field)
			}
		}
	}
}
