#!/usr/bin/env bash
# Alarm benchmark: builds duro in Release mode, starts duro-test-server on a free loopback port
# with a fresh data dir (--idle-timeout-ms 500, --threads: cores unless DURO_THREADS) and
#   1. records the server's RSS once it answers (VmRSS from /proc/PID/status);
#   2. sets one alarm on each of 100,000 new objects of the ALARM probe class over 16 keep-alive
#      connections (bench/alarm_driver.py), due times spread evenly over a window (default 60 s) meant to
#      start 5 s after the last set (the driver places the window from the set rate it measures
#      first on 10,000 other new objects, whose alarms an hour ahead stay pending, and reports the
#      actual gap);
#   3. waits until every object has been evicted again (/stats liveObjects <= 10) and records RSS
#      with the 110,000 alarms pending: (RSS_pending - RSS_start) / 110,000 estimates the memory
#      per pending alarm (an upper bound: it also holds whatever setting left behind, such as
#      allocator caches and storage caches);
#   4. waits until /alarmstats counts 100,000 alarm runs and prints their lateness (run time minus
#      due time) p50/p99/max, the runs the scheduler started (retries included: alarmsFired), how
#      long after the window's end the last one ran, and the error/warn lines in the server's log.
#      The probe counts a run when its handler returns, before its writes commit: a run whose
#      commit then fails still counts (its "object reset" shows among the error lines).
# Takes about 1.5-2 minutes on a 2-core machine, plus the build.
# Usage: bench/alarms.sh
# Env: DURO_THREADS (server shards, default: cores), DURO_ALARM_COUNT (default 100000),
#      DURO_ALARM_WINDOW_MS (default 60000), DURO_ALARM_LEAD_MS (default 5000),
#      DURO_ALARM_CONNECTIONS (default 16), DURO_BENCH_TMP (parent of the temp dir, default:
#      $TMPDIR or /tmp).
set -euo pipefail
cd "$(dirname "$0")/.."
count="${DURO_ALARM_COUNT:-100000}"
window_ms="${DURO_ALARM_WINDOW_MS:-60000}"
lead_ms="${DURO_ALARM_LEAD_MS:-5000}"
connections="${DURO_ALARM_CONNECTIONS:-16}"
calibration=10000
threads="${DURO_THREADS:-}"
source bench/lib.sh
bench_init alarm
start_server run --idle-timeout-ms 500
shards="$(sed -n 's/.*with \([0-9]*\) shards.*/\1/p' "$work/run/log" | head -1)"

now_ms() { date +%s%3N; }
# get PATH: the body of one GET; generous timeout (a burst of due alarms keeps the shards busy).
get() { curl -sf -m 120 "http://127.0.0.1:$port$1"; }
json_field() {  # json_field FIELD JSON: one number
  sed -n "s/.*\"$1\":\(-\{0,1\}[0-9]*\).*/\1/p" <<<"$2"
}
field() {  # field NAME LINE: value of NAME=value in a RESULT line
  sed -n "s/.*[ ]$1=\([^ ]*\).*/\1/p" <<<" $2"
}

get /stats >/dev/null
rss_start="$(rss_kb)"
echo "duro alarm benchmark: $(nproc) cores shared by server and driver, server shards $shards," \
  "--idle-timeout-ms 500"
echo "data dir file system: $(df -PT "$work" | awk 'NR==2 {print $1 " (" $2 ")"}')"
echo "setting $count alarms over $connections connections, due over ${window_ms} ms starting" \
  "${lead_ms} ms after the last set"

driver_rc=0
driver_line="$(python3 bench/alarm_driver.py --port "$port" --count "$count" \
  --connections "$connections" --lead-ms "$lead_ms" --window-ms "$window_ms" \
  --calibration "$calibration" |
  grep '^RESULT')" || driver_rc=$?
set_done_ms="$(now_ms)"
[ -n "$driver_line" ] || { echo "alarm_driver failed"; exit 1; }
window_start="$(field window_start_ms "$driver_line")"
window_end=$((window_start + window_ms))

