#!/usr/bin/env bash
# HTTP throughput of native C++ objects: builds duro in Release mode, starts native-counter on a
# free loopback port, and drives it with wrk over three routes:
#   stateless   GET /                       (the Worker answers; no object)
#   hot object  GET /counter/hot            (every request to one object)
#   spread      GET /counter/obj<1..1000>   (random object of 1,000)
# Prints requests/s and p50/p99 latency per row (wrk's own percentiles).
# Usage: bench/native-http.sh [seconds per row, default 10] [connections, default 32]
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-10}"
connections="${2:-32}"
DURO_BUILD_DIR=build-release bash tools/build.sh Release >/dev/null

data="$(mktemp -d)"
log="$(mktemp)"
build-release/examples/native-counter/native-counter --listen 127.0.0.1:0 --data "$data" \
  --log-level info 2>"$log" &
server=$!
cleanup() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$data" "$log"; }
trap cleanup EXIT

port=""
for _ in $(seq 1 200); do
  port="$(sed -n 's/.*listening on http:\/\/[^ ]*:\([0-9]*\).*/\1/p' "$log" | head -1)"
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { echo "native-counter did not start:"; cat "$log"; exit 1; }

run() {
  local name="$1" path="$2" spread="$3"
  # Warm up (constructs the objects), then measure.
  DURO_SPREAD="$spread" wrk -t2 -c"$connections" -d2s -s bench/wrk/report.lua \
    "http://127.0.0.1:$port$path" >/dev/null
  local line
  line="$(DURO_SPREAD="$spread" wrk -t2 -c"$connections" -d"${duration}s" -s bench/wrk/report.lua \
    "http://127.0.0.1:$port$path" | grep '^RESULT')"
  printf '%-12s %s\n' "$name" "${line#RESULT }"
}

echo "native-counter, wrk -t2 -c$connections -d${duration}s, $(nproc) cores shared by server and wrk"
run "stateless" "/" 0
run "hot-object" "/counter/hot" 0
run "spread-1000" "/counter/" 1000
