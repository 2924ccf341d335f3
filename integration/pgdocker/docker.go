// Package pgdocker adds Docker to the ways package pgtest finds a
// PostgreSQL server: importing it (for its side effect) registers a
// starter that runs a postgres container through dockertest, tried after
// 127.0.0.1:5432 and before a throw-away initdb cluster. Only the
// integration module imports it, so that dockertest and Docker's client
// libraries stay out of every other module's graph.
package pgdocker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/ory/dockertest/v3"
	"github.com/ory/dockertest/v3/docker"

	"github.com/chronicle-go/chronicle/internal/pgtest"
)

func init() { pgtest.RegisterStarter("docker", startDocker) }

// dockerImage is the server the Docker fallback runs.
const dockerImage, dockerTag = "postgres", "15-alpine"

// startDocker runs a PostgreSQL container, but only after a Docker daemon
// answered a plain connection within a second: dockertest itself would
// otherwise wait (or fail slowly) on a machine without Docker.
func startDocker(ctx context.Context) (*pgtest.Server, error) {
	if err := dockerAnswers(ctx); err != nil {
		return nil, err
	}
	pool, err := dockertest.NewPool("")
	if err != nil {
		return nil, fmt.Errorf("error connecting to docker: %w", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := pool.Client.PingWithContext(pingCtx); err != nil {
		return nil, fmt.Errorf("error pinging docker: %w", err)
	}
	res, err := pool.RunWithOptions(&dockertest.RunOptions{
		Repository: dockerImage,
		Tag:        dockerTag,
		Env:        []string{"POSTGRES_HOST_AUTH_METHOD=trust"},
	}, func(hc *docker.HostConfig) {
		hc.AutoRemove = true
		hc.RestartPolicy = docker.RestartPolicy{Name: "no"}
	})
	if err != nil {
		return nil, fmt.Errorf("error starting a postgres container: %w", err)
	}
	_ = res.Expire(600) // a crashed test run must not leave it behind for long
	u := "postgres://postgres@" + res.GetHostPort("5432/tcp") + "/postgres?sslmode=disable"
	pool.MaxWait = 60 * time.Second
	if err := pool.Retry(func() error { return pgtest.Ping(ctx, u) }); err != nil {
		_ = pool.Purge(res)
		return nil, fmt.Errorf("error waiting for the postgres container: %w", err)
	}
	return pgtest.NewServer(u, "docker", func() error { return pool.Purge(res) }), nil
}

func dockerAnswers(ctx context.Context) error {
	network, address := "unix", "/var/run/docker.sock"
	if host := os.Getenv("DOCKER_HOST"); host != "" {
		u, err := url.Parse(host)
		if err != nil {
			return fmt.Errorf("error parsing DOCKER_HOST: %w", err)
		}
		switch u.Scheme {
		case "unix":
			address = u.Path
		case "tcp":
			network, address = "tcp", u.Host
		default:
			return fmt.Errorf("DOCKER_HOST scheme %q not supported", u.Scheme)
		}
	} else if _, err := os.Stat(address); err != nil {
		return errors.New("no docker socket and no DOCKER_HOST")
	}
	d := net.Dialer{Timeout: time.Second}
	conn, err := d.DialContext(ctx, network, strings.TrimSpace(address))
	if err != nil {
		return fmt.Errorf("docker daemon does not answer: %w", err)
	}
	return conn.Close()
}