# Pending: every object evicted again, nothing fired yet (if the window has not started).
live=""
while :; do
  stats="$(get /stats || true)"
  live="$(json_field liveObjects "$stats")"
  [ -n "$live" ] && [ "$live" -le 10 ] && break
  [ "$(now_ms)" -lt $((set_done_ms + 30000)) ] || break
  sleep 0.1
done
rss_pending="$(rss_kb)"
pending="$(json_field alarmsPending "$stats")"
open_dbs="$(json_field openDatabases "$stats")"
measured_at="$(now_ms)"
fired_then="$(json_field fired "$(get /alarmstats || true)")"

# All fired: poll until /alarmstats counts every run. Gives up 5 minutes after the window, or
# once the count has not moved for 60 s after the window (runs lost or stuck).
fired=0
all_fired=0
last_fired=-1
last_change_ms="$(now_ms)"
while :; do
  alarmstats="$(get /alarmstats || true)"
  fired="$(json_field fired "$alarmstats")"
  if [ -n "$fired" ] && [ "$fired" -ge "$count" ]; then
    all_fired=1
    break
  fi
  now="$(now_ms)"
  if [ -n "$fired" ] && [ "$fired" != "$last_fired" ]; then
    last_fired="$fired"
    last_change_ms="$now"
  fi
  if [ "$now" -gt $((window_end + 300000)) ] ||
    { [ "$now" -gt "$window_end" ] && [ "$now" -gt $((last_change_ms + 60000)) ]; }; then
    echo "gave up waiting: $alarmstats"
    break
  fi
  sleep 0.2
done
all_fired_ms="$(now_ms)"
stats="$(get /stats || true)"
runs="$(json_field alarmsFired "$stats")"
pending_after="$(json_field alarmsPending "$stats")"
errors="$(grep -c ' error ' "$work/run/log" || true)"
warnings="$(grep -c ' warn ' "$work/run/log" || true)"
rss_end="$(rss_kb)"

awk -v line="${driver_line#RESULT }" -v rs="$rss_start" -v rp="$rss_pending" -v re="$rss_end" \
  -v n="$count" -v k="$calibration" -v pending="$pending" -v live="$live" -v dbs="$open_dbs" \
  -v lag="$((measured_at - set_done_ms))" -v firedThen="$fired_then" \
  -v stats="$alarmstats" -v runs="$runs" -v pendingAfter="$pending_after" \
  -v errors="$errors" -v warnings="$warnings" \
  -v afterWindow="$((all_fired_ms - window_end))" -v all="$all_fired" -v fired="$fired" \
  -v gap="$(field gap_ms "$driver_line")" \
  -v seconds="$(field seconds "$driver_line")" -v rate="$(field rate "$driver_line")" 'BEGIN {
    printf "  driver: %s\n", line
    printf "  setting: %d alarms in %s s (%s sets/s, after %d calibration sets); window " \
      "started %.1f s after the last set\n", n, seconds, rate, k, gap / 1000
    printf "  RSS: start %.1f MiB, pending %.1f MiB (%.1f s after setting; liveObjects=%s " \
      "openDatabases=%s alarmsPending=%s, runs so far %s), %.0f bytes per pending alarm\n",
      rs / 1024, rp / 1024, lag / 1000, live, dbs, pending, firedThen,
      (rp - rs) * 1024 / (n + k)
    printf "  fired: %s\n", stats
    if (all) printf "  all %d runs seen %.1f s after the window end (polled every 0.2 s); ", n,
      afterWindow / 1000
    else printf "  NOT ALL RAN: %s of %d runs recorded, %.1f s after the window end; ", fired, n,
      afterWindow / 1000
    printf "scheduler runs %s (retries: %d), alarmsPending %s (calibration: %d), log lines: " \
      "%s error, %s warn; RSS then %.1f MiB\n", runs, runs - n, pendingAfter, k, errors,
      warnings, re / 1024 }'
[ "$driver_rc" -eq 0 ] || echo "  alarm_driver reported errors (exit $driver_rc)"
if [ "$errors" -ne 0 ]; then
  echo "  first error lines:"
  grep ' error ' "$work/run/log" | head -3 | cut -c1-240
fi
[ "$all_fired" -eq 1 ] && [ "$driver_rc" -eq 0 ]
