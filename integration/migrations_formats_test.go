package integration_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"go/build"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	atlasmigrate "ariga.io/atlas/sql/migrate"
	atlaspostgres "ariga.io/atlas/sql/postgres"
	pgxstore "github.com/chronicle-go/chronicle/adapters/postgres-pgx"
	"github.com/chronicle-go/chronicle/core"
	"github.com/chronicle-go/chronicle/internal/pgstore"
	"github.com/chronicle-go/chronicle/internal/pgtest"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The migration tools, at the versions the README shows, run as a user
// runs them: go run PACKAGE@VERSION. Each is built once per test run with
// go install PACKAGE@VERSION (the same module resolution) into a folder of
// the test's, so that later runs cost a link from the build cache.
const (
	gooseCommand   = "github.com/pressly/goose/v3/cmd/goose@v3.30.0"
	migrateCommand = "github.com/golang-migrate/migrate/v4/cmd/migrate@v4.20.1"
)

// gooseTags leave the drivers of other databases out of goose's binary
// (its PostgreSQL driver, pgx's stdlib, stays): the same code path for
// PostgreSQL, a third of the compile time on a cold cache.
const gooseTags = "no_clickhouse,no_libsql,no_mssql,no_mysql,no_sqlite3,no_vertica,no_ydb"

// migrateTags builds golang-migrate's CLI with its postgres driver (lib/pq)
// only, as go run -tags postgres does.
const migrateTags = "postgres"

// migrationTools are the binaries the tests run.
type migrationTools struct {
	migrateGen, goose, migrate string
}

// buildMigrationTools builds migrate-gen from this repository and the
// migration tools from the module proxy into t's temporary folder. Outside
// CI a failed build (no network) skips t; under CI=true it fails.
func buildMigrationTools(t *testing.T) migrationTools {
	t.Helper()
	dir := t.TempDir()
	tools := migrationTools{
		migrateGen: filepath.Join(dir, "migrate-gen"),
		goose:      filepath.Join(dir, "goose"),
		migrate:    filepath.Join(dir, "migrate"),
	}
	goCmd := filepath.Join(build.Default.GOROOT, "bin", "go")
	ctx, cancel := context.WithTimeout(t.Context(), 8*time.Minute)
	defer cancel()
	builds := []struct {
		what string
		dir  string
		env  []string
		args []string
	}{
		{"migrate-gen", "../tools/migrate-gen", nil, []string{"build", "-o", tools.migrateGen, "."}},
		{gooseCommand, dir, []string{"GOBIN=" + dir, "GOWORK=off"}, []string{"install", "-tags", gooseTags, gooseCommand}},
		{migrateCommand, dir, []string{"GOBIN=" + dir, "GOWORK=off"}, []string{"install", "-tags", migrateTags, migrateCommand}},
	}
	errs := make([]error, len(builds))
	var wg sync.WaitGroup
	for i, b := range builds {
		wg.Go(func() {
			cmd := exec.CommandContext(ctx, goCmd, b.args...)
			cmd.Dir = b.dir
			cmd.Env = append(os.Environ(), b.env...)
			if out, err := cmd.CombinedOutput(); err != nil {
				errs[i] = fmt.Errorf("building %s: %v\n%s", b.what, err, out)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err == nil {
			continue
		}
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skipf("the migration tools cannot be built here (the module proxy is needed once): %v", err)
	}
	return tools
}

// runTool runs a tool and returns its output (standard output and
// error). The database URL dbURL never appears in a failure with its
// password.
func runTool(t *testing.T, ctx context.Context, dbURL, bin string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		redact := strings.NewReplacer()
		if dbURL != "" {
			redact = strings.NewReplacer(dbURL, redactURL(dbURL))
		}
		t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), redact.Replace(strings.Join(args, " ")), err, redact.Replace(string(out)))
	}
	return string(out)
}

// runToolFailing runs a tool that must fail and returns its output.
func runToolFailing(t *testing.T, ctx context.Context, dbURL, bin string, args ...string) string {
	t.Helper()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if err == nil {
		t.Fatalf("%s %s succeeded, want a failure:\n%s", filepath.Base(bin), strings.Join(args, " "),
			strings.NewReplacer(dbURL, redactURL(dbURL)).Replace(string(out)))
	}
	return string(out)
}

// irreversible is what the down script of a migration that cannot be
// reverted (0002_snapshot_cursor: it rewrites the append-only log's
// meaning) fails with.
const irreversible = "cannot be reverted"

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "<database URL>"
	}
	return u.Redacted()
}

