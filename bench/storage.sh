#!/usr/bin/env bash
# Durable storage benchmark: builds duro in Release mode, then
#   1. fsync probe   write(512 B) + fdatasync per second on one file in the data directory's file
#                    system (bench/fsync_probe.cc): the rate one thread syncing every write gets;
#   2. durable rows  duro-test-server on a free loopback port with a fresh data dir, driven by wrk:
#                      hot-object   GET /counter/hot             (every request to one object)
#                      spread-1000  GET /counter/obj<1..1000>    (random object of 1,000)
#                    each request is a get + put whose response leaves only once durable. Per row:
#                    req/s, p50/p99, log fsyncs and object commits per 1,000 requests (from the
#                    server's /stats before and after the measured run) and req/s / probe rate;
#   3. object churn  a fresh server (fresh data dir, --idle-timeout-ms 60000 so nothing is evicted)
#                    gets GET /counter/churn-<i> for 100,000 new names (bench/object_churn.cc):
#                    new objects/s, server RSS before/after and per object, and, after SIGTERM,
#                    the data dir's size (du -sb) and number of *.sqlite files.
# Takes about 1 + 2 * (2 + seconds) s plus the churn (at most 50 s) and the build.
# Usage: bench/storage.sh [seconds per row, default 10] [connections, default 32]
# Env: DURO_THREADS (server shards, default: cores), DURO_CHURN_COUNT (default 100000),
#      DURO_CHURN_TIME_LIMIT (seconds, default 50), DURO_CHURN_IDLE_MS (the churn server's
#      --idle-timeout-ms, default 60000), DURO_BENCH_TMP (parent of the temp dirs, default:
#      $TMPDIR or /tmp; e.g. /dev/shm to take the disk out of the picture).
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-10}"
connections="${2:-32}"
threads="${DURO_THREADS:-$(nproc)}"
churn_count="${DURO_CHURN_COUNT:-100000}"
churn_time_limit="${DURO_CHURN_TIME_LIMIT:-50}"
churn_idle_ms="${DURO_CHURN_IDLE_MS:-60000}"
source bench/lib.sh
bench_init storage
probe_bin=build-release/bench/fsync_probe
churn_bin=build-release/bench/object_churn

stat_field() {  # stat_field FIELD: one number from the server's /stats
  curl -sf "http://127.0.0.1:$port/stats" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"
}


field() {  # field NAME LINE: value of NAME=value in a RESULT line
  sed -n "s/.*[ ]$1=\([^ ]*\).*/\1/p" <<<" $2"
}

echo "duro storage benchmark: $(nproc) cores shared by server and load, server --threads $threads"
echo "data dir file system: $(df -PT "$work" | awk 'NR==2 {print $1 " (" $2 ")"}')"

# 1. fsync probe in the data directory's file system.
mkdir -p "$work/probe"
probe_out="$("$probe_bin" "$work/probe" --seconds 1)"
probe_rate="$(sed -n 's/^fdatasync_per_s=//p' <<<"$probe_out")"
probe_detail="$(grep '^mode=' <<<"$probe_out")"
echo
echo "fsync probe (write 512 B + fdatasync, one file, 1 s): fdatasync_per_s=$probe_rate"
echo "  $probe_detail"

# 2. Durable rows.
start_server rows
echo
echo "durable counter rows: wrk -t2 -c$connections -d${duration}s (after a 2 s warm-up)"
printf '%-12s %9s %9s %9s %11s %13s %9s %7s\n' row req/s p50_ms p99_ms fsync/1k commits/1k \
  'rps/fsync' errors
