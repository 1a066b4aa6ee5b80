#!/usr/bin/env bash
# duro against workerd on the same Worker project (bench/compare-workerd/worker/), same machine,
# one run. See bench/compare-workerd/README.md.
#
#   bench/compare-workerd/run.sh [seconds per row, default 10] [connections, default 32]
#
# For each row and each runtime (the order alternates between rows): start the runtime fresh on a
# free loopback port with an empty data dir, check the route answers as expected, construct the
# row's objects (rows over many keys: one request per key, create_objects.py), warm up 2 s, probe
# the disk (fsync_probe.py, 0.5 s: the shared disk has slow episodes), run
# `wrk -t2 -c<connections> -d<seconds>s --latency` (wrk/route.lua), stop it (SIGTERM, SIGKILL
# after a timeout), delete its data. Rows: stateless, hot, spread-1000, read, limiter (KV-backed
# objects, worker/), sql-counter, sql-rows (SQLite-backed objects, worker-sql/). WebSocket
# rows (ws-echo-1, ws-echo-64, ws-fanout-1000) run bench/ws_driver.cc (`ws-driver`) instead of wrk
# against the Worker's /ws/* routes. Then, per runtime, a fresh server gets N new objects
# (create_objects.py): RSS and CPU time per object; and (duro only by default) ws-hold: RSS per
# hibernated WebSocket connection.
# Prints a table with the ratios duro/workerd against the targets and writes it as Markdown to
# bench/results/compare-workerd-<date>.md.
#
# Env:
#   RUNTIMES               which runtimes to run: "duro workerd" (default), "workerd", "duro"
#   DURO_BIN               the duro binary (default: build-release/src/cli/duro, built first with
#                          DURO_BUILD_DIR=build-release tools/build.sh Release)
#   WORKERD_BIN            the workerd binary (default: the one tools/install-workerd.sh installs)
#   DURO_THREADS           duro serve --threads (default: cores)
#   DURO_FLAGS             extra flags for every `duro serve` (e.g. "--log-level warn")
#   CW_DURO_MEMORY_FLAGS   extra duro flags for the memory part (default "--idle-timeout-ms
#                          600000": every created object stays loaded while it is measured)
#   CW_OBJECTS             objects created in the memory part (default 5000)
#   CW_OBJECTS_DURO        the same for duro only (default CW_OBJECTS; duro must handle 100000)
#   CW_CREATE_CONCURRENCY  connections of the creating client (default: connections)
#   CW_CREATE_TIME_LIMIT   seconds allowed for the creation (default 600)
#   CW_ROWS                a subset of rows, e.g. "stateless hot" or "sql-counter sql-rows"
#                          (default: all, plus "memory" and "ws-hold")
#   WS_DRIVER_BIN          the WebSocket load driver (default build-release/bench/ws-driver, built
#                          with duro or alone: cmake --build build-release --target ws-driver)
#   CW_WS_THREADS          ws-driver threads (default 2, like wrk -t2 in the HTTP rows)
#   CW_WS_ECHO64_ROOMS     rooms of the ws-echo-64 row: 64 (default: one object per connection) or
#                          1 (all 64 connections on one object)
#   CW_WS_FANOUT_WINDOW    broadcasts in flight in ws-fanout-1000 (default 1: the next message
#                          leaves once all 1,000 listeners received the previous one)
#   CW_WS_HOLD             connections of the ws-hold part (default 5000)
#   CW_WS_HOLD_ROOMS       objects they are spread over (default 50, i.e. 100 per object)
#   CW_WS_HOLD_RUNTIMES    runtimes of the ws-hold part (default "duro"; "duro workerd" adds
#                          workerd's figure for context)
#   CW_WS_HOLD_DURO_FLAGS  extra duro flags for ws-hold (default "--idle-timeout-ms 1000": the
#                          objects hibernate 1 s after their last message)
#   CW_WS_HOLD_WAIT_DURO   seconds from the last probe to the RSS reading (default 5)
#   CW_WS_HOLD_WAIT_WORKERD  the same for workerd (default 20: it evicts after ~10 s idle)
#   CW_REPEAT              rounds of the rows (default 1); the table shows each figure's median
#                          over the rounds (the memory part runs once, after them)
#   CW_START_TIMEOUT       seconds a runtime may take to answer after start (default 60)
#   CW_STOP_TIMEOUT        seconds after SIGTERM before SIGKILL (default 60)
#   CW_KEEP_LOGS           1: keep the temp dir (server logs, wrk output) and print its path
#   DURO_BENCH_TMP         parent of the temp dir (default $TMPDIR or /tmp)
# Exit status: 0 when every requested runtime ran every row validly (targets met or not), else 1.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=bench/compare-workerd
duration="${1:-10}"
connections="${2:-32}"
runtimes="${RUNTIMES:-duro workerd}"
runtimes="${runtimes//,/ }"
threads="${DURO_THREADS:-$(nproc)}"
objects="${CW_OBJECTS:-5000}"
objects_duro="${CW_OBJECTS_DURO:-$objects}"
create_concurrency="${CW_CREATE_CONCURRENCY:-$connections}"
create_time_limit="${CW_CREATE_TIME_LIMIT:-600}"
start_timeout="${CW_START_TIMEOUT:-60}"
stop_timeout="${CW_STOP_TIMEOUT:-60}"
rows="${CW_ROWS:-stateless hot spread-1000 read limiter sql-counter sql-rows ws-echo-1 ws-echo-64 ws-fanout-1000 memory ws-hold}"
repeat="${CW_REPEAT:-1}"
round=1
duro_flags="${DURO_FLAGS:-}"
duro_memory_flags="${CW_DURO_MEMORY_FLAGS---idle-timeout-ms 600000}"
wrk_threads=2
ws_threads="${CW_WS_THREADS:-2}"
ws_echo64_rooms="${CW_WS_ECHO64_ROOMS:-64}"
ws_fanout_window="${CW_WS_FANOUT_WINDOW:-1}"
ws_hold="${CW_WS_HOLD:-5000}"
ws_hold_rooms="${CW_WS_HOLD_ROOMS:-50}"
ws_hold_runtimes="${CW_WS_HOLD_RUNTIMES:-duro}"
ws_hold_duro_flags="${CW_WS_HOLD_DURO_FLAGS---idle-timeout-ms 1000}"
ws_hold_wait_duro="${CW_WS_HOLD_WAIT_DURO:-5}"
ws_hold_wait_workerd="${CW_WS_HOLD_WAIT_WORKERD:-20}"
ws_warmup=2

