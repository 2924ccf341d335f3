package integration_test

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chronicle-go/chronicle/core"
	"github.com/chronicle-go/chronicle/internal/pgstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// planLogEvents is the size of the log the plans are taken on: enough
// that a plan walking the log from its start shows in the timings.
const planLogEvents = 200_000

// TestPlansOfConsumerStatements shows, with EXPLAIN ANALYZE, the plans of
// the consumer statements on a log of planLogEvents events: the tail
// batch (a cursor a few transactions behind, one of its running ids an
// open transaction without events), catch-up batches (from the start and
// from the middle), a page of a large step, and the lag, each as a custom
// plan, as the plan a long-lived connection ends up with (plan_cache_mode
// auto after repeated executions, as pgx's statement cache runs them), and
// as a forced generic plan. It asserts what keeps the tail cheap: the tail
// batch probes the writer-id index and never walks the primary key from
// the start of the log nor scans the table; pages walk the primary key from
// the last position; the lag samples through the writer-id index; and none
// of these costs enough to be JIT-compiled.
func TestPlansOfConsumerStatements(t *testing.T) {
	needDatabase(t)
	ctx := testContext(t)
	names := newNames()
	migrate(t, names, pgstore.SchemaOptions{})
	pool := newPool(t, 0, 4)
	c := names.Constraints()
	events := pgx.Identifier{names.Schema, names.EventsTable}.Sanitize()

	// The log: many writers (one per chunk), then ANALYZE, as autovacuum
	// would have done on a log this size. mid is a snapshot half-way.
	const chunks = 100
	var mid core.Snapshot
	for i := range chunks {
		if i == chunks/2 {
			mid = planSnapshot(ctx, t, pool)
		}
		from := i*planLogEvents/chunks + 1
		to := (i + 1) * planLogEvents / chunks
		if _, err := pool.Exec(ctx, planSeedSQL(events), from, to); err != nil {
			t.Fatalf("seeding: %v", err)
		}
	}
	if _, err := pool.Exec(ctx, "VACUUM ANALYZE "+events); err != nil {
		t.Fatal(err)
	}

	// The tail: a cursor taken while a transaction of this database holds
	// an id without appending, then a few committed writers after it.
	holder, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Release()
	if _, err := holder.Exec(ctx, "BEGIN"); err != nil {
		t.Fatal(err)
	}
	defer func() { _, _ = holder.Exec(context.WithoutCancel(ctx), "ROLLBACK") }()
	var held int64
	if err := holder.QueryRow(ctx, "SELECT pg_current_xact_id()::text::bigint").Scan(&held); err != nil {
		t.Fatal(err)
	}
	tail := planSnapshot(ctx, t, pool)
	if !strings.Contains(tail.String(), strconv.FormatInt(held, 10)) {
		t.Fatalf("the tail cursor %s does not list the held id %d", tail, held)
	}
	for i := range 5 {
		n := planLogEvents + i + 1
		if _, err := pool.Exec(ctx, planSeedSQL(events), n, n); err != nil {
			t.Fatal(err)
		}
	}
	now := planSnapshot(ctx, t, pool)

	q, err := pgstore.RenderStatements(names, "", pgstore.PayloadArray)
	if err != nil {
		t.Fatal(err)
	}
	ids := func(s core.Snapshot) string {
		parts := make([]string, len(s.Xip))
		for i, id := range s.Xip {
			parts[i] = strconv.FormatInt(id, 10)
		}
		return "'{" + strings.Join(parts, ",") + "}'"
	}
	num := func(v int64) string { return strconv.FormatInt(v, 10) }
	const limit = "500"
	// The scoped statements' trailing parameters: aggregate types, then
	// the partition count and index (0 and 0: not partitioned).
	scope := []string{"'{Refund}'", "0", "0"}
	partition := []string{"'{}'", "8", "3"}
	with := func(args []string, more []string) []string { return append(append([]string{}, args...), more...) }
	empty := core.Snapshot{}
	// A page in the middle of the step from the start to now.
	pagePosition := num(planLogEvents / 2)

	type check func(t *testing.T, plan string)
	tailChecks := []check{usesIndex(c.TransactionOrderIndex), noFullScan(c.EventsPrimaryKey), notJIT}
	cases := []struct {
		name   string
		sql    string
		args   []string
		checks []check
		rows   int // rows the statement must return, -1: not checked
	}{
		{"tail batch", q.ConsumerBatch, []string{num(tail.Xmax), ids(tail), limit}, tailChecks, 5},
		{"tail batch, scoped", q.ConsumerBatchScoped, with([]string{num(tail.Xmax), ids(tail), limit}, scope), tailChecks, -1},
		{"tail batch, one partition of 8", q.ConsumerBatchScoped, with([]string{num(tail.Xmax), ids(tail), limit}, partition), tailChecks, -1},
		{"caught-up batch", q.ConsumerBatch, []string{num(now.Xmax), ids(now), limit}, tailChecks, 1},
		{"catch-up batch from the start", q.ConsumerBatch, []string{"0", "'{}'", limit}, nil, 500},
		{"first batch of a new consumer", q.ConsumerBatchFromStart, []string{"0", "'{}'", limit},
			[]check{walksFromStart(c.EventsPrimaryKey), notJIT}, 500},
		// A rare type may be found through the aggregate key instead.
		{"first batch of a new consumer, scoped", q.ConsumerBatchFromStartScoped, with([]string{"0", "'{}'", limit}, scope),
			[]check{notJIT}, 500},
		{"first batch of a new consumer, one partition of 8", q.ConsumerBatchFromStartScoped, with([]string{"0", "'{}'", limit}, partition),
			[]check{walksFromStart(c.EventsPrimaryKey), notJIT}, 500},
		{"catch-up batch from the middle", q.ConsumerBatch, []string{num(mid.Xmax), ids(mid), limit}, nil, 500},
		{"page", q.ConsumerPage, []string{"0", "'{}'", num(now.Xmin), num(now.Xmax), ids(now), pagePosition, limit},
			[]check{pageFromPosition(c.EventsPrimaryKey), notJIT}, 500},
		{"page, scoped", q.ConsumerPageScoped, with([]string{"0", "'{}'", num(now.Xmin), num(now.Xmax), ids(now), pagePosition, limit}, scope),
			[]check{notJIT}, -1},
		{"page, one partition of 8", q.ConsumerPageScoped, with([]string{"0", "'{}'", num(now.Xmin), num(now.Xmax), ids(now), pagePosition, limit}, partition),
			[]check{pageFromPosition(c.EventsPrimaryKey), notJIT}, 500},
		{"lag from the start", q.Lag, []string{num(empty.Xmax), ids(empty), "0", "0", "'{}'", num(core.LagExactLimit + 1), "0"},
			[]check{usesIndex(c.TransactionOrderIndex), noFullScan(c.EventsPrimaryKey), notJIT}, 1},
		{"lag at the tail", q.Lag, []string{num(tail.Xmax), ids(tail), "0", "0", "'{}'", num(core.LagExactLimit + 1), "0"},
			[]check{usesIndex(c.TransactionOrderIndex), noFullScan(c.EventsPrimaryKey), notJIT}, 1},
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	for _, tc := range cases {
		for _, mode := range []string{"custom", "auto", "generic"} {
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				plan, rows := explainPrepared(ctx, t, conn.Conn(), mode, tc.sql, tc.args)
				t.Logf("%s, %s plan:\n%s", tc.name, mode, plan)
				if tc.rows >= 0 && rows != tc.rows {
					t.Errorf("returned %d rows, want %d", rows, tc.rows)
				}
				for _, ch := range tc.checks {
					ch(t, plan)
				}
			})
		}
	}
}

