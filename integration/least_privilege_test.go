package integration_test

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	pgxstore "github.com/chronicle-go/chronicle/adapters/postgres-pgx"
	pqstore "github.com/chronicle-go/chronicle/adapters/postgres-pq"
	"github.com/chronicle-go/chronicle/consumer"
	"github.com/chronicle-go/chronicle/core"
	"github.com/chronicle-go/chronicle/core/coretest"
	"github.com/chronicle-go/chronicle/internal/pgstore"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// appRole is a role made by the schema's AppRole option and a login role
// that is its member, as an operator would set them up.
type appRole struct {
	group, login string
	// url connects to the package's database as login.
	url string
}

// newAppRole creates a login role for group (which the migration creates)
// and drops both, with their privileges, when t ends.
func newAppRole(t *testing.T) appRole {
	t.Helper()
	needDatabase(t)
	suffix := strings.ReplaceAll(uuid.NewString(), "-", "")[:10]
	r := appRole{group: "ct_app_" + suffix, login: "ct_login_" + suffix}
	password := uuid.NewString()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		conn, err := pgx.Connect(ctx, databaseURL)
		if err != nil {
			t.Errorf("dropping roles: %v", err)
			return
		}
		defer conn.Close(ctx)
		for _, q := range []string{
			"DROP OWNED BY " + pgx.Identifier{r.login}.Sanitize() + ", " + pgx.Identifier{r.group}.Sanitize(),
			"DROP ROLE IF EXISTS " + pgx.Identifier{r.login}.Sanitize(),
			"DROP ROLE IF EXISTS " + pgx.Identifier{r.group}.Sanitize(),
		} {
			if _, err := conn.Exec(ctx, q); err != nil {
				t.Errorf("%s: %v", q, err)
			}
		}
	})
	// The group role first, as the first migration would make it, so that
	// the login role can join it.
	migrate(t, newNames(), pgstore.SchemaOptions{AppRole: r.group})
	execSQL(t, "CREATE ROLE "+pgx.Identifier{r.login}.Sanitize()+" LOGIN PASSWORD "+quoteLiteral(password)+
		" IN ROLE "+pgx.Identifier{r.group}.Sanitize())
	u, err := url.Parse(databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(r.login, password)
	r.url = u.String()
	return r
}

func (r appRole) pool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(r.url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 32 // the suite's parallel cases each hold a few
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	var user string
	if err := pool.QueryRow(t.Context(), "SELECT current_user").Scan(&user); err != nil || user != r.login {
		t.Fatalf("connected as %q (%v), want %s", user, err, r.login)
	}
	return pool
}