for n in "$duration" "$connections" "$threads" "$objects" "$objects_duro" "$create_concurrency" \
  "$repeat" "$ws_threads" "$ws_echo64_rooms" "$ws_fanout_window" "$ws_hold" "$ws_hold_rooms" \
  "$ws_hold_wait_duro" "$ws_hold_wait_workerd"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: expected a positive integer, got '$n'" >&2; exit 2; }
done
for rt in $runtimes; do
  [[ "$rt" == duro || "$rt" == workerd ]] ||
    { echo "run.sh: RUNTIMES: unknown runtime '$rt' (duro, workerd)" >&2; exit 2; }
done
[ -n "${runtimes// /}" ] || { echo "run.sh: RUNTIMES is empty" >&2; exit 2; }
command -v wrk >/dev/null || { echo "run.sh: wrk is not installed" >&2; exit 2; }

work="$(mktemp -d "${DURO_BENCH_TMP:-${TMPDIR:-/tmp}}/duro-compare-workerd.XXXXXX")"
pid=""       # the runtime being measured
exit_cpu_ms=""
child=""     # wrk or the creating client, while it runs
results="$work/results.tsv"
: >"$results"
declare -A broken=()   # runtime (or runtime/project, see start_runtime) -> why it cannot run
project=worker         # the Worker project start_runtime serves: bench/compare-workerd/$project/

# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  [ -z "$child" ] || { kill -TERM "$child" 2>/dev/null || true; wait "$child" 2>/dev/null || true; }
  [ -z "$pid" ] || stop_runtime quiet
  if [ "${CW_KEEP_LOGS:-0}" = 1 ]; then
    echo "logs kept in $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'echo "interrupted"; exit 130' INT TERM

alive() {  # alive PID: running (not exited, not a zombie)
  local state
  state="$(awk '{sub(/.*\) /, ""); print $1}' "/proc/$1/stat" 2>/dev/null)" || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# run_child FILE CMD...: runs CMD in the background with stdout to FILE and waits for it (so that
# Ctrl-C or SIGTERM reach the trap at once); returns CMD's status.
run_child() {
  local out="$1" rc=0
  shift
  "$@" >"$out" &
  child=$!
  wait "$child" || rc=$?
  child=""
  return "$rc"
}

# start_runtime RUNTIME LABEL [EXTRA DURO FLAGS...]: a fresh server for the Worker project
# $project in $rt_dir (data in $rt_dir/data) on a free port; sets $pid, $port, $rt_dir. Returns 1
# (having printed why and marked the runtime broken) when it does not answer GET /stateless with
# 200 in time. A runtime that cannot serve another project than worker/ is marked broken for that
# project only (broken[RUNTIME/PROJECT]: e.g. a duro without SQLite-backed classes still runs the
# KV rows).
start_runtime() {
  local rt="$1" label="$2" bkey="$1"
  shift 2
  [ "$project" = worker ] || bkey="$rt/$project"
  rt_dir="$work/$label-$rt-$round"
  mkdir -p "$rt_dir"
  port="$(free_port)"
  case "$rt" in
    duro)
      # shellcheck disable=SC2086  # DURO_FLAGS is a list of flags
      "$duro_bin" serve --config "$PWD/$here/$project/wrangler.toml" --listen "127.0.0.1:$port" \
        --data "$rt_dir/data" --threads "$threads" $duro_flags "$@" >"$rt_dir/log" 2>&1 &
      ;;
    workerd)
      python3 "$here/workerd_config.py" "$here/$project/wrangler.toml" "$rt_dir" --port "$port" \
        --storage "$rt_dir/data" >"$rt_dir/log" 2>&1 || {
        echo "  workerd: generating its config failed:"; sed 's/^/    /' "$rt_dir/log"
        broken[$bkey]="config generation failed"; return 1; }
      "$workerd_bin" serve "$rt_dir/config.capnp" >"$rt_dir/log" 2>&1 &
      ;;
  esac
  pid=$!
  local deadline=$((SECONDS + start_timeout)) code
  while :; do
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/stateless" || true)"
    [ "$code" = 200 ] && return 0
    if ! alive "$pid"; then
      local rc=0
      wait "$pid" || rc=$?
      pid=""
      echo "  $rt exited during start-up (status $rc); its output:"
      tail -n 20 "$rt_dir/log" | sed 's/^/    /'
      if [ "$rt" = duro ] && grep -qi -- '--config' "$rt_dir/log"; then
        echo "    (this duro cannot serve a Worker project yet: it needs \`duro serve --config\`)"
      fi
      broken[$bkey]="did not start (exit status $rc)"
      return 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      echo "  $rt did not answer GET /stateless with 200 within ${start_timeout} s (last: ${code:-none}); its output:"
      tail -n 20 "$rt_dir/log" | sed 's/^/    /'
      [ -z "$(grep -i 'listening on' "$rt_dir/log" || true)" ] || echo "    (it logged that it listens)"
      stop_runtime quiet
      broken[$bkey]="did not answer within ${start_timeout} s"
      return 1
    fi
    sleep 0.1
  done
}

