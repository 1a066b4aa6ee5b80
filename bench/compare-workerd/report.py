#!/usr/bin/env python3
"""Turns run.sh's results.tsv into the comparison table (stdout) and a Markdown report.

    report.py RESULTS_TSV --markdown FILE --runtimes "duro workerd" --meta key=value...

results.tsv: one line per (scenario, runtime), tab-separated:
    KIND NAME RUNTIME STATUS key=value...
KIND is row (a wrk row), ws (a ws-driver row), memory or wshold (RSS per hibernated WebSocket);
STATUS is ok, invalid (ran, but errors: see note) or failed (did not run). Exit status 0 when every requested runtime has a valid figure for every scenario
in the file, else 1.
"""
import argparse
import statistics
import sys

ROWS = {  # name -> (label, target ratio duro/workerd, at least)
    "stateless": ("stateless (Worker only, no object), req/s", 2.0),
    "hot": ("hot: 1 object, get + put, req/s", 5.0),
    "spread-1000": ("spread: 1,000 objects, get + put, req/s", 5.0),
    "read": ("read: 1 object, get only, req/s", 5.0),
    "limiter": ("limiter: 1,000 keys + 1 hot, get + put, req/s", 5.0),
    # SQLite-backed objects (worker-sql/, ctx.storage.sql); issue 7's target: at least 2x workerd
    "sql-counter": ("sql-counter: 1 object, SQL upsert ... RETURNING, req/s", 2.0),
    "sql-rows": ("sql-rows: 1 object, insert 10 rows + select 10, req/s", 2.0),
}
WS_ROWS = {  # name -> (label, target ratio duro/workerd, at least); figure: "rate"
    "ws-echo-1": ("ws echo: 1 connection, msg/s", 2.0),
    "ws-echo-64": ("ws echo: 64 connections, msg/s", 2.0),
    "ws-fanout-1000": ("ws fan-out: 1,000 listeners, deliveries/s", 2.0),
}
MEMORY_TARGET = 0.1  # duro's KB per loaded object at most this share of workerd's
WS_HOLD_TARGET = 4096  # duro's bytes of RSS per hibernated WebSocket connection, at most


def parse(path):
    """-> ({(name, runtime): merged values}, [every run's values], [names in order]).

    With several rounds, a (name, runtime) is failed if every run failed, invalid if any run was
    invalid, and each numeric field is the median over its valid runs (over all runs with figures
    when none was valid)."""
    runs_by_key = {}
    runs = []
    order = []
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 4:
                continue
            kind, name, runtime, status = parts[:4]
            values = {"kind": kind, "name": name, "runtime": runtime, "status": status}
            for kv in parts[4:]:
                k, _, v = kv.partition("=")
                values[k] = v
            runs.append(values)
            runs_by_key.setdefault((name, runtime), []).append(values)
            if name not in order:
                order.append(name)
    results = {}
    for key, group in runs_by_key.items():
        statuses = {v["status"] for v in group}
        merged = dict(group[-1])
        merged["status"] = ("failed" if statuses == {"failed"} else
                            "invalid" if "invalid" in statuses else "ok")
        pool = [v for v in group if v["status"] == "ok"] or \
            [v for v in group if v["status"] != "failed"]
        for k in set().union(*(v.keys() for v in pool)):
            xs = [num(v, k) for v in pool]
            xs = sorted(x for x in xs if x is not None)
            if xs and k not in ("round", "count", "connections", "rooms", "window"):
                merged[k] = str(statistics.median(xs))
        merged["runs"] = str(len(group))
        merged["note"] = "; ".join(sorted({v.get("note", "") for v in group} - {""}))
        results[key] = merged
    return results, runs, order


def num(values, key):
    try:
        return float(values.get(key, ""))
    except ValueError:
        return None