// TestPlanOfFirstBatchOnALogOfOneWriter shows the first batch of a new
// consumer on a log one transaction wrote (a bulk import, a restore, the
// benchmark's seeded log): the column's statistics then make every
// writer-id condition look selective, and a plan that sorts what they find
// reads the whole log for the first 500 events. The batch must walk the
// primary key from the start and stop at the limit.
func TestPlanOfFirstBatchOnALogOfOneWriter(t *testing.T) {
	needDatabase(t)
	ctx := testContext(t)
	names := newNames()
	migrate(t, names, pgstore.SchemaOptions{})
	pool := newPool(t, 0, 2)
	events := pgx.Identifier{names.Schema, names.EventsTable}.Sanitize()
	if _, err := pool.Exec(ctx, planSeedSQL(events), 1, 20_000); err != nil {
		t.Fatalf("seeding: %v", err)
	}
	if _, err := pool.Exec(ctx, "VACUUM ANALYZE "+events); err != nil {
		t.Fatal(err)
	}
	q, err := pgstore.RenderStatements(names, "", pgstore.PayloadArray)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	for _, mode := range []string{"custom", "auto", "generic"} {
		t.Run(mode, func(t *testing.T) {
			plan, rows := explainPrepared(ctx, t, conn.Conn(), mode, q.ConsumerBatchFromStart, []string{"0", "'{}'", "500"})
			t.Logf("%s plan:\n%s", mode, plan)
			if rows != 500 {
				t.Errorf("returned %d rows, want 500", rows)
			}
			walksFromStart(names.Constraints().EventsPrimaryKey)(t, plan)
		})
	}
}

// planSeedSQL inserts events $1..$2 in one statement, the writer's id from
// the column default. Every 100th event is a Refund, the others Orders.
func planSeedSQL(events string) string {
	return `INSERT INTO ` + events + ` (aggregate_type, aggregate_id, aggregate_version, event_id, event_type, event_version,
    payload, metadata, created_at)
SELECT CASE WHEN i % 100 = 0 THEN 'Refund' ELSE 'Order' END, 'plan-' || (i / 10), i % 10 + 1, gen_random_uuid(),
    'OrderPlaced', 1, convert_to(repeat('x', 200), 'UTF8'), '{}'::jsonb, now()
FROM generate_series($1::bigint, $2::bigint) AS i`
}