# cpu_ms PID: the process's utime + stime in ms (empty once it has exited).
clk_tck="$(getconf CLK_TCK)"
cpu_ms() {
  awk -v hz="$clk_tck" '{sub(/.*\) /, ""); printf "%.0f", ($12 + $13) * 1000 / hz}' \
    "/proc/$1/stat" 2>/dev/null || true
}

# stop_runtime [quiet]: SIGTERM, SIGKILL after $stop_timeout s; deletes the data dir. Sets
# $stop_seconds and $exit_cpu_ms (the server's CPU time last seen before it exited, sampled every
# 20 ms).
stop_runtime() {
  [ -n "$pid" ] || return 0
  local start=$SECONDS rc=0 killed=""
  local t0
  t0="$(date +%s.%N)"
  kill -TERM "$pid" 2>/dev/null || true
  exit_cpu_ms=""
  while alive "$pid"; do
    local c
    c="$(cpu_ms "$pid")"
    [ -z "$c" ] || exit_cpu_ms="$c"
    if [ $((SECONDS - start)) -ge "$stop_timeout" ]; then
      kill -KILL "$pid" 2>/dev/null || true
      killed=1
      break
    fi
    sleep 0.02
  done
  wait "$pid" 2>/dev/null || rc=$?
  stop_seconds="$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')"
  if [ "${1:-}" != quiet ]; then
    if [ -n "$killed" ]; then
      echo "  warning: it did not exit within ${stop_timeout} s of SIGTERM: killed"
    elif [ "$rc" -ne 0 ] && [ "$rc" -ne 143 ]; then
      echo "  warning: it exited with status $rc after SIGTERM"
    fi
  fi
  pid=""
  rm -rf "${rt_dir:?}/data"
}

field() {  # field NAME LINE: value of NAME=value in a RESULT line
  sed -n "s/.*[ ]$1=\([^ ]*\).*/\1/p" <<<" $2"
}

# get PATH: prints "STATUS BODY" of one GET to the runtime being measured.
get() {
  local body_file="$rt_dir/body" code
  code="$(curl -s -o "$body_file" -w '%{http_code}' --max-time 10 "http://127.0.0.1:$port$1" || true)"
  echo "$code $(head -c 200 "$body_file" 2>/dev/null | tr -d '\r\n')"
}

# record KIND NAME RUNTIME STATUS key=value...: one line of results.tsv.
record() { local IFS=$'\t'; echo "$*"$'\t'"round=$round" >>"$results"; }