func (r appRole) db(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", r.url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// migrateFor creates a fresh schema whose privileges go to role.
func migrateFor(t *testing.T, role string) pgstore.Names {
	t.Helper()
	names := newNames()
	migrate(t, names, pgstore.SchemaOptions{AppRole: role})
	return names
}

// TestLeastPrivilegeRoleRunsTheConformanceSuite runs every conformance case
// on both drivers connected as a member of the role migrate-gen's -app-role
// creates: the grants are enough for everything the stores do.
func TestLeastPrivilegeRoleRunsTheConformanceSuite(t *testing.T) {
	role := newAppRole(t)
	pool, db := role.pool(t), role.db(t)
	// The operator's deletion runs as the owner: the role cannot delete.
	ownerPool, ownerDB := newPool(t, 0, 4), openDB(t, "postgres")
	t.Run("pgx", func(t *testing.T) {
		coretest.Run(t, coretest.Harness[pgx.Tx]{
			NewInstance: func(t *testing.T) coretest.Instance[pgx.Tx] {
				store, err := pgxstore.NewStore(pgxConfig(migrateFor(t, role.group)))
				if err != nil {
					t.Fatal(err)
				}
				return coretest.Instance[pgx.Tx]{Store: store, Begin: func(ctx context.Context) (pgx.Tx, error) { return pool.Begin(ctx) },
					AwaitLockWait: pgxLockWait(pool, anyLock), DeleteStream: pgxDeleter(ownerPool, store)}
			},
			Commit:   func(ctx context.Context, tx pgx.Tx) error { return tx.Commit(ctx) },
			Rollback: func(ctx context.Context, tx pgx.Tx) error { return tx.Rollback(ctx) },
		})
	})
	t.Run("lib-pq", func(t *testing.T) {
		coretest.Run(t, coretest.Harness[*sql.Tx]{
			NewInstance: func(t *testing.T) coretest.Instance[*sql.Tx] {
				store, err := pqstore.NewStore(pqConfig(migrateFor(t, role.group)))
				if err != nil {
					t.Fatal(err)
				}
				pids := &sqlPIDs{}
				return coretest.Instance[*sql.Tx]{Store: store, Begin: pids.begin(db), AwaitLockWait: pids.lockWait(db, anyLock),
					DeleteStream: sqlDeleter(ownerDB, store)}
			},
			Commit:   func(_ context.Context, tx *sql.Tx) error { return tx.Commit() },
			Rollback: func(_ context.Context, tx *sql.Tx) error { return tx.Rollback() },
		})
	})
}

// TestLeastPrivilegeRoleRunsTheSubjectKeySuite runs the subject key and
// shredding cases as the application's role: its grants on the subject
// keys table (migration 0004) cover creating, reading, forgetting and
// rewrapping keys.
func TestLeastPrivilegeRoleRunsTheSubjectKeySuite(t *testing.T) {
	role := newAppRole(t)
	pool, db := role.pool(t), role.db(t)
	t.Run("pgx", func(t *testing.T) {
		coretest.RunSubjectKeys(t, coretest.SubjectKeysHarness[pgx.Tx]{
			NewInstance: func(t *testing.T) coretest.SubjectKeysInstance[pgx.Tx] {
				store, err := pgxstore.NewStore(pgxConfig(migrateFor(t, role.group)))
				if err != nil {
					t.Fatal(err)
				}
				return pgxKeysInstance(t, pool, store)
			},
		})
	})
	t.Run("lib-pq", func(t *testing.T) {
		coretest.RunSubjectKeys(t, coretest.SubjectKeysHarness[*sql.Tx]{
			NewInstance: func(t *testing.T) coretest.SubjectKeysInstance[*sql.Tx] {
				store, err := pqstore.NewStore(pqConfig(migrateFor(t, role.group)))
				if err != nil {
					t.Fatal(err)
				}
				return sqlKeysInstance(t, db, store)
			},
		})
	})
}

// TestLeastPrivilegeRoleRunsTheProcessor: appends, a processor with LISTEN,
// its status and a reset, all as the application's role.
func TestLeastPrivilegeRoleRunsTheProcessor(t *testing.T) {
	role := newAppRole(t)
	ctx := testContext(t)
	names := migrateFor(t, role.group)
	owner := newPool(t, 0, 2)
	table := createProjection(t, ctx, owner, names.Schema, "role_projection")
	if _, err := owner.Exec(ctx, "GRANT SELECT, INSERT ON "+table+" TO "+pgx.Identifier{role.group}.Sanitize()+
		"; GRANT USAGE ON SEQUENCE "+qualified(names.Schema, "role_projection_seq_seq")+" TO "+pgx.Identifier{role.group}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	store, err := pgxstore.NewStore(pgxConfig(names, pgxstore.WithNotifyChannel(newChannel())))
	if err != nil {
		t.Fatal(err)
	}
	pool := role.pool(t)
	events := appendN(t, ctx, pool, store, "Order", "o-1", 10)
	cs := mustConsumerStore(t, pool, store)
	stop := startProcessor(t, newProcessor(t, pool, store, fastRetries, &rowProjector{name: "role", table: table}))
	waitRows(t, ctx, owner, table, len(events), time.Minute)
	events = append(events, appendN(t, ctx, pool, store, "Order", "o-1", 5)...)
	waitRows(t, ctx, owner, table, len(events), time.Minute)
	if err := stop(); err != nil {
		t.Fatalf("Run as the application's role: %v", err)
	}
	if v := judge(committedIDs(events), projectionRows(t, ctx, owner, table)); v != (verdict{}) {
		t.Fatalf("projection as the application's role: %+v", v)
	}
	ops := consumer.NewOperations[pgx.Tx](cs)
	if st, err := ops.Status(ctx); err != nil || len(st) != 1 || st[0].Behind != 0 {
		t.Fatalf("status as the application's role: %+v, %v", st, err)
	}
	if err := ops.Reset(ctx, "role"); err != nil {
		t.Fatalf("reset as the application's role: %v", err)
	}
}

// TestLeastPrivilegeRoleCannotChangeEvents: the role cannot UPDATE, DELETE
// or TRUNCATE events, nor move the order offset, even with the append-only
// triggers disabled by the owner: privilege, not only the trigger, keeps
// the log append-only.
func TestLeastPrivilegeRoleCannotChangeEvents(t *testing.T) {
	role := newAppRole(t)
	ctx := testContext(t)
	names := migrateFor(t, role.group)
	store, err := pgxstore.NewStore(pgxConfig(names))
	if err != nil {
		t.Fatal(err)
	}
	pool := role.pool(t)
	appendN(t, ctx, pool, store, "Order", "o-1", 3)
	events := qualified(names.Schema, names.EventsTable)
	execSQL(t, "ALTER TABLE "+events+" DISABLE TRIGGER USER")
	for _, stmt := range []string{
		"UPDATE " + events + " SET event_type = 'Forged'",
		"DELETE FROM " + events,
		"TRUNCATE " + events,
		"UPDATE " + qualified(names.Schema, names.OrderOffsetTable) + " SET order_offset = order_offset + 1",
		"DELETE FROM " + qualified(names.Schema, names.AggregateHeadsTable),
		// (It may delete checkpoints: Operations.Delete removes a consumer
		// that is gone.)
	} {
		_, err := pool.Exec(ctx, stmt)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "42501" {
			t.Errorf("%s as the application's role: %v, want insufficient_privilege (42501)", stmt, err)
		}
	}
	// Nor can it delete a stream through the store, the operator's action:
	// the error says whom to run it as, and nothing is deleted.
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = store.DeleteStream(ctx, tx, "Order", "o-1")
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "42501" || !strings.Contains(err.Error(), "operator's action") {
		t.Errorf("DeleteStream as the application's role: %v, want insufficient_privilege naming the owner", err)
	}
	_ = tx.Rollback(ctx)
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM "+events+" WHERE event_type <> 'Forged'").Scan(&n); err != nil || n != 3 {
		t.Fatalf("events after the attempts: %d, %v; want the 3 appended", n, err)
	}
	// The owner, by contrast, could: it is the trigger that stops it.
	execSQL(t, "ALTER TABLE "+events+" ENABLE TRIGGER USER")
	r := pgxRigFor(pool, store, names)
	r.appendCommitted(t, ctx, core.Exact(3), moreEvents(core.Event{AggregateType: "Order", AggregateID: "o-1"}, 1)...)
}

// TestLeastPrivilegeRoleCannotForgeWriterIDs: the schema, not the store,
// gives each event its writer's transaction id plus the order offset. As
// the application's role, an INSERT into the events table naming any other
// transaction_id fails the writer check (23514) — an event placed below a
// consumer's snapshot would never be delivered — while one naming none
// gets the right id from the column default.
func TestLeastPrivilegeRoleCannotForgeWriterIDs(t *testing.T) {
	role := newAppRole(t)
	ctx := testContext(t)
	names := migrateFor(t, role.group)
	// A non-zero offset, so that the default and the check are seen adding it.
	const offset = int64(1) << 36
	setOrderOffset(t, ctx, names, offset)
	pool := role.pool(t)
	events := qualified(names.Schema, names.EventsTable)
	insert := func(tx pgx.Tx, id any) (int64, error) {
		columns, values := "", ""
		args := []any{"Order", "forged-" + uuid.NewString()}
		if id != nil {
			columns, values = ", transaction_id", ", $3::bigint"
			args = append(args, id)
		}
		var stored int64
		err := tx.QueryRow(ctx, "INSERT INTO "+events+" (aggregate_type, aggregate_id, aggregate_version, event_id, event_type, event_version, payload, created_at"+
			columns+") VALUES ($1, $2, 1, gen_random_uuid(), 'Forged', 1, '', now()"+values+") RETURNING transaction_id", args...).Scan(&stored)
		return stored, err
	}
	own := func(tx pgx.Tx) int64 {
		var id int64
		if err := tx.QueryRow(ctx, "SELECT pg_current_xact_id()::text::bigint + $1::bigint", offset).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	check := names.Constraints().WriterCheck
	for _, forged := range []struct {
		what string
		id   func(own int64) int64
	}{
		{"a later id", func(own int64) int64 { return own + 1 }},
		{"an earlier id", func(own int64) int64 { return own - 1 }},
		{"its id without the offset", func(own int64) int64 { return own - offset }},
		{"an id far ahead", func(own int64) int64 { return own + 1<<40 }},
	} {
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		id := forged.id(own(tx))
		_, err = insert(tx, id)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "23514" || pgErr.ConstraintName != check {
			t.Errorf("inserting an event with %s (%d): %v, want a violation (23514) of %s", forged.what, id, err, check)
		}
		_ = tx.Rollback(ctx)
	}

	// No id: the default's, the writer's own. Its own id given explicitly
	// passes too.
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	got, err := insert(tx, nil)
	if err != nil {
		t.Fatalf("inserting an event without a transaction_id: %v", err)
	}
	want := own(tx)
	if got != want {
		t.Errorf("an event inserted without a transaction_id got %d, want the writer's id plus the offset, %d", got, want)
	}
	if got, err := insert(tx, want); err != nil || got != want {
		t.Errorf("inserting an event with the writer's own id %d: %d, %v", want, got, err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM "+events+" WHERE event_type = 'Forged' AND transaction_id = $1", want).Scan(&n); err != nil || n != 2 {
		t.Fatalf("stored events with the writer's id: %d, %v; want the 2 committed", n, err)
	}
}