// generate runs migrate-gen with args into dir.
func (tools migrationTools) generate(t *testing.T, ctx context.Context, dir string, args ...string) {
	t.Helper()
	runTool(t, ctx, "", tools.migrateGen, append([]string{"-output", dir}, args...)...)
}

// newThrowawayDatabase creates a database of t's own on the package's
// server and drops it when t ends.
func newThrowawayDatabase(t *testing.T, ctx context.Context) string {
	t.Helper()
	needDatabase(t)
	server := &pgtest.Server{URL: databaseURL}
	name := "chronicle_mig_" + strings.ToLower(rand.Text()[:12])
	u, err := server.CreateDatabase(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := server.DropDatabase(ctx, name); err != nil {
			t.Error(err)
		}
	})
	return u
}

// withQuery returns u with the query parameter key set to value.
func withQuery(t *testing.T, u, key, value string) string {
	t.Helper()
	parsed, err := url.Parse(u)
	if err != nil {
		t.Fatal("parsing the database URL failed")
	}
	q := parsed.Query()
	q.Set(key, value)
	parsed.RawQuery = q.Encode()
	return parsed.String()
}

// versionsTable is the schema version table of names (short names only:
// pgstore shortens long ones with a hash).
func versionsTable(names pgstore.Names) string { return names.SchemaVersionTable() }

