package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// ClusterOption configures StartCluster.
type ClusterOption func(*clusterConfig)

type clusterConfig struct {
	durable  bool
	settings []string
}

// Durable keeps PostgreSQL's durable defaults (fsync, synchronous_commit,
// full_page_writes on), for measurements; without it StartCluster turns
// them off, which tests do not need and which makes them faster.
func Durable() ClusterOption { return func(c *clusterConfig) { c.durable = true } }

// Setting starts the cluster with a server setting, e.g.
// Setting("max_prepared_transactions", "10"), for tests that need one the
// shared server does not have. Names are lower-case words and values plain
// words or numbers; anything else panics, since it would reach pg_ctl's
// command line.
func Setting(name, value string) ClusterOption {
	if !settingName.MatchString(name) || !settingValue.MatchString(value) {
		panic(fmt.Sprintf("pgtest: invalid setting %q = %q", name, value))
	}
	return func(c *clusterConfig) { c.settings = append(c.settings, " -c "+name+"="+value) }
}

var (
	settingName  = regexp.MustCompile(`^[a-z_]+$`)
	settingValue = regexp.MustCompile(`^[A-Za-z0-9_.]+$`)
)

// StartCluster makes a throw-away cluster with initdb and starts it with
// pg_ctl on a free loopback port, whatever else runs. The cluster lives in
// a temporary directory that Close removes; Restart restarts it. Find uses
// it last; tests that need a server of their own (to restart it, or to
// restore a dump into another cluster) and benchmarks that must not share
// one call it directly.
func StartCluster(ctx context.Context, opts ...ClusterOption) (*Server, error) {
	var cfg clusterConfig
	for _, opt := range opts {
		opt(&cfg)
	}
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	// As root the cluster runs as postgres, which must reach the directory:
	// a TMPDIR under /root would not do.
	base := ""
	if os.Geteuid() == 0 {
		base = "/tmp"
	}
	dir, err := os.MkdirTemp(base, "chronicle-pg-")
	if err != nil {
		return nil, fmt.Errorf("error making a directory for the cluster: %w", err)
	}
	cred, err := clusterUser(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	data := filepath.Join(dir, "data")
	run := func(ctx context.Context, name string, args ...string) error {
		cmd := exec.CommandContext(ctx, filepath.Join(bin, name), args...)
		cmd.Env = append(os.Environ(), "LC_ALL=C")
		if cred != nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("error running %s: %w: %s", name, err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	initdbArgs := []string{"-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale"}
	if !cfg.durable {
		initdbArgs = append(initdbArgs, "--no-sync")
	}
	if err := run(ctx, "initdb", initdbArgs...); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	settings := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", port, dir)
	if !cfg.durable {
		settings += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
	}
	settings += strings.Join(cfg.settings, "")
	start := func(ctx context.Context) error {
		return run(ctx, "pg_ctl", "-D", data, "-l", filepath.Join(dir, "server.log"), "-w", "-t", "60", "-o", settings, "start")
	}
	if err := start(ctx); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	stop := func() error {
		// A fresh context: the caller's may be done by now.
		cmd := exec.Command(filepath.Join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop")
		if cred != nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		}
		out, err := cmd.CombinedOutput()
		if rmErr := os.RemoveAll(dir); err == nil && rmErr != nil {
			return rmErr
		}
		if err != nil {
			return fmt.Errorf("error stopping the cluster: %w: %s", err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	u := "postgres://postgres@127.0.0.1:" + strconv.Itoa(port) + "/postgres?sslmode=disable"
	if err := Ping(ctx, u); err != nil {
		_ = stop()
		return nil, fmt.Errorf("error connecting to the new cluster: %w", err)
	}
	restart := func(ctx context.Context) error {
		if err := run(ctx, "pg_ctl", "-D", data, "-m", "fast", "-w", "-t", "60", "stop"); err != nil {
			return err
		}
		return start(ctx)
	}
	crash := func(ctx context.Context) error {
		// Immediate mode: every process quits at once, without a
		// checkpoint or a WAL flush, as in a power loss of the server
		// process; the start replays the WAL.
		if err := run(ctx, "pg_ctl", "-D", data, "-m", "immediate", "-w", "-t", "60", "stop"); err != nil {
			return err
		}
		return start(ctx)
	}
	return &Server{URL: u, Source: "initdb", stop: stop, restart: restart, crash: crash}, nil
}

// BinDir returns the directory of the newest installed PostgreSQL binaries
// (initdb, pg_ctl, pg_dump, psql).
func BinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("initdb not found in /usr/lib/postgresql/*/bin or on the PATH")
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// clusterUser returns the credentials to run the cluster with: none when
// not root; as root, the postgres OS user, which then owns dir.
func clusterUser(dir string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("initdb refuses to run as root and there is no postgres OS user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return nil, fmt.Errorf("error giving the cluster directory to postgres: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("error finding a free port: %w", err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port, nil
}
