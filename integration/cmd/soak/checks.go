package main

import (
	"context"
	"fmt"

	"github.com/google/uuid"
)

// invariants are SQL checks, each counting violations: every one must be 0.
var invariants = []struct{ name, query string }{
	{"aggregates whose versions are not 1..n", `SELECT count(*) FROM (SELECT 1 FROM events GROUP BY aggregate_type, aggregate_id
  HAVING min(aggregate_version) <> 1 OR max(aggregate_version) <> count(*) OR count(DISTINCT aggregate_version) <> count(*)) x`},
	{"heads not at their aggregate's last version", `SELECT count(*) FROM aggregate_heads h
  FULL JOIN (SELECT aggregate_type, aggregate_id, max(aggregate_version) v FROM events GROUP BY 1, 2) e USING (aggregate_type, aggregate_id)
  WHERE h.aggregate_version IS DISTINCT FROM e.v`},
	{"repeated global positions", `SELECT count(*) - count(DISTINCT global_position) FROM events`},
	{"repeated event ids", `SELECT count(*) - count(DISTINCT event_id) FROM events`},
	{"events missing from or extra in the projection of all", `SELECT count(*) FROM (SELECT event_id FROM events) e FULL JOIN soak_all p USING (event_id)
  WHERE e.event_id IS NULL OR p.event_id IS NULL`},
	{"events projected twice by all", `SELECT count(*) - count(DISTINCT event_id) FROM soak_all`},
	{"events out of version order in all", `SELECT count(*) FROM (SELECT aggregate_version, row_number() OVER (PARTITION BY aggregate_type, aggregate_id ORDER BY seq) n FROM soak_all) x
  WHERE aggregate_version <> n`},
	{"Order events missing from or extra in the projection of orders", `SELECT count(*) FROM (SELECT event_id FROM events WHERE aggregate_type = 'Order') e
  FULL JOIN soak_orders p USING (event_id) WHERE e.event_id IS NULL OR p.event_id IS NULL`},
	{"events projected twice by orders", `SELECT count(*) - count(DISTINCT event_id) FROM soak_orders`},
	{"events out of version order in orders", `SELECT count(*) FROM (SELECT aggregate_version, row_number() OVER (PARTITION BY aggregate_id ORDER BY seq) n FROM soak_orders) x
  WHERE aggregate_version <> n`},
	{"aggregates whose projected version is not the head's", `SELECT count(*) FROM aggregate_heads h FULL JOIN soak_versions v USING (aggregate_type, aggregate_id)
  WHERE h.aggregate_version IS DISTINCT FROM v.aggregate_version`},
}

// checkInvariants runs the SQL invariants and compares the log with the
// writers' ledger; it fills the report's figures from the database.
func (s *soak) checkInvariants(ctx context.Context, r *report) []error {
	var errs []error
	for _, inv := range invariants {
		var n int64
		if err := s.check.QueryRow(ctx, inv.query).Scan(&n); err != nil {
			errs = append(errs, fmt.Errorf("error checking %s: %w", inv.name, err))
			continue
		}
		r.invariants = append(r.invariants, invariantResult{inv.name, n})
		if n != 0 {
			errs = append(errs, fmt.Errorf("%d %s", n, inv.name))
		}
	}
	if err := s.check.QueryRow(ctx, `SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM aggregate_heads),
  (SELECT count(*) FROM soak_all), (SELECT count(*) FROM soak_orders), (SELECT coalesce(sum(aggregate_version), 0) FROM soak_versions)`).
		Scan(&r.stored, &r.aggregates, &r.projectedAll, &r.projectedOrders, &r.projectedVersions); err != nil {
		errs = append(errs, err)
	}
	stored := map[uuid.UUID]bool{}
	rows, err := s.check.Query(ctx, "SELECT event_id FROM events")
	if err != nil {
		return append(errs, err)
	}
	for rows.Next() {
		var id uuid.UUID
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return append(errs, err)
		}
		stored[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return append(errs, err)
	}
	l := s.ledger
	for id := range l.committed {
		if !stored[id] {
			r.lost++
		}
	}
	for id := range l.ambiguous {
		if stored[id] {
			r.ambiguousCommitted++
		}
	}
	for id := range stored {
		if !l.committed[id] && !l.ambiguous[id] {
			r.phantom++
		}
		if l.rolledBack[id] {
			r.rolledBackStored++
		}
	}
	if r.lost > 0 {
		errs = append(errs, fmt.Errorf("%d committed events lost", r.lost))
	}
	if r.phantom > 0 {
		errs = append(errs, fmt.Errorf("%d stored events no writer committed", r.phantom))
	}
	if r.rolledBackStored > 0 {
		errs = append(errs, fmt.Errorf("%d events of failed or rolled-back appends stored", r.rolledBackStored))
	}
	if n := s.stats.readViolations.Load(); n > 0 {
		errs = append(errs, fmt.Errorf("%d reads saw versions or positions out of order", n))
	}
	if n := s.stats.orderViolations.Load(); n > 0 {
		errs = append(errs, fmt.Errorf("the versions consumer got %d events out of order", n))
	}
	return errs
}