# run_row NAME: one benchmark row on every runtime.
row_index=0
run_row() {
  local name="$1" path keys=0 pick=rr smoke expect hot_key="" hot_share=0 allow429=0
  project=worker
  case "$name" in
    stateless) path=/stateless; smoke=/stateless; expect='^200 ok$' ;;
    hot) path=/hot; smoke=/hot; expect='^200 1$' ;;
    spread-1000) path=/spread/; keys=1000; smoke=/spread/0; expect='^200 1$' ;;
    read) path=/read; smoke=/read; expect='^200 1$' ;;
    limiter) path=/limit/; keys=1000; hot_key=hot; hot_share=0.1; allow429=1
      smoke=/limit/0; expect='^200 99$' ;;
    sql-counter) project=worker-sql; path=/sql/counter; smoke=/sql/counter; expect='^200 1$' ;;
    sql-rows) project=worker-sql; path=/sql/rows; smoke=/sql/rows; expect='^200 10$' ;;
  esac
  local order
  read -ra order <<<"$runtimes"
  if [ $((row_index % 2)) -eq 1 ] && [ ${#order[@]} -eq 2 ]; then order=("${order[1]}" "${order[0]}"); fi
  row_index=$((row_index + 1))
  local rt
  for rt in "${order[@]}"; do
    local why="${broken[$rt]:-${broken[$rt/$project]:-}}"
    if [ -n "$why" ]; then
      printf '  %-12s %-8s skipped: %s\n' "$name" "$rt" "$why"
      record row "$name" "$rt" failed "note=$why"
      continue
    fi
    if ! start_runtime "$rt" "$name"; then
      why="${broken[$rt]:-${broken[$rt/$project]:-}}"
      printf '  %-12s %-8s FAILED: %s\n' "$name" "$rt" "$why"
      record row "$name" "$rt" failed "note=$why"
      continue
    fi
    local got problems=""
    if [ "$name" = read ]; then
      got="$(get /seed)"
      [ "$got" = "200 1" ] || problems="GET /seed gave '$got', expected '200 1'; "
    fi
    got="$(get "$smoke")"
    [[ "$got" =~ $expect ]] || problems+="GET $smoke gave '$got', expected /$expect/; "
    local env=(CW_PATH="$path" CW_KEYS="$keys" CW_PICK="$pick" CW_THREADS="$wrk_threads"
      CW_HOT_KEY="$hot_key" CW_HOT_SHARE="$hot_share")
    local url="http://127.0.0.1:$port" line="" touched=""
    if [ -z "$problems" ] && [ "$keys" -gt 0 ]; then
      # Construct every object of the row first (object creation is slow in workerd: a 2 s
      # warm-up would not reach them all), so that the measured run creates none.
      local also=()
      [ -z "$hot_key" ] || also=(--also "$hot_key")
      if run_child "$rt_dir/touch.txt" python3 "$here/create_objects.py" --port "$port" \
        --prefix "$path" --count "$keys" "${also[@]}" --accept ok --concurrency "$connections" \
        --time-limit "$create_time_limit" 2>"$rt_dir/touch.err"; then
        touched="$(field seconds "$(grep '^RESULT' "$rt_dir/touch.txt")")"
      else
        problems+="constructing the row's objects failed: $(head -c 300 "$rt_dir/touch.err" | tr '\n' ' '); "
      fi
    fi
    if [ -z "$problems" ]; then
      run_child "$rt_dir/warm.txt" env "${env[@]}" wrk -t"$wrk_threads" -c"$connections" -d2s \
        -s "$here/wrk/route.lua" "$url" || problems+="warm-up wrk failed; "
    fi
    local fsyncs=""
    if [ -z "$problems" ]; then
      fsyncs="$(python3 "$here/fsync_probe.py" "$rt_dir" 0.5 || true)"
      run_child "$rt_dir/wrk.txt" env "${env[@]}" wrk -t"$wrk_threads" -c"$connections" \
        -d"${duration}s" --latency -s "$here/wrk/route.lua" "$url" || problems+="wrk failed; "
      line="$(grep '^RESULT' "$rt_dir/wrk.txt" || true)"
      [ -n "$line" ] || problems+="no RESULT line from wrk; "
    fi
    local s2xx s429 s_other sock tmo
    s2xx="$(field s2xx "$line")"; s429="$(field s429 "$line")"; s_other="$(field s_other "$line")"
    sock="$(field socket_errors "$line")"; tmo="$(field timeouts "$line")"
    if [ -n "$line" ]; then
      [ "${s2xx:-0}" -gt 0 ] || problems+="no 2xx responses; "
      [ "${s_other:-0}" -eq 0 ] || problems+="$s_other responses neither 2xx nor 429; "
      [ "$allow429" = 1 ] || [ "${s429:-0}" -eq 0 ] || problems+="$s429 responses 429; "
      [ "${sock:-0}" -eq 0 ] || problems+="$sock socket errors; "
      [ "${tmo:-0}" -eq 0 ] || problems+="$tmo timeouts; "
      # After the run: the counter counted at least every measured response (and the warm-up's),
      # sql-rows kept 10 rows per measured response at least; the read row wrote nothing.
      if [ "$name" = hot ] || [ "$name" = sql-counter ]; then
        got="$(get "$path")"
        if [[ ! "$got" =~ ^200\ [0-9]+$ ]] || [ "${got#200 }" -le "$s2xx" ]; then
          problems+="GET $path after the run gave '$got', expected more than $s2xx; "
        fi
      elif [ "$name" = sql-rows ]; then
        got="$(get /sql/rows-count)"
        if [[ ! "$got" =~ ^200\ [0-9]+$ ]] || [ "${got#200 }" -le $((10 * s2xx)) ]; then
          problems+="GET /sql/rows-count after the run gave '$got', expected more than $((10 * s2xx)); "
        fi
      elif [ "$name" = read ]; then
        got="$(get /read)"
        [ "$got" = "200 1" ] || problems+="GET /read after the run gave '$got', expected '200 1'; "
      fi
    fi
    if [ -n "$problems" ]; then
      problems="${problems%; }"
      if ! alive "$pid"; then problems+="; the server exited"; fi
      printf '  %-12s %-8s INVALID: %s\n' "$name" "$rt" "$problems"
      tail -n 10 "$rt_dir/log" | sed 's/^/      log: /'
    fi
    stop_runtime
    if [ -n "$line" ]; then
      printf '  %-12s %-8s %10.0f req/s  p50 %7.3f ms  p99 %8.3f ms  2xx %d  429 %d  other %d  socket errors %d  timeouts %d  disk %s fsync/s%s\n' \
        "$name" "$rt" "$(field rps "$line")" "$(field p50_ms "$line")" "$(field p99_ms "$line")" \
        "$s2xx" "$s429" "$s_other" "$sock" "$tmo" "${fsyncs:-?}" \
        "${touched:+  (its objects constructed in $touched s before the warm-up)}"
    fi
    local status=ok
    [ -z "$problems" ] || status=invalid
    record row "$name" "$rt" "$status" "rps=$(field rps "$line")" "p50_ms=$(field p50_ms "$line")" \
      "p99_ms=$(field p99_ms "$line")" "max_ms=$(field max_ms "$line")" \
      "requests=$(field requests "$line")" "s2xx=$s2xx" "s429=$s429" "s_other=$s_other" \
      "socket_errors=$sock" "timeouts=$tmo" "construct_s=$touched" "fsync_per_s=$fsyncs" "note=$problems"
  done
}

# ws_order: the runtimes in this row's order (alternating between rows) in $order; advances
# row_index.
ws_order() {
  read -ra order <<<"$runtimes"
  if [ $((row_index % 2)) -eq 1 ] && [ ${#order[@]} -eq 2 ]; then order=("${order[1]}" "${order[0]}"); fi
  row_index=$((row_index + 1))
}

# rss_tree_kb PID: VmRSS of PID and its descendants (create_objects.py's reading).
rss_tree_kb() {
  python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import create_objects as c
print(c.rss_kb(c.process_tree(int(sys.argv[2]))))' "$here" "$1"
}

# run_ws_row NAME: one WebSocket row (ws-driver) on every runtime.
run_ws_row() {
  local name="$1" args=()
  project=worker
  case "$name" in
    ws-echo-1) args=(--mode echo --connections 1 --room-prefix e1-) ;;
    ws-echo-64) args=(--mode echo --connections 64 --rooms "$ws_echo64_rooms" --room-prefix e64-) ;;
    ws-fanout-1000) args=(--mode fanout --connections 1000 --window "$ws_fanout_window"
      --room-prefix fan-) ;;
  esac
  local order rt
  ws_order
  for rt in "${order[@]}"; do
    local why="${broken[$rt]:-${ws_broken}}"
    if [ -n "$why" ]; then
      printf '  %-14s %-8s skipped: %s\n' "$name" "$rt" "$why"
      record ws "$name" "$rt" failed "note=$why"
      continue
    fi
    if ! start_runtime "$rt" "$name"; then
      printf '  %-14s %-8s FAILED: %s\n' "$name" "$rt" "${broken[$rt]}"
      record ws "$name" "$rt" failed "note=${broken[$rt]}"
      continue
    fi
    local problems="" got path line="" rc=0
    # Without an upgrade the routes answer 426 (and no object is involved).
    for path in /ws/echo/smoke /ws/room/smoke; do
      got="$(get "$path")"
      [[ "$got" =~ ^426\  ]] || problems+="GET $path (no upgrade) gave '$got', expected 426; "
    done
    local cpu0 cpu1 t0 t1 server_cpu=""
    if [ -z "$problems" ]; then
      cpu0="$(cpu_ms "$pid")"; t0="$(date +%s%N)"
      run_child "$rt_dir/ws.txt" "$ws_driver" "${args[@]}" --port "$port" --duration "$duration" \
        --warmup "$ws_warmup" --threads "$ws_threads" 2>"$rt_dir/ws.err" || rc=$?
      cpu1="$(cpu_ms "$pid")"; t1="$(date +%s%N)"
      [ -z "$cpu0" ] || [ -z "$cpu1" ] ||
        server_cpu="$(awk -v c="$((cpu1 - cpu0))" -v t="$(((t1 - t0) / 1000000))" 'BEGIN {printf "%.0f", 100 * c / t}')"
      line="$(grep '^RESULT' "$rt_dir/ws.txt" || true)"
      if [ -z "$line" ]; then
        problems+="no RESULT line from ws-driver (exit $rc): $(tail -n 3 "$rt_dir/ws.err" | tr '\n' ' '); "
      elif [ "$rc" -ne 0 ]; then
        problems+="ws-driver: $(field errors "$line") errors: $(grep '^  error:' "$rt_dir/ws.err" | head -n 3 | sed 's/^  error: //' | tr '\n' ';' | sed 's/;$//; s/;/; /g'); "
        [ "$(field errors "$line")" != 0 ] || problems+="nothing measured; "
      fi
    fi
    if [ -n "$problems" ]; then
      problems="${problems%; }"
      if ! alive "$pid"; then problems+="; the server exited"; fi
      printf '  %-14s %-8s INVALID: %s\n' "$name" "$rt" "$problems"
      tail -n 10 "$rt_dir/log" | sed 's/^/      log: /'
    fi
    stop_runtime
    if [ -n "$line" ] && [ "$(field connected "$line")" != 0 ]; then
      printf '  %-14s %-8s %10.0f %s/s  p50 %7.3f ms  p99 %8.3f ms  max %8.3f ms  %s connections (%s open)  errors %s  server CPU %s%%\n' \
        "$name" "$rt" "$(field rate "$line")" \
        "$([ "$(field mode "$line")" = fanout ] && echo deliveries || echo msg)" \
        "$(field p50_ms "$line")" "$(field p99_ms "$line")" "$(field max_ms "$line")" \
        "$(field connections "$line")$(field listeners "$line")" "$(field connected "$line")" \
        "$(field errors "$line")" "${server_cpu:-?}"
    fi
    local status=ok
    [ -z "$problems" ] || status=invalid
    record ws "$name" "$rt" "$status" "rate=$(field rate "$line")" \
      "msg_rate=$(field msg_rate "$line")" "p50_ms=$(field p50_ms "$line")" \
      "p90_ms=$(field p90_ms "$line")" "p99_ms=$(field p99_ms "$line")" \
      "max_ms=$(field max_ms "$line")" "messages=$(field messages "$line")" \
      "deliveries=$(field deliveries "$line")" \
      "connections=$(field connections "$line")$(field listeners "$line")" \
      "rooms=$(field rooms "$line")" "window=$(field window "$line")" \
      "connect_s=$(field connect_s "$line")" "errors=$(field errors "$line")" \
      "server_cpu_pct=$server_cpu" "note=$problems"
  done
}

