#!/usr/bin/env bash
# make release-check: use Chronicle as a user would, from outside the
# workspace, at the version its modules require each other at.
#
#  1. release check: the modules of go.work require each other at one
#     version, state go.work's go line, carry the LICENSE and a README.md.
#  2. make tidy-check: against a file:// module proxy of every module of
#     go.work at that version (lib.sh), every go.mod is tidy, so that it is
#     what a tag would publish.
#  3. A fresh module in a temporary folder (GOWORK=off, GOFLAGS=-mod=mod, go
#     line = ours): go get core, consumer, otel and every adapter at the
#     version; the quick starts, the consumer and the observability examples
#     copied in (their other dependencies at the examples module's versions)
#     and built; go mod graph must hold neither the integration nor the
#     examples module nor dockertest.
#  4. Every tool builds with go install …@version; go run
#     tools/migrate-gen@version writes the schema; go get -tool adds
#     tools/chronicle, go tool runs it, and the graph is still clean.
#  5. On PostgreSQL (CHRONICLE_TEST_DATABASE_URL, else 127.0.0.1:5432, as
#     the integration tests; a database of its own, dropped at the end):
#     psql applies the schema, the examples run, and go tool chronicle
#     status reports the consumer the example made. Without a server the
#     run skips this part, except under CI=true, where it fails.
#
# Our modules come from the local proxy only; everything else from the
# local module cache, then $GOPROXY. Nothing is published or tagged.
source "$(dirname "$0")/lib.sh"
start=$SECONDS

REPO=github.com/chronicle-go/chronicle
step() { echo "== release-check: $* ($((SECONDS - start))s)"; }
indent() { sed 's/^/   | /'; }
# quietly CMD…: run CMD; show its output only when it fails, then fail.
quietly() {
  local out
  if ! out=$("$@" 2>&1); then
    echo "release-check: $* failed:" >&2
    printf '%s\n' "$out" | indent >&2
    exit 1
  fi
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/chronicle-release-check-XXXXXX")
db_admin= db_name=
cleanup() {
  if [ -n "$db_name" ]; then
    psql -X "$db_admin" -qAtc "DROP DATABASE IF EXISTS \"$db_name\" WITH (FORCE)" >/dev/null || echo "release-check: could not drop database $db_name" >&2
  fi
  release_cleanup
  rm -rf "$tmp"
}
trap cleanup EXIT

step "lockstep invariants"
build_release "$tmp"
$RELEASE check

step "every go.mod is tidy outside the workspace (make tidy-check)"
"$ROOT/scripts/tidy.sh" -check | indent

local_proxy "$tmp"
step "a user's module: go get core, consumer, otel and the adapters at $VERSION"
user=$tmp/user
gomin=$(sed -n 's/^go \(.*\)/\1/p' "$ROOT/go.work")
mkdir -p "$user"
cd "$user"
quietly "$GO" mod init example.com/chronicle-release-check
"$GO" mod edit -go="$gomin"
libs=()
for m in $(modules); do
  case $m in core | consumer | otel | adapters/*) libs+=("$REPO/$m@$VERSION") ;; esac
done
quietly "$GO" get "${libs[@]}"
printf '   %s\n' "${libs[@]}"
for ex in basic/pgx basic/sql basic/memory consumer observability; do
  mkdir -p "cmd/${ex##*/}"
  cp "$ROOT/examples/$ex"/*.go "cmd/${ex##*/}/"
done
# The examples' other direct requires at the versions the examples module
# is tested with, as a user pins them: go mod tidy would take the newest,
# which may need a newer Go than ours (OpenTelemetry's exporters do).
# They are written into go.mod as requirements (go mod tidy then adds what
# they need), not asked of go get: go get resolves each as a package path,
# and a module whose parent module is already in the graph
# (go.opentelemetry.io/otel/sdk under go.opentelemetry.io/otel) was then
# reported as a package the parent lacks.
pins=()
while read -r path version; do
  pins+=("-require=$path@$version")
