#!/usr/bin/env bash
# Installs every Debian package that building, running, testing and benchmarking duro needs.
# Idempotent and safe to run again; run as root on Debian 12 (uses sudo when not root).
# It never replaces Node.js: the machine may carry Node.js 20 from another source (npm is
# installed from Debian only when there is none). V8 comes from Debian's libnode, extracted into
# .deps/libnode (see tools/fetch-libnode.sh for why it is not installed normally).
set -euo pipefail

packages=(
  build-essential clang-16 cmake ninja-build pkg-config git
  libboost1.81-dev        # Asio (event loops) and Beast (HTTP/WebSocket)
  libssl-dev              # HMAC/SHA-256 and the random source for object IDs
  libsqlite3-dev          # per-object storage
  zlib1g-dev              # CRC32 of commit-log records
  libcli11-dev            # command-line parsing
  libtomlplusplus-dev     # wrangler.toml
  nlohmann-json3-dev      # wrangler.json / wrangler.jsonc
  libicu72 libuv1 libbrotli1 libc-ares2 libnghttp2-14   # what Debian's libnode.so.108 links to
  libgtest-dev libgmock-dev libbenchmark-dev
  wrk                     # load driver for bench/
  python3                 # test and bench drivers
  curl procps
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all packages present"
fi

# npm: the JavaScript libraries bundled into duro (URL, streams) and workerd for comparisons.
if ! command -v npm >/dev/null 2>&1; then
  echo "setup: installing npm (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends nodejs npm
fi

bash "$(dirname "$0")/fetch-libnode.sh"