run_row() {
  local name="$1" path="$2" spread="$3"
  # Warm up: 2 s, extended (up to 10 s more) until every object of the row has been constructed, so
  # that the measured run creates no objects (object creation can be slow: see the churn part).
  local want=$((spread > 0 ? spread : 1)) constructed0 extra=0
  constructed0="$(stat_field objectsConstructed)"
  DURO_SPREAD="$spread" wrk -t2 -c"$connections" -d2s -s bench/wrk/report.lua \
    "http://127.0.0.1:$port$path" >/dev/null
  while [ $(($(stat_field objectsConstructed) - constructed0)) -lt "$want" ] &&
    [ $extra -lt 10 ]; do
    DURO_SPREAD="$spread" wrk -t2 -c"$connections" -d1s -s bench/wrk/report.lua \
      "http://127.0.0.1:$port$path" >/dev/null
    extra=$((extra + 1))
  done
  [ $extra -eq 0 ] || echo "  ($name: warm-up extended by ${extra} s until its objects existed)"
  local syncs0 commits0 syncs1 commits1 line
  syncs0="$(stat_field logSyncs)"
  commits0="$(stat_field commits)"
  line="$(DURO_SPREAD="$spread" wrk -t2 -c"$connections" -d"${duration}s" -s bench/wrk/report.lua \
    "http://127.0.0.1:$port$path" | grep '^RESULT')"
  syncs1="$(stat_field logSyncs)"
  commits1="$(stat_field commits)"
  local requests rps p50 p99 errors
  requests="$(field requests "$line")"
  rps="$(field rps "$line")"
  p50="$(field p50_ms "$line")"
  p99="$(field p99_ms "$line")"
  errors="$(field errors "$line")"
  awk -v n="$name" -v req="$requests" -v rps="$rps" -v p50="$p50" -v p99="$p99" \
    -v s="$((syncs1 - syncs0))" -v c="$((commits1 - commits0))" -v probe="$probe_rate" \
    -v e="$errors" 'BEGIN {
      printf "%-12s %9.0f %9.3f %9.3f %11.1f %13.1f %9.2f %7d\n", n, rps, p50, p99,
        (req > 0 ? s * 1000 / req : 0), (req > 0 ? c * 1000 / req : 0),
        (probe > 0 ? rps / probe : 0), e }'
}
run_row "hot-object" "/counter/hot" 0
run_row "spread-1000" "/counter/" 1000
stop_server

# 3. Object churn: 100,000 new objects on a fresh server that keeps them loaded (the idle timeout
#    outlasts the run unless the time limit is raised above it).
start_server churn --idle-timeout-ms "$churn_idle_ms"
sleep 0.2
rss_before="$(rss_kb)"
echo
echo "object churn: $churn_count new objects, $connections connections (object_churn)"
churn_rc=0
churn_line="$("$churn_bin" --port "$port" --connections "$connections" --count "$churn_count" \
  --prefix churn- --time-limit "$churn_time_limit" | grep '^RESULT')" || churn_rc=$?
rss_after="$(rss_kb)"
live="$(stat_field liveObjects)"
open_dbs="$(stat_field openDatabases)"
stop_start=$(date +%s.%N)
stop_server
stop_seconds="$(awk -v a="$stop_start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')"
data_bytes="$(du -sb "$work/churn/data" | cut -f1)"
sqlite_files="$(find "$work/churn/data" -name '*.sqlite' | wc -l)"
requests="$(field requests "$churn_line")"
awk -v line="${churn_line#RESULT }" -v b="$rss_before" -v a="$rss_after" -v n="$requests" \
  -v live="$live" -v dbs="$open_dbs" -v bytes="$data_bytes" -v files="$sqlite_files" \
  -v stop="$stop_seconds" 'BEGIN {
    printf "  %s\n", line
    printf "  server RSS: before %.1f MiB, after %.1f MiB, %.0f bytes per object " \
      "(liveObjects=%s openDatabases=%s)\n", b / 1024, a / 1024, (n > 0 ? (a - b) * 1024 / n : 0),
      live, dbs
    printf "  SIGTERM to exit: %s s\n", stop
    printf "  data dir after SIGTERM: %.1f MiB (%d bytes, %.0f bytes per object), " \
      "%d *.sqlite files\n",
      bytes / 1048576, bytes, (n > 0 ? bytes / n : 0), files }'
if [ "${requests:-0}" -lt "$churn_count" ]; then
  echo "  only ${requests:-0} of $churn_count objects were created within ${churn_time_limit} s" \
    "(RSS per object includes the fixed cost of the open databases; DURO_CHURN_TIME_LIMIT and" \
    "DURO_CHURN_IDLE_MS allow a complete run)"
fi
[ "$churn_rc" -eq 0 ] || echo "  object_churn reported errors (exit $churn_rc)"
