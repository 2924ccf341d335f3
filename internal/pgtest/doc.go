// Package pgtest finds or starts a PostgreSQL server for tests and demos,
// and makes throw-away databases on it.
//
// [Find] tries, in order:
//
//  1. CHRONICLE_TEST_DATABASE_URL (a postgres:// URL of a role that may
//     create databases);
//  2. a server on 127.0.0.1:5432, as user postgres without a password,
//     database postgres;
//  3. the starters registered with [RegisterStarter]: in the integration
//     tests, Docker (package integration/pgdocker, through dockertest,
//     only when a Docker daemon answers within a second);
//  4. a throw-away cluster made with the local initdb and pg_ctl (from
//     /usr/lib/postgresql/*/bin or the PATH) in a temporary directory on a
//     free port, removed by [Server.Close]. Run as root, the cluster runs as
//     the postgres OS user, since initdb refuses root.
//
// The package is a module of its own under internal/: every Chronicle
// module (the integration tests, the examples and their demo, the tools'
// tests) may import it and users cannot. It depends on pgx only, so that
// a module requiring it never pulls Docker's client libraries into its
// users' module graphs.
package pgtest
