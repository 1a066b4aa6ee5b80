# Shared set-up for the bench scripts (sourced, not run): builds Release, makes a temp work dir
# removed on exit, and starts/stops duro-test-server on a free loopback port.
#   bench_init NAME            build; $work = fresh temp dir; $server_bin; cleanup trap
#   start_server NAME [FLAGS]  fresh data dir $work/NAME/data; sets $server (pid) and $port;
#                              passes --threads $threads when $threads is set
#   stop_server                SIGTERM, wait for the exit (a warning if not 0)
#   rss_kb                     the server's VmRSS in KiB

bench_init() {
  DURO_BUILD_DIR=build-release bash tools/build.sh Release >/dev/null
  server_bin=build-release/tests/integration/duro-test-server
  work="$(mktemp -d "${DURO_BENCH_TMP:-${TMPDIR:-/tmp}}/duro-$1-bench.XXXXXX")"
  server=""
  port=""
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

bench_cleanup() {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$work"
}

start_server() {
  local name="$1"
  shift
  local thread_flags=()
  [ -z "${threads:-}" ] || thread_flags=(--threads "$threads")
  mkdir -p "$work/$name"
  "$server_bin" --listen 127.0.0.1:0 --data "$work/$name/data" "${thread_flags[@]}" \
    --log-level info "$@" 2>"$work/$name/log" &
  server=$!
  port=""
  for _ in $(seq 1 200); do
    port="$(sed -n 's/.*listening on http:\/\/[^ ]*:\([0-9]*\).*/\1/p' "$work/$name/log" | head -1)"
    [ -n "$port" ] && return 0
    kill -0 "$server" 2>/dev/null || break
    sleep 0.05
  done
  echo "duro-test-server did not start:"
  cat "$work/$name/log"
  exit 1
}

stop_server() {
  kill -TERM "$server"
  local rc=0
  wait "$server" || rc=$?
  server=""
  [ "$rc" -eq 0 ] || echo "warning: server exited with status $rc"
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$server/status"; }
