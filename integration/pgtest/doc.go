// Package pgtest finds or starts a PostgreSQL server for tests and demos,
// and makes throw-away databases on it.
//
// [Find] tries, in order:
//
//  1. CHRONICLE_TEST_DATABASE_URL (a postgres:// URL of a role that may
//     create databases);
//  2. a server on 127.0.0.1:5432, as user postgres without a password,
//     database postgres;
//  3. Docker, through dockertest, only when a Docker daemon answers within
//     a second;
//  4. a throw-away cluster made with the local initdb and pg_ctl (from
//     /usr/lib/postgresql/*/bin or the PATH) in a temporary directory on a
//     free port, removed by [Server.Close]. Run as root, the cluster runs as
//     the postgres OS user, since initdb refuses root.
//
// The package is exported (not internal) so that other modules' demos and
// examples can start the same server the integration tests use.
package pgtest