def fmt(x, digits=0):
    if x is None:
        return "-"
    return f"{x:,.{digits}f}"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("results")
    parser.add_argument("--markdown", required=True)
    parser.add_argument("--runtimes", required=True)
    parser.add_argument("--meta", nargs="*", default=[])
    args = parser.parse_args()
    meta = dict(kv.partition("=")[::2] for kv in args.meta)
    runtimes = args.runtimes.split()
    results, runs, order = parse(args.results)
    rounds = max([int(num(v, 'round') or 1) for v in runs] or [1])

    complete = True
    for (name, runtime), v in results.items():
        if runtime in runtimes and v["status"] != "ok":
            complete = False

    def figure(name, runtime, key):
        v = results.get((name, runtime))
        if v is None or v["status"] == "failed":
            return None, "not run" if v is None else "failed"
        return num(v, key), ("invalid" if v["status"] == "invalid" else "")

    def verdict(name, key, target, at_least):
        d, dstate = figure(name, "duro", key)
        w, wstate = figure(name, "workerd", key)
        if dstate or wstate or d is None or w is None:
            missing = [f"{rt} {s}" for rt, s in (("duro", dstate), ("workerd", wstate)) if s]
            return None, "NOT MEASURED" + (f" ({', '.join(missing)})" if missing else "")
        if w == 0:
            return None, "NOT MEASURED (workerd figure 0)"
        ratio = d / w
        if target is None:
            return ratio, "-"
        met = ratio >= target if at_least else ratio <= target
        return ratio, "met" if met else "NOT MET"

    def cell(name, runtime, key, digits):
        x, state = figure(name, runtime, key)
        if state in ("not run", "failed"):
            return state
        return fmt(x, digits) + (" (INVALID)" if state == "invalid" else "")

    header = ["scenario", "duro", "duro p99 ms", "workerd", "workerd p99 ms",
              "duro/workerd", "target", "result"]
    table = []
    for name in order:
        if name in ROWS or name in WS_ROWS:
            label, target = ROWS.get(name) or WS_ROWS[name]
            key = "rps" if name in ROWS else "rate"
            ratio, result = verdict(name, key, target, True)
            table.append([label, cell(name, "duro", key, 0), cell(name, "duro", "p99_ms", 2),
                          cell(name, "workerd", key, 0), cell(name, "workerd", "p99_ms", 2),
                          "-" if ratio is None else f"{ratio:.2f}", f">= {target:g}", result])
        elif name == "ws-hold":
            d, dstate = figure(name, "duro", "bytes_per_conn")
            if dstate or d is None:
                result = "NOT MEASURED" + (f" (duro {dstate})" if dstate else "")
            else:
                result = "met" if d <= WS_HOLD_TARGET else "NOT MET"
            w, wstate = figure(name, "workerd", "bytes_per_conn")
            ratio = d / w if d is not None and w and not dstate and not wstate else None
            table.append(["memory per hibernated WebSocket (B)",
                          cell(name, "duro", "bytes_per_conn", 0), "",
                          cell(name, "workerd", "bytes_per_conn", 0), "",
                          "-" if ratio is None else f"{ratio:.3f}",
                          f"<= {WS_HOLD_TARGET} B", result])
        elif name == "memory":
            ratio, result = verdict(name, "kb_per_object", MEMORY_TARGET, False)
            table.append(["memory per loaded object (KB)", cell(name, "duro", "kb_per_object", 1),
                          "", cell(name, "workerd", "kb_per_object", 1), "",
                          "-" if ratio is None else f"{ratio:.3f}", f"<= {MEMORY_TARGET:g}",
                          result])
            ratio, result = verdict(name, "cpu_ms_per_object", None, False)
            table.append(["server CPU per object creation (ms)",
                          cell(name, "duro", "cpu_ms_per_object", 3), "",
                          cell(name, "workerd", "cpu_ms_per_object", 3), "",
                          "-" if ratio is None else f"{ratio:.3f}", "(none)", "-"])
            ratio, result = verdict(name, "cpu_ms_per_object_to_exit", None, False)
            table.append(["  the same, until the server exited (ms)",
                          cell(name, "duro", "cpu_ms_per_object_to_exit", 3), "",
                          cell(name, "workerd", "cpu_ms_per_object_to_exit", 3), "",
                          "-" if ratio is None else f"{ratio:.3f}", "(none)", "-"])

    # Details: one line per run.
    detail_header = ["scenario", "round", "runtime", "status", "req/s", "p50 ms", "p99 ms",
                     "max ms", "2xx", "429", "other", "socket err", "timeouts", "disk fsync/s",
                     "note"]
    details = []
    memory_header = ["runtime", "status", "objects", "seconds", "objects/s", "RSS before MiB",
                     "RSS after MiB", "RSS peak MiB", "KB/object", "CPU ms/object",
                     "to exit", "SIGTERM to exit s", "disk fsync/s", "note"]
    memory = []
    ws_header = ["scenario", "round", "runtime", "status", "rate/s", "msg/s", "p50 ms", "p90 ms",
                 "p99 ms", "max ms", "connections", "rooms", "connect s", "server CPU %",
                 "errors", "note"]
    ws_details = []
    hold_header = ["runtime", "status", "connections", "objects", "connect s", "RSS before MiB",
                   "RSS awake MiB", "RSS hibernated MiB", "B/connection", "woke new instance",
                   "wait s", "note"]
    hold = []
    for v in runs:
        name, runtime = v["name"], v["runtime"]
        if runtime in runtimes:
            if v["kind"] == "ws":
                fan = name == "ws-fanout-1000"
                ws_details.append([name, v.get("round", "1"), runtime, v["status"],
                                   fmt(num(v, "rate")),
                                   fmt(num(v, "msg_rate") if fan else num(v, "rate")),
                                   fmt(num(v, "p50_ms"), 3), fmt(num(v, "p90_ms"), 3),
                                   fmt(num(v, "p99_ms"), 3), fmt(num(v, "max_ms"), 1),
                                   v.get("connections", "-") or "-", v.get("rooms", "-") or "-",
                                   fmt(num(v, "connect_s"), 2), fmt(num(v, "server_cpu_pct")),
                                   fmt(num(v, "errors")), v.get("note", "")])
            elif v["kind"] == "wshold":
                mib = lambda k: fmt(None if num(v, k) is None else num(v, k) / 1024, 1)
                hold.append([runtime, v["status"], fmt(num(v, "connections")),
                             fmt(num(v, "rooms")), fmt(num(v, "connect_s"), 2),
                             mib("rss_before_kb"), mib("rss_connected_kb"), mib("rss_held_kb"),
                             fmt(num(v, "bytes_per_conn")), fmt(num(v, "rehydrated")),
                             v.get("wait_s", "-"), v.get("note", "")])
            elif v["kind"] == "row":
                requests = num(v, "requests")
                s429 = num(v, "s429")
                share = (f" ({100 * s429 / requests:.1f}%)"
                         if requests and s429 is not None and name == "limiter" else "")
                details.append([name, v.get("round", "1"), runtime, v["status"],
                                fmt(num(v, "rps")),
                                fmt(num(v, "p50_ms"), 3), fmt(num(v, "p99_ms"), 3),
                                fmt(num(v, "max_ms"), 1), fmt(num(v, "s2xx")),
                                fmt(s429) + share, fmt(num(v, "s_other")),
                                fmt(num(v, "socket_errors")), fmt(num(v, "timeouts")),
                                fmt(num(v, "fsync_per_s")), v.get("note", "")])
            else:
                mib = lambda k: fmt(None if num(v, k) is None else num(v, k) / 1024, 1)
                memory.append([runtime, v["status"],
                               f"{fmt(num(v, 'created'))} of {fmt(num(v, 'count'))}",
                               fmt(num(v, "seconds"), 1), fmt(num(v, "rate")),
                               mib("rss_before_kb"), mib("rss_after_kb"), mib("rss_peak_kb"),
                               fmt(num(v, "kb_per_object"), 1),
                               fmt(num(v, "cpu_ms_per_object"), 3),
                               fmt(num(v, "cpu_ms_per_object_to_exit"), 3), v.get("stop_s", "-"),
                               fmt(num(v, "fsync_per_s")), v.get("note", "")])

    def text_table(head, rows):
        widths = [max(len(str(r[i])) for r in [head] + rows) for i in range(len(head))]
        out = []
        for j, r in enumerate([head] + rows):
            out.append("  ".join(str(c).ljust(widths[i]) if i == 0 or i == len(head) - 1
                                 else str(c).rjust(widths[i]) for i, c in enumerate(r)).rstrip())
            if j == 0:
                out.append("  ".join("-" * w for w in widths))
        return "\n".join(out)

    text_columns = {"scenario", "runtime", "status", "target", "result", "note"}

    def md_table(head, rows):
        out = ["| " + " | ".join(head) + " |",
               "|" + "|".join("---" if h in text_columns else "---:" for h in head) + "|"]
        out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
        return "\n".join(out)

    print()
    if rounds > 1:
        print(f"medians over {rounds} rounds")
    print(text_table(header, table))
    if details:
        print()
        print(text_table(detail_header, details))
    if ws_details:
        print()
        print(text_table(ws_header, ws_details))
    if memory:
        print()
        print(text_table(memory_header, memory))
    if hold:
        print()
        print(text_table(hold_header, hold))

    m = meta.get
    lines = [
        f"# duro vs workerd (bench/compare-workerd/run.sh {m('seconds')} {m('connections')})",
        "",
        f"- commit {m('commit')}; {m('cores')} cores shared by the servers and the load generator",
        f"- runtimes run: {' '.join(runtimes)}",
        (f"- duro: not run" if m("duro_bin") in (None, "-") else
         f"- duro: `{m('duro_bin')}` ({m('duro_version')}), `duro serve --config "
        f"bench/compare-workerd/worker/wrangler.toml --threads {m('duro_threads')}"
        f"{' ' + m('duro_flags') if m('duro_flags') else ''}`; memory part adds "
        f"`{m('duro_memory_flags')}`"),
        (f"- workerd: not run" if m("workerd_bin") in (None, "-") else
         f"- workerd: `{m('workerd_bin')}` ({m('workerd_version')}), config generated from the "
         "same wrangler.toml (workerd_config.py), KV-backed objects on local disk"),
        *(["- rows sql-counter and sql-rows serve `bench/compare-workerd/worker-sql/wrangler.toml` "
           "instead (SQLite-backed objects, `ctx.storage.sql`; workerd: `enableSql`)"]
          if any(name.startswith("sql-") for name in order) else []),
        f"- each row: fresh server and data dir, 2 s warm-up, then `wrk -t{m('wrk_threads')} "
        f"-c{m('connections')} -d{m('seconds')}s --latency` (wrk/route.lua); runtimes alternate "
        "which goes first",
        f"- data dirs on {m('fs')}. Durability: both acknowledge a write only once it is on disk "
        "(workerd: SQLite WAL, synchronous=FULL, one fsync per write; duro: group commit, one "
        "fdatasync per shard covering every commit since the previous one)",
        f"- memory: a fresh server gets `GET /spread/mem-<i>` for distinct i "
        f"({m('create_concurrency')} connections); RSS (VmRSS, process and children) and CPU "
        "(utime + stime) before and right after",
        "",
        md_table(header, table),
        "",
        "ratio = duro / workerd (req/s, messages/s, deliveries/s; KB and ms per object; B per "
        "connection)"
        + (f"; figures are medians over {rounds} rounds" if rounds > 1 else "")
        + ". p99 of the HTTP rows is wrk's (corrected for coordinated omission, so a few stalls "
        "dominate it on this shared machine); of the WebSocket rows, ws-driver's own per-message "
        "round trips (echo) or send-to-last-listener times (fan-out).",
    ]
    if ws_details:
        lines += [
            "", "## WebSocket rows", "",
            f"`{m('ws_driver')}` (bench/ws_driver.cc, {m('ws_threads')} thread(s)): "
            f"{m('ws_warmup')} s warm-up, then {m('seconds')} s measured; 64-byte text "
            "messages; routes /ws/echo/<room> and /ws/room/<room> of the bench Worker (Hibernation "
            "API). Echo: each connection in a closed loop (send, wait for the echo). Fan-out: "
            "1,000 listeners and one sender in one room; the object sends every message to all "
            "1,001 sockets; rate/s = messages x listeners per second, latency = send to the last "
            "listener's receipt. Server CPU % = the server's CPU time over the run's wall time "
            "(200 = both cores).",
            "", md_table(ws_header, ws_details)]
    if details:
        lines += ["", "## Rows", "", md_table(detail_header, details)]
    if memory:
        lines += ["", "## Memory and creation cost", "", md_table(memory_header, memory)]
    if hold:
        lines += [
            "", "## Memory per hibernated WebSocket connection", "",
            "ws-driver --mode hold opens the connections (/ws/hold/<room>, each probes its object "
            "once), waits for the objects to hibernate, and the server's RSS is read; then every "
            "connection probes again and must find a newly constructed object. B/connection = "
            f"(RSS hibernated - RSS before) / connections. duro ran with "
            f"`{m('ws_hold_duro_flags')}`.",
            "", md_table(hold_header, hold)]
    with open(args.markdown, "w") as f:
        f.write("\n".join(lines) + "\n")
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