# run_ws_hold: RSS per hibernated WebSocket connection (CW_WS_HOLD_RUNTIMES, default duro only).
# A fresh server; a short echo run to warm the WebSocket path up (its objects hibernate too);
# RSS; then ws-driver --mode hold opens the connections (each probes its object once), waits for
# the objects to hibernate and prints READY; RSS again; SIGUSR1 makes it probe every connection
# once more: each must answer, and from a newly constructed object (else the objects had not
# hibernated and the row is INVALID).
run_ws_hold() {
  local order rt
  project=worker
  ws_order
  for rt in "${order[@]}"; do
    [[ " $ws_hold_runtimes " == *" $rt "* ]] || continue
    local flags=() wait_s="$ws_hold_wait_workerd"
    if [ "$rt" = duro ]; then
      # shellcheck disable=SC2206  # a list of flags
      flags=($ws_hold_duro_flags)
      wait_s="$ws_hold_wait_duro"
    fi
    local why="${broken[$rt]:-${ws_broken}}"
    if [ -n "$why" ]; then
      printf '  %-14s %-8s skipped: %s\n' ws-hold "$rt" "$why"
      record wshold ws-hold "$rt" failed "connections=$ws_hold" "note=$why"
      continue
    fi
    if ! start_runtime "$rt" ws-hold "${flags[@]}"; then
      printf '  %-14s %-8s FAILED: %s\n' ws-hold "$rt" "${broken[$rt]}"
      record wshold ws-hold "$rt" failed "connections=$ws_hold" "note=${broken[$rt]}"
      continue
    fi
    local problems="" line="" rc=0 before="" connected_kb="" held="" per_conn=""
    if ! run_child "$rt_dir/warm.txt" "$ws_driver" --mode echo --port "$port" --connections 4 \
      --duration 0.5 --warmup 0 --room-prefix warm- 2>"$rt_dir/warm.err"; then
      problems="the warm-up echo run failed: $(grep '^  error:' "$rt_dir/warm.err" | head -n 2 | sed 's/^  error: //' | tr '\n' ';' | sed 's/;$//; s/;/; /g'); "
    fi
    if [ -z "$problems" ]; then
      sleep "$wait_s"
      before="$(rss_tree_kb "$pid")"
      "$ws_driver" --mode hold --port "$port" --connections "$ws_hold" --rooms "$ws_hold_rooms" \
        --room-prefix hold- --hold-seconds "$wait_s" --hold-max 600 --timeout 60 \
        --connect-timeout "$create_time_limit" >"$rt_dir/hold.txt" 2>"$rt_dir/hold.err" &
      child=$!
      local deadline=$((SECONDS + create_time_limit + ${wait_s%.*} + 60))
      while alive "$child" && ! grep -q '^READY' "$rt_dir/hold.txt"; do
        if [ -z "$connected_kb" ] && grep -q '^CONNECTED' "$rt_dir/hold.txt"; then
          connected_kb="$(rss_tree_kb "$pid")"
        fi
        [ $SECONDS -lt $deadline ] || break
        sleep 0.1
      done
      if grep -q '^READY' "$rt_dir/hold.txt"; then
        held="$(rss_tree_kb "$pid")"
        kill -USR1 "$child" 2>/dev/null || true
      else
        problems+="ws-driver did not report READY; "
        kill -TERM "$child" 2>/dev/null || true
      fi
      wait "$child" || rc=$?
      child=""
      line="$(grep '^RESULT' "$rt_dir/hold.txt" || true)"
      if [ -z "$line" ]; then
        problems+="no RESULT line from ws-driver (exit $rc): $(tail -n 3 "$rt_dir/hold.err" | tr '\n' ' '); "
      else
        [ "$rc" -eq 0 ] || problems+="ws-driver: $(field errors "$line") errors: $(grep '^  error:' "$rt_dir/hold.err" | head -n 3 | sed 's/^  error: //' | tr '\n' ';' | sed 's/;$//; s/;/; /g'); "
        local rehydrated
        rehydrated="$(field rehydrated "$line")"
        [ "$rehydrated" = "$ws_hold" ] ||
          problems+="only ${rehydrated:-0} of $ws_hold connections found their object constructed anew after the wait: not every object had hibernated; "
      fi
      if [ -n "$held" ] && [ -n "$before" ]; then
        per_conn="$(awk -v a="$before" -v b="$held" -v n="$ws_hold" 'BEGIN {printf "%.0f", (b - a) * 1024 / n}')"
        # RSS moves by a MiB or so on its own (caches, the heap's GC): a smaller growth says nothing.
        [ $((held - before)) -ge 1024 ] ||
          problems+="RSS grew by $((held - before)) KiB only, within its own noise: use more connections (CW_WS_HOLD); "
      fi
    fi
    if [ -n "$problems" ]; then
      problems="${problems%; }"
      if ! alive "$pid"; then problems+="; the server exited"; fi
      printf '  %-14s %-8s INVALID: %s\n' ws-hold "$rt" "$problems"
      tail -n 10 "$rt_dir/log" | sed 's/^/      log: /'
    fi
    stop_runtime
    if [ -n "$per_conn" ]; then
      printf '  %-14s %-8s %s connections on %s objects (opened in %s s): RSS %.1f -> %.1f MiB awake -> %.1f MiB after %s s idle: %s B per hibernated connection; %s of them woke a new instance\n' \
        ws-hold "$rt" "$ws_hold" "$ws_hold_rooms" "$(field connect_s "$line")" \
        "$(awk -v k="$before" 'BEGIN {print k / 1024}')" \
        "$(awk -v k="${connected_kb:-0}" 'BEGIN {print k / 1024}')" \
        "$(awk -v k="$held" 'BEGIN {print k / 1024}')" "$wait_s" "$per_conn" \
        "$(field rehydrated "$line")"
    fi
    local status=ok
    [ -z "$problems" ] || status=invalid
    record wshold ws-hold "$rt" "$status" "connections=$ws_hold" "rooms=$ws_hold_rooms" \
      "rss_before_kb=$before" "rss_connected_kb=$connected_kb" "rss_held_kb=$held" \
      "bytes_per_conn=$per_conn" "connect_s=$(field connect_s "$line")" \
      "verified=$(field verified "$line")" "rehydrated=$(field rehydrated "$line")" \
      "errors=$(field errors "$line")" "wait_s=$wait_s" "note=$problems"
  done
}

