package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDatabaseURL names the variable that points the tests at a server.
const EnvDatabaseURL = "CHRONICLE_TEST_DATABASE_URL"

// LocalURL is the server Find tries second.
const LocalURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// ErrNoServer: Find found no PostgreSQL server and could start none.
var ErrNoServer = errors.New("no PostgreSQL server available")

// Server is a PostgreSQL server reachable at URL.
type Server struct {
	// URL connects to the server's maintenance database as a role that
	// may create databases.
	URL string
	// Source says where the server came from: "env", "local", "initdb" or
	// the name of a registered starter such as "docker".
	Source  string
	stop    func() error
	restart func(ctx context.Context) error
	crash   func(ctx context.Context) error
}

// NewServer returns a server reachable at url that Close stops with stop
// (nil: Close leaves it running). Starters registered with
// RegisterStarter use it.
func NewServer(url, source string, stop func() error) *Server {
	return &Server{URL: url, Source: source, stop: stop}
}

// A Starter starts a server for Find, or returns why it cannot.
type Starter func(ctx context.Context) (*Server, error)

var starters struct {
	sync.Mutex
	names []string
	funcs []Starter
}

// RegisterStarter makes Find try start, under name, after the server on
// 127.0.0.1:5432 and before a throw-away initdb cluster; starters are
// tried in the order they were registered. The package itself registers
// none: the Docker starter lives in the integration module
// (integration/pgdocker registers it when imported), so that Docker's
// client libraries stay out of the module graphs of examples and tools.
func RegisterStarter(name string, start Starter) {
	starters.Lock()
	defer starters.Unlock()
	starters.names = append(starters.names, name)
	starters.funcs = append(starters.funcs, start)
}

// Find returns the first server available in the order of the package doc.
// logf, if not nil, receives one line per attempt. The error wraps
// ErrNoServer and says why each way failed.
func Find(ctx context.Context, logf func(format string, args ...any)) (*Server, error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if u := os.Getenv(EnvDatabaseURL); u != "" {
		if err := Ping(ctx, u); err != nil {
			return nil, fmt.Errorf("error connecting to %s: %w", EnvDatabaseURL, err)
		}
		return &Server{URL: u, Source: "env"}, nil
	}
	var reasons []string
	if err := Ping(ctx, LocalURL); err == nil {
		return &Server{URL: LocalURL, Source: "local"}, nil
	} else {
		reasons = append(reasons, "127.0.0.1:5432: "+err.Error())
		logf("pgtest: no server on 127.0.0.1:5432: %v", err)
	}
	starters.Lock()
	names, funcs := starters.names, starters.funcs
	starters.Unlock()
	for i, start := range funcs {
		s, err := start(ctx)
		if err == nil {
			return s, nil
		}
		reasons = append(reasons, names[i]+": "+err.Error())
		logf("pgtest: %s: %v", names[i], err)
	}
	if s, err := StartCluster(ctx); err == nil {
		return s, nil
	} else {
		reasons = append(reasons, "initdb: "+err.Error())
		logf("pgtest: initdb: %v", err)
	}
	return nil, fmt.Errorf("%w: %s", ErrNoServer, strings.Join(reasons, "; "))
}

// Close stops the server if Find started it; a server found running is
// left alone.
func (s *Server) Close() error {
	if s.stop == nil {
		return nil
	}
	return s.stop()
}

// ErrNotRestartable: Restart was called on a server the package did not
// start with StartCluster.
var ErrNotRestartable = errors.New("only a cluster made by StartCluster can be restarted")

// Restart stops the server (disconnecting every session, as a server
// restart does) and starts it again on the same port, with its data.
func (s *Server) Restart(ctx context.Context) error {
	if s.restart == nil {
		return ErrNotRestartable
	}
	return s.restart(ctx)
}

// Crash stops the server in immediate mode — no shutdown checkpoint, WAL
// not yet written is lost, as when the server's processes die — and starts
// it again, which replays the WAL. Only for a cluster made by StartCluster
// (ErrNotRestartable otherwise).
func (s *Server) Crash(ctx context.Context) error {
	if s.crash == nil {
		return ErrNotRestartable
	}
	return s.crash(ctx)
}

// CreateDatabase creates the database name (which the caller makes unique)
// and returns a URL for it.
func (s *Server) CreateDatabase(ctx context.Context, name string) (string, error) {
	if err := s.exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("error creating database %s: %w", name, err)
	}
	u, err := url.Parse(s.URL)
	if err != nil {
		return "", fmt.Errorf("error parsing the server URL: %w", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

// DropDatabase drops the database name, disconnecting its sessions.
func (s *Server) DropDatabase(ctx context.Context, name string) error {
	if err := s.exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("error dropping database %s: %w", name, err)
	}
	return nil
}

func (s *Server) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, s.URL)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	_, err = conn.Exec(ctx, sql)
	return err
}

// Ping connects to u and pings the server, giving up after 5 seconds.
func Ping(ctx context.Context, u string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return conn.Ping(ctx)
}
