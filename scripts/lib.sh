# Shared by the scripts of this folder: sourced, never run. It knows the
# modules only through go.work (and the release command that reads it).
#
#   local_proxy DIR   build the release command, write a file:// module
#                     proxy of every module of go.work at the version they
#                     require each other at into DIR/proxy, and export the
#                     environment that makes the go command work outside
#                     the workspace as a user's would: GOWORK=off, our
#                     modules from that proxy and everything else as usual
#                     (the local module cache first, then $GOPROXY), not
#                     checked against the checksum database, in a module
#                     cache of its own so that the unpublished versions
#                     never reach the shared one.
#
# That module cache ($CHRONICLE_RELEASE_MODCACHE, default
# ~/.cache/chronicle/release-modcache) is kept between runs for the
# third-party modules, so that a run needs no network once they are in;
# our own modules are removed from it before and after every run (their
# content changes under one version, which is also why the go command's
# module index is off), and a lock keeps concurrent runs apart.

set -euo pipefail

GO=${GO:-go}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# RELEASE runs the release command; local_proxy builds it.
RELEASE=

modules() { (cd "$ROOT" && GOWORK="$ROOT/go.work" "$GO" work edit -json | sed -n 's/.*"DiskPath": "\.\/\(.*\)".*/\1/p'); }

build_release() {
  local dir=$1
  # Outside the workspace: the command needs none of our modules, so it
  # builds even while go.work is out of step with the go.mod files.
  (cd "$ROOT/internal/release" && GOWORK=off "$GO" build -o "$dir/release" .)
  RELEASE="$dir/release -C $ROOT"
}

RELEASE_MODCACHE=${CHRONICLE_RELEASE_MODCACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/chronicle/release-modcache}

# forget_ours removes our modules from the release module cache.
forget_ours() {
  local d
  for d in "$RELEASE_MODCACHE/github.com/chronicle-go" "$RELEASE_MODCACHE/cache/download/github.com/chronicle-go"; do
    if [ -e "$d" ]; then chmod -R u+w "$d" && rm -rf "$d"; fi
  done
}

# release_cleanup undoes local_proxy; the scripts call it on exit.
RELEASE_HOLDS_CACHE=
release_cleanup() {
  if [ -n "$RELEASE_HOLDS_CACHE" ]; then forget_ours; fi
}

local_proxy() {
  local dir=$1
  if [ -z "$RELEASE" ]; then build_release "$dir"; fi
  $RELEASE proxy "$dir/proxy" >/dev/null
  VERSION=$($RELEASE version)
  local cache proxy flags nosumdb
  cache=$("$GO" env GOMODCACHE)
  proxy=$("$GO" env GOPROXY)
  flags=$("$GO" env GOFLAGS)
  nosumdb=$("$GO" env GONOSUMDB)
  mkdir -p "$RELEASE_MODCACHE"
  if command -v flock >/dev/null; then
    exec {RELEASE_LOCK}>"$RELEASE_MODCACHE.lock"
    if ! flock -n "$RELEASE_LOCK"; then
      echo "waiting for another run that uses $RELEASE_MODCACHE"
      flock "$RELEASE_LOCK"
    fi
  fi
  RELEASE_HOLDS_CACHE=1
  forget_ours
  export GOWORK=off
  export GOPROXY="file://$dir/proxy,file://$cache/cache/download${proxy:+,$proxy}"
  export GONOSUMDB="github.com/chronicle-go/chronicle${nosumdb:+,$nosumdb}"
  export GOMODCACHE="$RELEASE_MODCACHE"
  export GOFLAGS="${flags:+$flags }-mod=mod -modcacherw"
  # The go command's module index (in GOCACHE) takes a module in the module
  # cache to be immutable and keys it by its folder alone; ours change under
  # one version and folder, so it must not be used for them.
  export GODEBUG="${GODEBUG:+$GODEBUG,}goindex=0"
}