// migrationCount is the number of Chronicle's migrations: numbers may
// skip (a schema's version is its highest), so it can be below
// SchemaVersion.
func migrationCount(t *testing.T) int {
	t.Helper()
	migrations, err := pgstore.Migrations(pgstore.DefaultNames(), pgstore.SchemaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return len(migrations)
}

// storeRelations are the qualified, quoted names of the store's tables
// and of its append-only function, with its argument list.
func storeRelations(names pgstore.Names) (tables []string, function string) {
	q := func(name string) string {
		if names.Schema == "" {
			return pgx.Identifier{name}.Sanitize()
		}
		return pgx.Identifier{names.Schema, name}.Sanitize()
	}
	for _, table := range []string{names.EventsTable, names.AggregateHeadsTable, names.CheckpointsTable,
		names.OrderOffsetTable, names.SubjectKeysTable(), versionsTable(names)} {
		tables = append(tables, q(table))
	}
	return tables, q(names.Constraints().AppendOnlyFunction) + "()"
}

func connect(t *testing.T, ctx context.Context, dbURL string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("connecting to the test database: %v", err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// assertMigrated checks that dbURL holds the store's tables for names with
// every migration recorded, and that the pgx store appends and reads there
// (its first use checks the schema version).
func assertMigrated(t *testing.T, ctx context.Context, dbURL string, names pgstore.Names) {
	t.Helper()
	conn := connect(t, ctx, dbURL)
	tables, function := storeRelations(names)
	for _, table := range append(tables, function) {
		var exists bool
		query := "SELECT to_regclass($1) IS NOT NULL"
		if table == function {
			query = "SELECT to_regprocedure($1) IS NOT NULL"
		}
		if err := conn.QueryRow(ctx, query, table).Scan(&exists); err != nil {
			t.Fatal(err)
		}
		if !exists {
			t.Errorf("%s is missing after the migration", table)
		}
	}
	var latest, count int
	err := conn.QueryRow(ctx, "SELECT COALESCE(max(version), 0), count(*) FROM "+tables[len(tables)-1]).Scan(&latest, &count)
	if err != nil {
		t.Fatal(err)
	}
	if latest != pgstore.SchemaVersion || count != migrationCount(t) {
		t.Errorf("the version table's highest version is %d over %d rows, want %d over %d", latest, count, pgstore.SchemaVersion, migrationCount(t))
	}

	r := pgxRigFor(storePool(t, ctx, dbURL), mustPgxStore(t, names), names)
	events := newEvents("Order", 2)
	r.appendCommitted(t, ctx, core.NoStream(), events...)
	if s := r.readStream(t, ctx, "Order", events[0].AggregateID); s.Len() != 2 {
		t.Errorf("read %d events back, want 2", s.Len())
	}
}

// assertReverted checks that the store's tables and function are gone.
func assertReverted(t *testing.T, ctx context.Context, dbURL string, names pgstore.Names) {
	t.Helper()
	conn := connect(t, ctx, dbURL)
	tables, function := storeRelations(names)
	var left []string
	err := conn.QueryRow(ctx, `SELECT COALESCE(array_agg(n) FILTER (WHERE to_regclass(n) IS NOT NULL), '{}')
		|| COALESCE(array_agg($2::text) FILTER (WHERE to_regprocedure($2) IS NOT NULL), '{}')
		FROM unnest($1::text[]) AS n`, tables, function).Scan(&left)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("still there after reverting: %s", strings.Join(left, ", "))
	}
}

func storePool(t *testing.T, ctx context.Context, dbURL string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func mustPgxStore(t *testing.T, names pgstore.Names) *pgxstore.Store {
	t.Helper()
	store, err := pgxstore.NewStore(pgxConfig(names))
	if err != nil {
		t.Fatal(err)
	}
	return store
}

// migrationTimes collects how long each tool's test took, for one line at
// the end.
type migrationTimes struct {
	mu    sync.Mutex
	parts []string
}

func (m *migrationTimes) add(what string, start time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.parts = append(m.parts, fmt.Sprintf("%s %.1fs", what, time.Since(start).Seconds()))
}

// The migrations migrate-gen writes apply and revert with the real tools:
// goose and golang-migrate (their CLIs), Atlas (its migrate package: the
// atlas.sum check and its executor), and the plain SQL files in a
// transaction each. A database created by the first release's unversioned
// schema, with events and checkpoints, upgrades through goose and
// golang-migrate with nothing lost.
func TestMigrationFormats(t *testing.T) {
	needDatabase(t)
	start := time.Now()
	tools := buildMigrationTools(t)
	built := time.Since(start)
	var times migrationTimes
	t.Run("tools", func(t *testing.T) {
		t.Run("goose", func(t *testing.T) {
			t.Parallel()
			defer times.add("goose", time.Now())
			testGoose(t, tools)
		})
		t.Run("golang-migrate", func(t *testing.T) {
			t.Parallel()
			defer times.add("golang-migrate", time.Now())
			testGolangMigrate(t, tools)
		})
		t.Run("atlas", func(t *testing.T) {
			t.Parallel()
			defer times.add("atlas", time.Now())
			testAtlas(t, tools)
		})
		t.Run("sql", func(t *testing.T) {
			t.Parallel()
			defer times.add("sql", time.Now())
			testPlainSQL(t, tools)
		})
		for _, tool := range []string{"golang-migrate", "goose"} {
			t.Run("upgrade from the first release with "+tool, func(t *testing.T) {
				t.Parallel()
				defer times.add("upgrade with "+tool, time.Now())
				testUpgradeFromFirstRelease(t, tools, tool)
			})
		}
	})
	summary := fmt.Sprintf("migration formats: tools built in %.1fs; %s; %.1fs in all",
		built.Seconds(), strings.Join(times.parts, ", "), time.Since(start).Seconds())
	t.Log(summary)
	fmt.Fprintln(os.Stderr, summary)
}

// goose applies every migration and reports them applied, with a version
// table of its own; reverting stops at 0002, which cannot be reverted.
func testGoose(t *testing.T, tools migrationTools) {
	ctx := testContext(t)
	dbURL := newThrowawayDatabase(t, ctx)
	dir := t.TempDir()
	names := pgstore.DefaultNames()
	names.Schema = "es"
	tools.generate(t, ctx, dir, "-format", "goose", "-schema", names.Schema)
	goose := func(args ...string) string {
		return runTool(t, ctx, dbURL, tools.goose, append([]string{"-dir", dir, "-table", "chronicle_goose_db_version", "postgres", dbURL}, args...)...)
	}
	goose("up")
	assertMigrated(t, ctx, dbURL, names)
	status := goose("status")
	migrations, err := pgstore.Migrations(names, pgstore.SchemaOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range migrations {
		if file := fmt.Sprintf("%04d_chronicle_%s.sql", m.Version, m.Name); !strings.Contains(status, file) {
			t.Errorf("goose status does not list %s:\n%s", file, status)
		}
	}
	if strings.Contains(status, "Pending") {
		t.Errorf("goose status lists a pending migration after up:\n%s", status)
	}
	if v := goose("version"); !strings.Contains(v, fmt.Sprintf("version %d", pgstore.SchemaVersion)) {
		t.Errorf("goose version: %s, want %d", v, pgstore.SchemaVersion)
	}
	// The last migration cannot be reverted: its down fails, in its
	// transaction, and leaves the schema and goose's record at the schema
	// version.
	out := runToolFailing(t, ctx, dbURL, tools.goose, "-dir", dir, "-table", "chronicle_goose_db_version", "postgres", dbURL, "down-to", "0")
	if !strings.Contains(out, irreversible) {
		t.Errorf("goose down-to 0: want the migration's %q error:\n%s", irreversible, out)
	}
	assertMigrated(t, ctx, dbURL, names)
	if v := goose("version"); !strings.Contains(v, fmt.Sprintf("version %d", pgstore.SchemaVersion)) {
		t.Errorf("goose version after the failed revert: %s, want %d", v, pgstore.SchemaVersion)
	}
}

// golang-migrate applies every migration, with a version table of its own
// (x-migrations-table); reverting stops at 0002, which cannot be reverted.
func testGolangMigrate(t *testing.T, tools migrationTools) {
	ctx := testContext(t)
	dbURL := newThrowawayDatabase(t, ctx)
	dir := t.TempDir()
	names := pgstore.DefaultNames()
	names.EventsTable = "ledger"
	tools.generate(t, ctx, dir, "-format", "golang-migrate", "-events-table", names.EventsTable)
	migrateURL := withQuery(t, dbURL, "x-migrations-table", "chronicle_schema_migrations")
	run := func(args ...string) string {
		return runTool(t, ctx, migrateURL, tools.migrate, append([]string{"-path", dir, "-database", migrateURL}, args...)...)
	}
	run("up")
	assertMigrated(t, ctx, dbURL, names)
	if v := strings.TrimSpace(run("version")); v != fmt.Sprint(pgstore.SchemaVersion) {
		t.Errorf("migrate version: %q, want %d", v, pgstore.SchemaVersion)
	}
	// The last migration cannot be reverted: its down fails, in its
	// transaction, and leaves the schema at the schema version.
	out := runToolFailing(t, ctx, migrateURL, tools.migrate, "-path", dir, "-database", migrateURL, "down", "-all")
	if !strings.Contains(out, irreversible) {
		t.Errorf("migrate down -all: want the migration's %q error:\n%s", irreversible, redactURL(out))
	}
	assertMigrated(t, ctx, dbURL, names)
}

// The plain files apply as a user would with psql --single-transaction -f:
// every .sql file of the folder in name order, then the down folder's in
// reverse.
func testPlainSQL(t *testing.T, tools migrationTools) {
	ctx := testContext(t)
	dbURL := newThrowawayDatabase(t, ctx)
	dir := t.TempDir()
	names := pgstore.DefaultNames()
	tools.generate(t, ctx, dir) // the default format
	conn := connect(t, ctx, dbURL)
	applyFile := func(f string) error {
		script, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, string(script), pgx.QueryExecModeSimpleProtocol)
			return err
		})
	}
	apply := func(files []string) {
		for _, f := range files {
			if err := applyFile(f); err != nil {
				t.Fatalf("applying %s: %v", filepath.Base(f), err)
			}
		}
	}
	ups, _ := filepath.Glob(filepath.Join(dir, "*.sql"))
	downs, _ := filepath.Glob(filepath.Join(dir, "down", "*.sql"))
	if n := migrationCount(t); len(ups) != n || len(downs) != n {
		t.Fatalf("%d up and %d down files, want %d of each", len(ups), len(downs), n)
	}
	apply(ups)
	apply(ups) // idempotent
	assertMigrated(t, ctx, dbURL, names)
	// The downs of 0005, 0004, 0003 and 0002 fail and change nothing; 0001's drops the
	// tables, data and all.
	slices.Reverse(downs)
	for _, down := range downs[:len(downs)-1] {
		if err := applyFile(down); err == nil || !strings.Contains(err.Error(), irreversible) {
			t.Fatalf("applying %s: %v, want the %q error", filepath.Base(down), err, irreversible)
		}
		assertMigrated(t, ctx, dbURL, names)
	}
	apply(downs[len(downs)-1:])
	assertReverted(t, ctx, dbURL, names)
}

// atlas.sum is what Atlas computes for the folder, Atlas validates the
// folder, and Atlas's executor applies the files, each in a transaction
// as atlas migrate apply does by default.
func testAtlas(t *testing.T, tools migrationTools) {
	ctx := testContext(t)
	dbURL := newThrowawayDatabase(t, ctx)
	dir := t.TempDir()
	names := pgstore.DefaultNames()
	names.Schema = "es"
	tools.generate(t, ctx, dir, "-format", "atlas", "-schema", names.Schema)
	local, err := atlasmigrate.NewLocalDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files, err := local.Files()
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != migrationCount(t) {
		t.Fatalf("Atlas finds %d migration files, want %d", len(files), migrationCount(t))
	}
	sum, err := atlasmigrate.NewHashFile(files)
	if err != nil {
		t.Fatal(err)
	}
	want, err := sum.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, atlasmigrate.HashFileName))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("atlas.sum:\n%s\nAtlas computes:\n%s", got, want)
	}
	if err := atlasmigrate.Validate(local); err != nil {
		t.Fatalf("Atlas rejects the folder: %v", err)
	}

	db, err := sql.Open("postgres", dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	revisions := &atlasRevisions{}
	for range files {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		drv, err := atlaspostgres.Open(tx)
		if err != nil {
			t.Fatal(err)
		}
		ex, err := atlasmigrate.NewExecutor(drv, local, revisions)
		if err != nil {
			t.Fatal(err)
		}
		if err := ex.ExecuteN(ctx, 1); err != nil {
			_ = tx.Rollback()
			t.Fatalf("Atlas's executor: %v", err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	assertMigrated(t, ctx, dbURL, names)
}

// atlasRevisions keeps Atlas's revisions in memory (the CLI keeps them in
// its atlas_schema_revisions table).
type atlasRevisions struct{ revs []*atlasmigrate.Revision }

func (r *atlasRevisions) Ident() *atlasmigrate.TableIdent {
	return &atlasmigrate.TableIdent{Schema: "atlas_schema_revisions", Name: "atlas_schema_revisions"}
}

func (r *atlasRevisions) ReadRevisions(context.Context) ([]*atlasmigrate.Revision, error) {
	return slices.Clone(r.revs), nil
}

func (r *atlasRevisions) ReadRevision(_ context.Context, version string) (*atlasmigrate.Revision, error) {
	for _, rev := range r.revs {
		if rev.Version == version {
			return rev, nil
		}
	}
	return nil, atlasmigrate.ErrRevisionNotExist
}

func (r *atlasRevisions) WriteRevision(_ context.Context, rev *atlasmigrate.Revision) error {
	for i, old := range r.revs {
		if old.Version == rev.Version {
			r.revs[i] = rev
			return nil
		}
	}
	r.revs = append(r.revs, rev)
	return nil
}

func (r *atlasRevisions) DeleteRevision(_ context.Context, version string) error {
	r.revs = slices.DeleteFunc(r.revs, func(rev *atlasmigrate.Revision) bool { return rev.Version == version })
	return nil
}

// testdata/first_release_schema.sql is the first release's schema exactly as
// its migrate-gen wrote it (tools/migrate-gen/testdata/default.golden at
// commit 20da506): unversioned, with every table of revision 1.
const firstReleaseSchema = "testdata/first_release_schema.sql"

// firstReleaseAppend appends events to an aggregate as the first release's
// store did, in a transaction of its own (see firstReleaseAppendTx).
func firstReleaseAppend(t *testing.T, ctx context.Context, conn *pgx.Conn, from int64, events []core.Event) []core.PersistedEvent {
	t.Helper()
	var stored []core.PersistedEvent
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		var err error
		stored, err = firstReleaseAppendTx(ctx, tx, from, events)
		return err
	})
	if err != nil {
		t.Fatalf("appending with the first release's statements: %v", err)
	}
	return stored
}

// firstReleaseAppendTx appends events to an aggregate in tx as the first
// release's store did: the head row moved to the new version and to
// GREATEST(its transaction order, the writer's: its transaction id plus the
// order offset), and every event stamped with the head's new order. It
// writes plain SQL on the first release's tables (default names), so that
// it stays right when later migrations change them, and returns the events
// as stored, their TransactionID the order they got.
func firstReleaseAppendTx(ctx context.Context, tx pgx.Tx, from int64, events []core.Event) ([]core.PersistedEvent, error) {
	var order int64
	to := from + int64(len(events))
	err := tx.QueryRow(ctx, `INSERT INTO aggregate_heads AS h (aggregate_type, aggregate_id, aggregate_version, transaction_order)
		VALUES ($1, $2, $3, pg_current_xact_id()::text::bigint + (SELECT order_offset FROM transaction_order_offset))
		ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE
		SET aggregate_version = EXCLUDED.aggregate_version, transaction_order = GREATEST(h.transaction_order, EXCLUDED.transaction_order)
		RETURNING h.transaction_order`,
		events[0].AggregateType, events[0].AggregateID, to).Scan(&order)
	if err != nil {
		return nil, err
	}
	var stored []core.PersistedEvent
	for i, e := range events {
		p := core.PersistedEvent{
			AggregateType: e.AggregateType, AggregateID: e.AggregateID, EventID: e.EventID, EventType: e.EventType,
			EventVersion: e.EventVersion, Payload: e.Payload, Metadata: e.Metadata, CreatedAt: e.CreatedAt,
			TraceID: e.TraceID, CorrelationID: e.CorrelationID, CausationID: e.CausationID,
			AggregateVersion: from + int64(i) + 1, TransactionID: order,
		}
		var metadata any
		if e.Metadata != nil {
			metadata = string(e.Metadata)
		}
		err := tx.QueryRow(ctx, `INSERT INTO events (aggregate_type, aggregate_id, aggregate_version, event_id, event_type,
			event_version, payload, metadata, created_at, trace_id, correlation_id, causation_id, transaction_order)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9, $10, $11, $12, $13) RETURNING global_position`,
			p.AggregateType, p.AggregateID, p.AggregateVersion, p.EventID, p.EventType, p.EventVersion, p.Payload, metadata,
			p.CreatedAt, nullText(p.TraceID), nullText(p.CorrelationID), nullText(p.CausationID), order).Scan(&p.GlobalPosition)
		if err != nil {
			return nil, err
		}
		stored = append(stored, p)
	}
	return stored, nil
}

// v1Cursor is a first-release checkpoint's cursor: the consumer had
// delivered every event with (transaction_order, global_position) at or
// before (Order, Position).
type v1Cursor struct{ Order, Position int64 }

// v1CursorAt is the cursor of a first-release consumer that had just
// delivered e.
func v1CursorAt(e core.PersistedEvent) v1Cursor {
	return v1Cursor{Order: e.TransactionID, Position: e.GlobalPosition}
}

// delivered reports whether a first-release consumer at c had delivered e
// (stored in the first release: its TransactionID is its order).
func (c v1Cursor) delivered(e core.PersistedEvent) bool {
	return e.TransactionID < c.Order || (e.TransactionID == c.Order && e.GlobalPosition <= c.Position)
}

// writeV1Checkpoint stores a first-release checkpoint at c with cp's other
// fields, in the first release's columns (default names).
//
// A first-release consumer reached c only once its frontier, the oldest
// transaction id running in the cluster, had passed every id below
// c.Order: the migration relies on that. So it first waits until no
// transaction of the cluster below c.Order runs any more (the shared
// server's other tests may hold one for a while); a cursor fabricated
// before that would claim an id as delivered that the server still lists
// as running, which no first release could have written.
func writeV1Checkpoint(t *testing.T, ctx context.Context, conn *pgx.Conn, cp core.Checkpoint, c v1Cursor) {
	t.Helper()
	for {
		var xmin int64
		if err := conn.QueryRow(ctx, "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint + (SELECT order_offset FROM transaction_order_offset)").Scan(&xmin); err != nil {
			t.Fatalf("reading the cluster's oldest running transaction: %v", err)
		}
		if xmin >= c.Order {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("a transaction below order %d still runs in the cluster (oldest %d): %v", c.Order, xmin, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
	var stoppedAt, lastError, lastErrorPosition, lastErrorAt any
	if !cp.StoppedAt.IsZero() {
		stoppedAt, lastError, lastErrorPosition, lastErrorAt = cp.StoppedAt, cp.LastError, cp.LastErrorPosition, cp.LastErrorAt
	}
	_, err := conn.Exec(ctx, `INSERT INTO consumer_checkpoints (consumer_name, transaction_order, global_position, updated_at,
		owner, failed_attempts, stopped_at, last_error, last_error_position, last_error_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		cp.ConsumerName, c.Order, c.Position, cp.UpdatedAt, cp.Owner, cp.FailedAttempts,
		stoppedAt, lastError, lastErrorPosition, lastErrorAt)
	if err != nil {
		t.Fatalf("writing the first release's checkpoint %s: %v", cp.ConsumerName, err)
	}
}

// drainConsumer reads consumer batches of limit events from cursor until
// one read from outside a page comes back empty (a page may end empty: the
// step it pages through had exactly the events read before), and returns
// every event read, in delivery order, and the cursor reached.
func drainConsumer[TX any](t *testing.T, ctx context.Context, cs core.ConsumerStore[TX], cursor core.Cursor, types []string, limit int) ([]core.PersistedEvent, core.Cursor) {
	t.Helper()
	var out []core.PersistedEvent
	for range 10000 {
		tx, err := cs.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		batch, err := cs.ReadConsumerBatch(ctx, tx, cursor, core.ConsumerScope{AggregateTypes: types}, limit)
		_ = cs.Rollback(ctx, tx)
		if err != nil {
			t.Fatalf("reading the batch after %s: %v", cursor, err)
		}
		out = append(out, batch.Events...)
		paging := cursor.Paging()
		cursor = batch.Next
		if len(batch.Events) == 0 && !paging {
			return out, cursor
		}
	}
	t.Fatalf("no end to the batches after %d events", len(out))
	return nil, core.Cursor{}
}

func nullText(s core.NullString) any {
	if !s.Valid {
		return nil
	}
	return s.String
}

// firstReleaseEvents are n events of one aggregate with every field set.
func firstReleaseEvents(aggregateType, aggregateID string, n int, at time.Time) []core.Event {
	events := make([]core.Event, n)
	for i := range events {
		events[i] = core.Event{
			AggregateType: aggregateType, AggregateID: aggregateID, EventID: uuid.New(),
			EventType: fmt.Sprintf("Step%d", i), EventVersion: 1 + i%2, Payload: []byte(fmt.Sprintf(`{"step":%d}`, i)),
			CreatedAt: at.Add(time.Duration(i) * time.Second),
		}
		if i%2 == 0 {
			events[i].Metadata = []byte(fmt.Sprintf(`{"user": "u-%d", "tags": ["a", "b"]}`, i))
			events[i].TraceID = core.NewNullString("trace-" + aggregateID)
			events[i].CorrelationID = core.NewNullString("")
			events[i].CausationID = core.NewNullString(fmt.Sprintf("cause-%d", i))
		}
	}
	return events
}

// testUpgradeFromFirstRelease migrates, with tool, a database that the first
// release's schema created and its store filled, and checks that every
// event and checkpoint is kept, that the version table is at
// SchemaVersion, and that the store works on it.
func testUpgradeFromFirstRelease(t *testing.T, tools migrationTools, tool string) {
	ctx := testContext(t)
	dbURL := newThrowawayDatabase(t, ctx)
	schema, err := os.ReadFile(firstReleaseSchema)
	if err != nil {
		t.Fatal(err)
	}
	conn := connect(t, ctx, dbURL)
	if _, err := conn.Exec(ctx, string(schema), pgx.QueryExecModeSimpleProtocol); err != nil {
		t.Fatalf("creating the first release's schema: %v", err)
	}

	// Three appends (o-1 twice) and two consumers: the projector has
	// processed the first two appends, the mailer the first one and then
	// stopped after three failures.
	at := time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)
	first := firstReleaseAppend(t, ctx, conn, 0, firstReleaseEvents("Order", "o-1", 3, at))
	second := firstReleaseAppend(t, ctx, conn, 0, firstReleaseEvents("Order", "o-2", 2, at.Add(time.Hour)))
	third := firstReleaseAppend(t, ctx, conn, 3, firstReleaseEvents("Order", "o-1", 2, at.Add(2*time.Hour)))
	stored := slices.Concat(first, second, third)
	checkpoints := []core.Checkpoint{
		{ConsumerName: "mailer", UpdatedAt: at.Add(3 * time.Hour), Owner: "host-2/77/9",
			FailedAttempts: 3, StoppedAt: at.Add(4 * time.Hour), LastError: "smtp: connection refused",
			LastErrorPosition: second[0].GlobalPosition, LastErrorAt: at.Add(4 * time.Hour)},
		{ConsumerName: "projector", UpdatedAt: at.Add(5 * time.Hour), Owner: "host-1/4242/17"},
	}
	cursors := []v1Cursor{v1CursorAt(first[len(first)-1]), v1CursorAt(second[len(second)-1])}
	for i, cp := range checkpoints {
		writeV1Checkpoint(t, ctx, conn, cp, cursors[i])
	}

	dir := t.TempDir()
	switch tool {
	case "golang-migrate":
		tools.generate(t, ctx, dir, "-format", "golang-migrate")
		migrateURL := withQuery(t, dbURL, "x-migrations-table", "chronicle_schema_migrations")
		runTool(t, ctx, migrateURL, tools.migrate, "-path", dir, "-database", migrateURL, "up")
	case "goose":
		tools.generate(t, ctx, dir, "-format", "goose")
		runTool(t, ctx, dbURL, tools.goose, "-dir", dir, "-table", "chronicle_goose_db_version", "postgres", dbURL, "up")
	default:
		t.Fatalf("no tool %q", tool)
	}

	names := pgstore.DefaultNames()
	var latest int
	if err := conn.QueryRow(ctx, "SELECT COALESCE(max(version), 0) FROM "+versionsTable(names)).Scan(&latest); err != nil {
		t.Fatal(err)
	}
	if latest != pgstore.SchemaVersion {
		t.Errorf("the version table is at %d, want %d", latest, pgstore.SchemaVersion)
	}

	pool := storePool(t, ctx, dbURL)
	store := mustPgxStore(t, names)
	consumers, err := pgxstore.NewConsumerStore(pool, store)
	if err != nil {
		t.Fatal(err)
	}
	r := pgxRigFor(pool, store, names)

	// Every event, as stored, in the global log.
	tx := r.mustBegin(t, ctx, false)
	got, err := store.ReadEvents(ctx, tx, 0, 100)
	if err != nil {
		t.Fatalf("reading the log after the upgrade: %v", err)
	}
	assertSameEvents(t, "the log", got, stored)

	// Every checkpoint, and what each consumer reads next: exactly the
	// events it had not processed.
	gotCheckpoints, _, err := consumers.Checkpoints(ctx, tx)
	if err != nil {
		t.Fatalf("reading the checkpoints after the upgrade: %v", err)
	}
	if len(gotCheckpoints) != len(checkpoints) {
		t.Fatalf("%d checkpoints after the upgrade, want %d: %+v", len(gotCheckpoints), len(checkpoints), gotCheckpoints)
	}
	for i, want := range checkpoints {
		got := gotCheckpoints[i]
		if got.ConsumerName != want.ConsumerName || !got.UpdatedAt.Equal(want.UpdatedAt) ||
			got.Owner != want.Owner || got.FailedAttempts != want.FailedAttempts || !got.StoppedAt.Equal(want.StoppedAt) ||
			got.LastError != want.LastError || got.LastErrorPosition != want.LastErrorPosition || !got.LastErrorAt.Equal(want.LastErrorAt) {
			t.Errorf("checkpoint after the upgrade:\n got %+v\nwant %+v", got, want)
		}
		// The snapshot cursor counts as delivered exactly what the first
		// release's cursor did.
		for _, e := range stored {
			if got.Cursor.Delivered(e) != cursors[i].delivered(e) {
				t.Errorf("%s at %s (first release: %+v): event at position %d, writer %d delivered = %v",
					got.ConsumerName, got.Cursor, cursors[i], e.GlobalPosition, e.TransactionID, got.Cursor.Delivered(e))
			}
		}
		checkpoints[i].Cursor = got.Cursor
	}
	r.mustCommit(t, ctx, tx)
	for _, c := range []struct {
		cp   core.Checkpoint
		next []core.PersistedEvent
	}{
		{checkpoints[0], slices.Concat(second, third)},
		{checkpoints[1], third},
	} {
		// No frontier holds a batch back any more: the consumer reads
		// exactly the events it had not delivered, whatever else runs on
		// the shared server.
		got, _ := drainConsumer(t, ctx, consumers, c.cp.Cursor, nil, 100)
		assertSameEvents(t, c.cp.ConsumerName+"'s next batches", got, c.next)
	}

	// The log is still append-only.
	if _, err := conn.Exec(ctx, "UPDATE events SET event_type = 'Rewritten' WHERE aggregate_id = 'o-1'"); err == nil ||
		!strings.Contains(err.Error(), "append-only") {
		t.Errorf("updating an event after the upgrade: %v, want the append-only trigger's error", err)
	}

	// The store appends on the upgraded schema: after the kept heads, and
	// a new aggregate.
	more := firstReleaseEvents("Order", "o-2", 1, at.Add(6*time.Hour))
	r.appendCommitted(t, ctx, core.Exact(2), more...)
	if s := r.readStream(t, ctx, "Order", "o-2"); s.Len() != 3 || s.Version() != 3 || s.Events[2].EventID != more[0].EventID {
		t.Errorf("o-2 after an append on the upgraded schema: %d events, version %d", s.Len(), s.Version())
	}
	if _, err := r.store.Append(ctx, r.mustBegin(t, ctx, false), core.Exact(4), firstReleaseEvents("Order", "o-1", 1, at)); !errorsIsConflict(err) {
		t.Errorf("appending to o-1 at version 4 (it is at 5): %v, want a conflict", err)
	}
	fresh := newEvents("Invoice", 2)
	r.appendCommitted(t, ctx, core.NoStream(), fresh...)
	if s := r.readStream(t, ctx, "Invoice", fresh[0].AggregateID); s.Len() != 2 {
		t.Errorf("a new aggregate on the upgraded schema: %d events, want 2", s.Len())
	}
}

func errorsIsConflict(err error) bool { return errors.Is(err, core.ErrOptimisticConcurrency) }

// assertSameEvents compares events field by field; metadata as JSON values
// (jsonb keeps the value, not the bytes).
func assertSameEvents(t *testing.T, what string, got, want []core.PersistedEvent) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d events, want %d", what, len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		sameJSON := func(a, b []byte) bool {
			if a == nil || b == nil {
				return a == nil && b == nil
			}
			var x, y any
			return json.Unmarshal(a, &x) == nil && json.Unmarshal(b, &y) == nil && reflect.DeepEqual(x, y)
		}
		if !sameJSON(g.Metadata, w.Metadata) || !g.CreatedAt.Equal(w.CreatedAt) {
			t.Errorf("%s, event %d: metadata %s at %s, want %s at %s", what, i, g.Metadata, g.CreatedAt, w.Metadata, w.CreatedAt)
		}
		g.Metadata, w.Metadata, g.CreatedAt, w.CreatedAt = nil, nil, time.Time{}, time.Time{}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s, event %d:\n got %+v\nwant %+v", what, i, g, w)
		}
	}
}