// planSnapshot returns the current snapshot (the schema's offset is 0).
func planSnapshot(ctx context.Context, t *testing.T, pool *pgxpool.Pool) core.Snapshot {
	t.Helper()
	var text string
	if err := pool.QueryRow(ctx, "SELECT pg_current_snapshot()::text").Scan(&text); err != nil {
		t.Fatal(err)
	}
	s, err := core.ParseSnapshot(text)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// explainPrepared prepares sql on conn and returns EXPLAIN ANALYZE of its
// execution with args (SQL literals) in the plan mode: "custom" and
// "generic" force that plan; "auto" is the server's default, after the
// statement ran ten times (a cached plan chooses generic after five when
// it looks no worse). It also returns how many rows the execution
// returned.
func explainPrepared(ctx context.Context, t *testing.T, conn *pgx.Conn, mode, sql string, args []string) (string, int) {
	t.Helper()
	exec := func(q string) {
		t.Helper()
		if _, err := conn.Exec(ctx, q, pgx.QueryExecModeSimpleProtocol); err != nil {
			t.Fatalf("%s: %v", strings.SplitN(q, "\n", 2)[0], err)
		}
	}
	setting := map[string]string{"custom": "force_custom_plan", "auto": "auto", "generic": "force_generic_plan"}[mode]
	exec("SET plan_cache_mode = " + setting)
	defer exec("RESET plan_cache_mode")
	exec("PREPARE chronicle_plan AS " + sql)
	defer exec("DEALLOCATE chronicle_plan")
	execute := "EXECUTE chronicle_plan(" + strings.Join(args, ", ") + ")"
	if mode == "auto" {
		for range 10 {
			exec(execute)
		}
	}
	rows, err := conn.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS OFF, FORMAT TEXT) "+execute, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, line)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	plan := strings.Join(lines, "\n")
	// The top node's actual rows.
	m := regexp.MustCompile(`actual time=[0-9.]+\.\.[0-9.]+ rows=(\d+)`).FindStringSubmatch(lines[0])
	if m == nil {
		t.Fatalf("no actual rows on the top node:\n%s", plan)
	}
	n, _ := strconv.Atoi(m[1])
	return plan, n
}

// usesIndex checks that the plan reads the index.
func usesIndex(index string) func(t *testing.T, plan string) {
	return func(t *testing.T, plan string) {
		t.Helper()
		if !strings.Contains(plan, " on "+index) && !strings.Contains(plan, " using "+index) {
			t.Errorf("the plan does not use %s", index)
		}
	}
}

// noFullScan checks that the plan neither scans the events table nor walks
// its primary key: that is reading the log from its start to find its end.
// Probing the key for the highest position (lag's Index Only Scan
// Backward under a Limit) is allowed.
func noFullScan(pkey string) func(t *testing.T, plan string) {
	return func(t *testing.T, plan string) {
		t.Helper()
		if regexp.MustCompile(`Seq Scan on events\b`).MatchString(plan) {
			t.Error("the plan scans the events table")
		}
		for _, line := range strings.Split(plan, "\n") {
			if strings.Contains(line, "using "+pkey) && !strings.Contains(line, "Index Only Scan Backward using "+pkey) {
				t.Errorf("the plan walks the primary key: %s", strings.TrimSpace(line))
			}
		}
	}
}

// pageFromPosition checks that the page walks the primary key from the
// last position delivered.
func pageFromPosition(pkey string) func(t *testing.T, plan string) {
	return func(t *testing.T, plan string) {
		t.Helper()
		if !regexp.MustCompile(`Index Scan using ` + regexp.QuoteMeta(pkey) + ` on events[^\n]*\n\s*Index Cond: \(global_position > `).MatchString(plan) {
			t.Errorf("the page does not walk %s from the last position", pkey)
		}
	}
}

// walksFromStart checks that the first batch of a consumer walks the
// primary key from the start of the log and stops at the batch's end,
// rather than sorting every event it finds through another index.
func walksFromStart(pkey string) func(t *testing.T, plan string) {
	return func(t *testing.T, plan string) {
		t.Helper()
		if !regexp.MustCompile(`Index Scan using ` + regexp.QuoteMeta(pkey) + ` on events`).MatchString(plan) {
			t.Errorf("the batch does not walk %s", pkey)
		}
		if regexp.MustCompile(`Sort Key: [^\n]*global_position`).MatchString(plan) {
			t.Error("the batch sorts the events it found")
		}
	}
}

// notJIT checks that the statement was not JIT-compiled: its estimated
// cost stayed below jit_above_cost, as a statement this cheap must (JIT
// compilation costs tens of milliseconds).
func notJIT(t *testing.T, plan string) {
	t.Helper()
	if strings.Contains(plan, "JIT:") {
		t.Error("the statement was JIT-compiled: its cost estimate is far off")
	}
}
