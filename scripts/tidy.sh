#!/usr/bin/env bash
# make tidy: go mod tidy in every module of go.work, outside the workspace
# (go mod tidy ignores go.work), with our own modules served at their
# lockstep version by a local module proxy (see lib.sh), so that each
# go.mod is what a tag would publish. Before it, requires of our modules
# that go.work no longer lists are dropped and go.work's replaces are
# written from its use lines; after it, checksums of our own modules are
# dropped from go.sum: they would be of unpublished content.
#
# make tidy-check (-check) changes nothing: it tidies copies
# (go mod tidy -modfile) and fails when one differs.
source "$(dirname "$0")/lib.sh"

check=false
if [ "${1:-}" = "-check" ]; then check=true; fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/chronicle-tidy-XXXXXX")
trap 'release_cleanup; rm -rf "$tmp"' EXIT
build_release "$tmp"
if ! $check; then
  $RELEASE drop-gone
  $RELEASE sync-work
fi
local_proxy "$tmp"

# tidy_one M: tidy module M (a copy of its go.mod and go.sum with -check).
tidy_one() {
  local m=$1 work=$tmp/tidy/$1
  mkdir -p "$work"
  cd "$ROOT/$m"
  if ! $check; then
    if ! "$GO" mod tidy >"$work/log" 2>&1; then
      echo "$m: go mod tidy failed:"; sed 's/^/   | /' "$work/log"; return 1
    fi
    return 0
  fi
  cp go.mod "$work/go.mod"
  if [ -f go.sum ]; then cp go.sum "$work/go.sum"; fi
  if ! "$GO" mod tidy -modfile="$work/go.mod" >"$work/log" 2>&1; then
    echo "$m: go mod tidy failed:"; sed 's/^/   | /' "$work/log"; return 1
  fi
  $RELEASE strip-sums "$work/go.sum"
  if ! cmp -s "$work/go.mod" go.mod; then
    echo "$m/go.mod is not tidy (run make tidy):"; diff -u go.mod "$work/go.mod" | sed 's/^/   | /'; return 1
  fi
  if { [ -f go.sum ] || [ -f "$work/go.sum" ]; } && ! cmp -s "$work/go.sum" go.sum; then
    echo "$m/go.sum is not tidy (run make tidy)"; return 1
  fi
}

# In parallel: each go mod tidy mostly waits on its module cache.
pids=()
for m in $(modules); do
  if ! $check; then echo "== go mod tidy $m"; fi
  tidy_one "$m" &
  pids+=($!)
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done

if $check; then
  if [ $failed -ne 0 ]; then exit 1; fi
  echo "tidy-check: every module of go.work is tidy at $VERSION"
else
  $RELEASE strip-sums
  if [ $failed -ne 0 ]; then exit 1; fi
fi
