#!/usr/bin/env bash
# make test-integration-local: start a PostgreSQL of its own, run make
# test-integration on it, and remove it, whatever happens:
#   - when a Docker engine answers and docker compose is installed, the
#     service of compose.yaml, in a compose project of its own;
#   - otherwise a throw-away cluster made with the local initdb and pg_ctl
#     (the newest /usr/lib/postgresql/*/bin, else the PATH), through
#     internal/pgtest (pgserver initdb).
source "$(dirname "$0")/lib.sh"

MAKE=${MAKE:-make}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/chronicle-it-local-XXXXXX")
project=
cleanup() {
  if [ -n "$project" ]; then
    echo "== docker compose down ($project)"
    docker compose -f "$ROOT/compose.yaml" -p "$project" down --volumes --remove-orphans >/dev/null 2>&1 || echo "could not remove compose project $project" >&2
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
(cd "$ROOT" && "$GO" build -o "$tmp/pgserver" ./internal/pgtest/cmd/pgserver)

docker_answers() {
  command -v docker >/dev/null &&
    timeout 10 docker info >/dev/null 2>&1 &&
    docker compose version >/dev/null 2>&1
}

if docker_answers; then
  project=chronicle-test-$$
  echo "== docker compose up ($project, compose.yaml)"
  docker compose -f "$ROOT/compose.yaml" -p "$project" up --detach --wait
  hostport=$(docker compose -f "$ROOT/compose.yaml" -p "$project" port postgres 5432)
  url="postgres://postgres@$hostport/postgres?sslmode=disable"
  "$tmp/pgserver" wait -timeout 60s "$url"
  DATABASE_URL=$url "$MAKE" --no-print-directory -C "$ROOT" test-integration
else
  echo "== no Docker engine answers: a throw-away initdb cluster"
  "$tmp/pgserver" initdb -- "$MAKE" --no-print-directory -C "$ROOT" test-integration
fi
