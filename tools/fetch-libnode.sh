#!/usr/bin/env bash
# Puts Debian's V8 (libnode108 + libnode-dev, Node 18 / V8 10.2) into .deps/libnode of the
# checkout (or $DURO_LIBNODE_DIR) by extracting the two .deb packages. Idempotent.
#
# Why not `apt-get install libnode-dev`: on machines that carry Node.js 20 from NodeSource (as the
# development and CI machines do), apt refuses (libnode108 wants Debian's nodejs 18 packages) and
# /usr/include/node holds Node 20's V8 11 headers, which compile against libnode.so.108 and then
# crash. Headers and library must come from the same Debian version: extracting both guarantees it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="${DURO_LIBNODE_DIR:-$root/.deps/libnode}"
lib="$dest/usr/lib/x86_64-linux-gnu/libnode.so.108"
header="$dest/usr/include/node/v8-version.h"
if [ -f "$lib" ] && [ -f "$header" ]; then
  exit 0
fi
echo "setup: fetching Debian's libnode108 and libnode-dev into $dest"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
if ! apt-get download libnode108 libnode-dev >/dev/null 2>&1; then
  $SUDO apt-get update -qq
  apt-get download libnode108 libnode-dev >/dev/null
fi
rm -rf "$dest.tmp"
mkdir -p "$dest.tmp"
for f in *.deb; do dpkg-deb -x "$f" "$dest.tmp"; done
grep -q '#define V8_MAJOR_VERSION 10' "$dest.tmp/usr/include/node/v8-version.h" || {
  echo "setup: unexpected V8 version in libnode-dev" >&2
  exit 1
}
rm -rf "$dest"
mv "$dest.tmp" "$dest"