# run_memory: N new objects per runtime on a fresh server.
run_memory() {
  local order rt
  project=worker
  read -ra order <<<"$runtimes"
  if [ $((row_index % 2)) -eq 1 ] && [ ${#order[@]} -eq 2 ]; then order=("${order[1]}" "${order[0]}"); fi
  row_index=$((row_index + 1))
  for rt in "${order[@]}"; do
    local n="$objects" flags=()
    if [ "$rt" = duro ]; then
      n="$objects_duro"
      # shellcheck disable=SC2206  # a list of flags
      flags=($duro_memory_flags)
    fi
    if [ -n "${broken[$rt]:-}" ]; then
      printf '  %-12s %-8s skipped: %s\n' memory "$rt" "${broken[$rt]}"
      record memory memory "$rt" failed "count=$n" "note=${broken[$rt]}"
      continue
    fi
    if ! start_runtime "$rt" memory "${flags[@]}"; then
      printf '  %-12s %-8s FAILED: %s\n' memory "$rt" "${broken[$rt]}"
      record memory memory "$rt" failed "count=$n" "note=${broken[$rt]}"
      continue
    fi
    sleep 1  # let start-up settle before the "before" sample
    local rc=0 line problems="" fsyncs
    fsyncs="$(python3 "$here/fsync_probe.py" "$rt_dir" 0.5 || true)"
    run_child "$rt_dir/create.txt" python3 "$here/create_objects.py" --port "$port" --pid "$pid" \
      --count "$n" --concurrency "$create_concurrency" --prefix /spread/mem- \
      --time-limit "$create_time_limit" || rc=$?
    line="$(grep '^RESULT' "$rt_dir/create.txt" || true)"
    [ -n "$line" ] || problems="no RESULT line from create_objects.py (exit $rc)"
    [ "$rc" -eq 0 ] || [ -z "$line" ] || problems="$(field errors "$line") errors (see above)"
    alive "$pid" || problems+="${problems:+; }the server exited"
    stop_runtime
    # CPU per object including what the server still did for them until it exited (e.g. writing
    # databases it deferred).
    local total_cpu=""
    if [ -n "$line" ] && [ -n "$exit_cpu_ms" ] && [ "$(field created "$line")" -gt 0 ]; then
      total_cpu="$(awk -v a="$exit_cpu_ms" -v b="$(field cpu_before_ms "$line")" \
        -v n="$(field created "$line")" 'BEGIN {printf "%.3f", (a - b) / n}')"
    fi
    if [ -n "$line" ]; then
      printf '  %-12s %-8s %d objects in %.1f s (%.0f/s): RSS %.1f -> %.1f MiB (peak %.1f), %.1f KB and %.3f ms CPU per object (%s ms until exit); SIGTERM to exit %s s; disk %s fsync/s\n' \
        memory "$rt" "$(field created "$line")" "$(field seconds "$line")" "$(field rate "$line")" \
        "$(awk -v k="$(field rss_before_kb "$line")" 'BEGIN {print k / 1024}')" \
        "$(awk -v k="$(field rss_after_kb "$line")" 'BEGIN {print k / 1024}')" \
        "$(awk -v k="$(field rss_peak_kb "$line")" 'BEGIN {print k / 1024}')" \
        "$(field kb_per_object "$line")" "$(field cpu_ms_per_object "$line")" "${total_cpu:-?}" \
        "$stop_seconds" \
        "${fsyncs:-?}"
    fi
    [ -z "$problems" ] || printf '  %-12s %-8s INVALID: %s\n' memory "$rt" "$problems"
    local status=ok
    [ -z "$problems" ] || status=invalid
    record memory memory "$rt" "$status" "count=$n" "created=$(field created "$line")" \
      "seconds=$(field seconds "$line")" "rate=$(field rate "$line")" \
      "rss_before_kb=$(field rss_before_kb "$line")" "rss_after_kb=$(field rss_after_kb "$line")" \
      "rss_peak_kb=$(field rss_peak_kb "$line")" "kb_per_object=$(field kb_per_object "$line")" \
      "cpu_ms_per_object=$(field cpu_ms_per_object "$line")" "stop_s=$stop_seconds" \
      "fsync_per_s=$fsyncs" "cpu_ms_per_object_to_exit=$total_cpu" \
      "note=$problems"
  done
}

# The binaries.
workerd_bin="" duro_bin="" workerd_version="-" duro_version="-"
if [[ " $runtimes " == *" workerd "* ]]; then
  if workerd_bin="${WORKERD_BIN:-$(bash tools/install-workerd.sh)}" && [ -x "$workerd_bin" ]; then
    workerd_version="$("$workerd_bin" --version 2>&1 | head -1)"
  else
    echo "workerd: not available (tools/install-workerd.sh failed or WORKERD_BIN is not executable)"
    broken[workerd]="not installed"
  fi
fi
if [[ " $runtimes " == *" duro "* ]]; then
  if [ -n "${DURO_BIN:-}" ]; then
    duro_bin="$DURO_BIN"
  else
    echo "building duro (DURO_BUILD_DIR=build-release tools/build.sh Release)..."
    if DURO_BUILD_DIR=build-release bash tools/build.sh Release >"$work/build.log" 2>&1; then
      duro_bin=build-release/src/cli/duro
    else
      echo "duro: the Release build failed; its last lines:"
      tail -n 25 "$work/build.log" | sed 's/^/    /'
      broken[duro]="the Release build failed"
    fi
  fi
  if [ -z "${broken[duro]:-}" ]; then
    if [ -x "$duro_bin" ]; then
      duro_version="$("$duro_bin" --version 2>&1 | head -1 || true)"
    else
      echo "duro: $duro_bin is not an executable"
      broken[duro]="no binary at $duro_bin"
    fi
  fi
fi

# The WebSocket driver, when a ws-* row is asked for.
ws_driver="" ws_broken=""
if [[ " $rows " == *" ws-"* ]]; then
  if [ -n "${WS_DRIVER_BIN:-}" ]; then
    ws_driver="$WS_DRIVER_BIN"
  else
    ws_driver=build-release/bench/ws-driver
    if [ -f build-release/build.ninja ]; then
      cmake --build build-release --target ws-driver >"$work/ws-build.log" 2>&1 || true
    else
      echo "building ws-driver (DURO_BUILD_DIR=build-release tools/build.sh Release)..."
      DURO_BUILD_DIR=build-release bash tools/build.sh Release >"$work/ws-build.log" 2>&1 || true
    fi
  fi
  if [ ! -x "$ws_driver" ]; then
    echo "ws-driver: $ws_driver is not an executable (its build's last lines:)"
    tail -n 15 "$work/ws-build.log" 2>/dev/null | sed 's/^/    /'
    ws_broken="no ws-driver"
  fi
fi

commit="$(git describe --always --dirty 2>/dev/null || echo unknown)"
fs="$(df -PT "$work" | awk 'NR==2 {print $1 " (" $2 ")"}')"
echo "duro vs workerd: $(nproc) cores shared by the servers and the load; ${duration} s per row" \
  "after a 2 s warm-up, wrk -t$wrk_threads -c$connections"
echo "  duro:    ${duro_bin:-not run} ($duro_version), serve --threads $threads $duro_flags"
echo "  workerd: ${workerd_bin:-not run} ($workerd_version)"
echo "  data dirs on $fs, one fresh data dir per run, removed after it"
[ -z "$ws_driver" ] || echo "  WebSocket rows: ${ws_driver} (--threads $ws_threads), ${ws_warmup} s" \
  "warm-up, then ${duration} s; 64-byte text messages; latencies from its own per-message timings"
echo "  durability: both acknowledge a write only once it is on disk (workerd: SQLite WAL with" \
  "synchronous=FULL, one fsync per write; duro: group commit, one fdatasync per shard covering" \
  "every commit since the last)"
echo

for row in $rows; do
  case "$row" in
    stateless | hot | spread-1000 | read | limiter | sql-counter | sql-rows | memory) ;;
    ws-echo-1 | ws-echo-64 | ws-fanout-1000 | ws-hold) ;;
    *) echo "run.sh: CW_ROWS: unknown row '$row'" >&2; exit 2 ;;
  esac
