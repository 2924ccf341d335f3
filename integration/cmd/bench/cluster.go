package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/chronicle-go/chronicle/integration/pgtest"
	"github.com/jackc/pgx/v5"
)

// ownCluster starts a throw-away cluster for the run alone (-own-cluster),
// with the server's default, durable settings: pgtest.StartCluster turns
// fsync off for tests, which a benchmark must never do. A cluster of its
// own matters for the consumer workloads: the consumer frontier is the
// oldest transaction id running anywhere in the cluster, so other
// sessions' transactions on a shared server delay delivery (W8).
func ownCluster(ctx context.Context, logf func(string, ...any)) (url string, stop func() error, err error) {
	bin, err := pgtest.BinDir()
	if err != nil {
		return "", nil, err
	}
	base := ""
	if os.Geteuid() == 0 {
		base = "/tmp" // the postgres user must reach it
	}
	dir, err := os.MkdirTemp(base, "chronicle-bench-")
	if err != nil {
		return "", nil, err
	}
	cred, err := postgresUser(dir)
	if err != nil {
		_ = os.RemoveAll(dir)
		return "", nil, err
	}
	run := func(name string, args ...string) error {
		cmd := exec.CommandContext(ctx, filepath.Join(bin, name), args...)
		cmd.Env = append(os.Environ(), "LC_ALL=C")
		if cred != nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("error running %s: %w: %s", name, err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	data := filepath.Join(dir, "data")
	if err := run("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale"); err != nil {
		_ = os.RemoveAll(dir)
		return "", nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = os.RemoveAll(dir)
		return "", nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", port, dir)
	if err := run("pg_ctl", "-D", data, "-l", filepath.Join(dir, "server.log"), "-w", "-t", "60", "-o", opts, "start"); err != nil {
		_ = os.RemoveAll(dir)
		return "", nil, err
	}
	stop = func() error {
		err := run("pg_ctl", "-D", data, "-m", "fast", "-w", "stop")
		if rmErr := os.RemoveAll(dir); err == nil {
			err = rmErr
		}
		return err
	}
	url = "postgres://postgres@127.0.0.1:" + strconv.Itoa(port) + "/postgres?sslmode=disable"
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		_ = stop()
		return "", nil, err
	}
	_ = conn.Close(ctx)
	logf("bench: started a cluster of its own in %s", dir)
	return url, stop, nil
}

// postgresUser returns the credentials to run the cluster with: none when
// not root; as root (initdb refuses it), the postgres OS user, which then
// owns dir.
func postgresUser(dir string) (*syscall.Credential, error) {
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
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}