done < <(awk '/^require \($/ { block = 1; next } block && /^\)/ { block = 0 }
  block && !/\/\/ indirect/ && $1 !~ /^github\.com\/chronicle-go\// { print $1, $2 }' "$ROOT/examples/go.mod")
quietly "$GO" mod edit "${pins[@]}"
quietly "$GO" mod tidy
quietly "$GO" build -o bin/ ./cmd/...
echo "   built the quick starts (pgx, sql, memory) and the consumer and observability examples against the modules at $VERSION"

# graph_clean WHAT: the user's module graph holds none of our test modules
# nor Docker's libraries, and go get left its go line at ours.
graph_clean() {
  local bad
  if [ "$(sed -n 's/^go \(.*\)/\1/p' go.mod)" != "$gomin" ]; then
    echo "release-check: go get raised the user's go line above go $gomin ($1): a dependency needs a newer Go than go.work states" >&2
    exit 1
  fi
  bad=$("$GO" mod graph | tr ' ' '\n' | grep -E "^($REPO/(integration|examples)|github.com/ory/dockertest)" | sort -u || true)
  if [ -n "$bad" ]; then
    echo "release-check: the user's module graph ($1) holds:" >&2
    echo "$bad" | indent >&2
    exit 1
  fi
  echo "   go mod graph ($1): $("$GO" list -m all | wc -l) modules, no integration, examples or dockertest; go $gomin"
}
graph_clean "libraries"

step "every tool: go install …@$VERSION"
for m in $(modules); do
  case $m in tools/*) GOBIN="$tmp/bin" quietly "$GO" install "$REPO/$m@$VERSION" && echo "   $m@$VERSION builds" ;; esac
done

step "go run $REPO/tools/migrate-gen@$VERSION; go get -tool $REPO/tools/chronicle@$VERSION"
"$GO" run "$REPO/tools/migrate-gen@$VERSION" -output "$user/migrations" -filename 0001_chronicle.sql | indent
quietly "$GO" get -tool "$REPO/tools/chronicle@$VERSION"
quietly "$GO" tool chronicle -h
echo "   go tool chronicle runs"
graph_clean "libraries and the chronicle tool"

db_admin=${CHRONICLE_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
if ! command -v psql >/dev/null || ! psql -X "$db_admin" -qAtc 'SELECT 1' >/dev/null 2>&1; then
  why="no PostgreSQL answers at ${CHRONICLE_TEST_DATABASE_URL:+\$CHRONICLE_TEST_DATABASE_URL}${CHRONICLE_TEST_DATABASE_URL:-127.0.0.1:5432} (or psql is missing)"
  db_admin=
  if [ "${CI:-}" = "true" ]; then echo "release-check: CI=true and $why" >&2; exit 1; fi
  echo "release-check: skipping the runs against PostgreSQL: $why"
  echo "== release-check: ok at $VERSION without PostgreSQL ($((SECONDS - start))s)"
  exit 0
fi
db_name=chronicle_release_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
psql -X "$db_admin" -qAtc "CREATE DATABASE \"$db_name\"" >/dev/null
# The same server, the new database: scheme://authority/NAME?query.
query=
if [[ $db_admin == *\?* ]]; then query="?${db_admin#*\?}"; fi
base=${db_admin%%\?*}
rest=${base#*://}
db="${base%%://*}://${rest%%/*}/$db_name$query"
step "on PostgreSQL, database $db_name"

psql -X "$db" -q -v ON_ERROR_STOP=1 --single-transaction -f "$user/migrations/0001_chronicle.sql" >/dev/null
echo "   applied migrate-gen's migration with psql --single-transaction"
for ex in pgx sql memory consumer observability; do
  echo "   \$ ./bin/$ex"
  DATABASE_URL=$db "./bin/$ex" 2>&1 | indent
done
echo "   \$ go tool chronicle status"
status=$("$GO" tool chronicle -database-url "$db" status)
echo "$status" | indent
if ! grep -q order-totals <<<"$status"; then
  echo "release-check: go tool chronicle status does not show the example's consumer order-totals" >&2
  exit 1
fi

echo "== release-check: ok at $VERSION ($((SECONDS - start))s)"
