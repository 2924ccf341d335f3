#!/usr/bin/env bash
# make test-integration: the integration module's tests (with $RACE and
# $TESTFLAGS) against $DATABASE_URL, else 127.0.0.1:5432 (user postgres,
# no password). The role must be allowed to create databases: each test
# binary makes its own and drops it. Fails when no server answers, instead
# of letting the tests skip.
source "$(dirname "$0")/lib.sh"

url=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
# What to print of the URL: never its password.
shown=$(printf '%s' "$url" | sed -E 's#(://[^:/@]*):[^@/]*@#\1:***@#')

tmp=$(mktemp -d "${TMPDIR:-/tmp}/chronicle-it-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
(cd "$ROOT" && "$GO" build -o "$tmp/pgserver" ./internal/pgtest/cmd/pgserver)
if ! "$tmp/pgserver" wait -timeout "${WAIT:-5s}" "$url"; then
  echo "make test-integration: no PostgreSQL at $shown: set DATABASE_URL to a role that may create databases, or run make test-integration-local" >&2
  exit 1
fi
echo "== go test ./integration/... on $shown"
cd "$ROOT/integration"
# shellcheck disable=SC2086 # RACE and TESTFLAGS are lists of flags
CHRONICLE_TEST_DATABASE_URL=$url "$GO" test ${RACE--race} -count=1 -timeout "${TESTTIMEOUT:-25m}" ${TESTFLAGS:-} ./...
