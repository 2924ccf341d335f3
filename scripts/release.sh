#!/usr/bin/env bash
# make release VERSION=vX.Y.Z: prepare a lockstep release of every module
# of go.work. It
#   1. makes every require of a sibling module name VERSION, and go.work's
#      replaces with it (internal/release bump);
#   2. tidies every module against the local module proxy (make tidy);
#   3. runs the checks: make test (lint, generated files, the release check
#      at VERSION, every module's tests) and make test-go-min (build and vet
#      with the oldest Go named by go.work), unless CHECKS=0;
#   4. prints the commit to make and the tags to push, one per module
#      (core/VERSION, adapters/postgres-pgx/VERSION, …).
# It never commits, tags or pushes. It refuses a work tree with uncommitted
# changes (ALLOW_DIRTY=1 overrides), so that the release commit holds the
# version bump only.
source "$(dirname "$0")/lib.sh"

v=${1:-}
if [ -z "$v" ]; then
  echo "usage: make release VERSION=vX.Y.Z" >&2
  exit 2
fi
MAKE=${MAKE:-make}
cd "$ROOT"
if [ "${ALLOW_DIRTY:-0}" != 1 ] && [ -n "$(git status --porcelain)" ]; then
  echo "make release: the work tree has uncommitted changes; commit or stash them first (or ALLOW_DIRTY=1)" >&2
  git status --short >&2
  exit 1
fi
if git rev-parse -q --verify "refs/tags/core/$v" >/dev/null; then
  echo "make release: tag core/$v exists already" >&2
  exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/chronicle-release-XXXXXX")
bumped=
done_ok=
finish() {
  rm -rf "$tmp"
  if [ -n "$bumped" ] && [ -z "$done_ok" ]; then
    echo "make release: stopped; the bump to $v is still in the work tree (git checkout -- . undoes it)" >&2
  fi
}
trap finish EXIT
build_release "$tmp"
old=$($RELEASE version)
echo "== bump: $old → $v"
bumped=1
$RELEASE bump "$v"
echo "== make tidy"
"$MAKE" --no-print-directory tidy
$RELEASE check
if [ "${CHECKS:-1}" != 0 ]; then
  echo "== make test"
  "$MAKE" --no-print-directory test
  echo "== make test-go-min"
  "$MAKE" --no-print-directory test-go-min
fi

tags=$($RELEASE tags)
done_ok=1
checked="the checks passed"
if [ "${CHECKS:-1}" = 0 ]; then checked="the checks were skipped (CHECKS=0): run make test before publishing"; fi
cat <<MSG

Release $v is ready: every module of go.work requires its siblings at $v;
$checked. Nothing was committed, tagged or pushed. To publish:

  git commit -am "release $v: every module requires its siblings at $v"
$(for t in $tags; do echo "  git tag -a $t -m \"release $t\""; done)
  git push origin HEAD
  git push origin $(echo $tags)

Then ask the proxy for one module, e.g.
  GOPROXY=https://proxy.golang.org go list -m github.com/chronicle-go/chronicle/core@$v
MSG
