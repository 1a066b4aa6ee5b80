#!/usr/bin/env bash
# Bundles src/js/builtins (index.js and its npm dependencies) into one ES module: OUT_FILE.
# Installs the dependencies pinned in package-lock.json first when node_modules is missing or
# older than the lock file. Idempotent; any failure stops it with a non-zero status.
set -euo pipefail
if [ $# -ne 1 ]; then
  echo "usage: $0 OUT_FILE" >&2
  exit 2
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$1"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac

cd "$here"
stamp="node_modules/.package-lock.json"
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi

mkdir -p "$(dirname "$out")"
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
node build.mjs "$tmp"
# Nothing of Node may leak in: a bare V8 context has no require, process or Buffer.
if grep -nE '\brequire\(|\bprocess\.|\bBuffer\.' "$tmp" | grep -v '^\s*//' >&2; then
  echo "bundle.sh: the bundle references Node APIs (above)" >&2
  exit 1
fi
mv "$tmp" "$out"
trap - EXIT
