#!/usr/bin/env bash
# Installs Cloudflare's workerd (the reference runtime duro is compared with) from the npm
# registry into .deps/workerd of the checkout (or $DURO_WORKERD_DIR) and prints the binary's path.
# Idempotent. Used by the compatibility tests (DURO_COMPAT_WORKERD=1) and bench/compare-workerd.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="${DURO_WORKERD_DIR:-$root/.deps/workerd}"
version="1.20261123.1"
bin="$dest/node_modules/@cloudflare/workerd-linux-64/bin/workerd"
if [ ! -x "$bin" ] || ! grep -q "\"version\": \"$version\"" "$dest/node_modules/workerd/package.json" 2>/dev/null; then
  mkdir -p "$dest"
  (cd "$dest" && npm install --no-audit --no-fund --loglevel=error "workerd@$version" ws >&2)
fi
echo "$bin"