done
for round in $(seq 1 "$repeat"); do
  [ "$repeat" -eq 1 ] || echo "round $round of $repeat"
  for row in $rows; do
    case "$row" in
      memory | ws-hold) ;;
      ws-*) run_ws_row "$row" ;;
      *) run_row "$row" ;;
    esac
  done
done
[[ " $rows " != *" memory "* ]] || run_memory
[[ " $rows " != *" ws-hold "* ]] || run_ws_hold

mkdir -p bench/results
md="bench/results/compare-workerd-$(date +%Y-%m-%d-%H%M%S).md"
report_rc=0
python3 "$here/report.py" "$results" --markdown "$md" --runtimes "$runtimes" \
  --meta "commit=$commit" "cores=$(nproc)" "seconds=$duration" "connections=$connections" \
  "wrk_threads=$wrk_threads" "duro_bin=${duro_bin:--}" "duro_version=$duro_version" \
  "duro_threads=$threads" "duro_flags=$duro_flags" "duro_memory_flags=$duro_memory_flags" \
  "workerd_bin=${workerd_bin:--}" "workerd_version=$workerd_version" "fs=$fs" \
  "create_concurrency=$create_concurrency" "repeat=$repeat" "ws_threads=$ws_threads" \
  "ws_driver=${ws_driver:--}" "ws_warmup=$ws_warmup" "ws_hold_duro_flags=$ws_hold_duro_flags" \
  || report_rc=$?
echo
echo "Markdown: $md"
exit "$report_rc"
