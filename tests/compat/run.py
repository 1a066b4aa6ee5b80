#!/usr/bin/env python3
"""Differential compatibility suite: the same Worker projects, the same requests, on duro or on
workerd (Cloudflare's reference runtime). The scenario format is described in README.md beside
this file.

    python3 tests/compat/run.py --runtime workerd [-k SUBSTRING] [--list] [scenario ...]
    python3 tests/compat/run.py --runtime duro --duro build/src/cli/duro

One line per scenario (PASS / FAIL with the first difference), then `N passed, N failed`.
Exit status 0 only when every selected scenario passed. Python 3.11, standard library only.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SCENARIOS = HERE / "scenarios"
RUNTIMES = ("duro", "workerd")

START_TIMEOUT_S = 20.0      # server must accept connections within this
STOP_TIMEOUT_S = 5.0        # SIGTERM, then SIGKILL after this
REQUEST_TIMEOUT_S = 15.0    # one HTTP exchange
POLL_EVERY_MS = 50
POLL_DEADLINE_MS = 10_000

# Module type by file extension (wrangler's default rules, workerd's module kinds).
MODULE_TYPES = {
    ".js": "esModule",
    ".mjs": "esModule",
    ".cjs": "commonJsModule",
    ".txt": "text",
    ".html": "text",
    ".bin": "data",
    ".wasm": "wasm",
    ".json": "json",
}
# Files of a scenario folder that are not part of the Worker.
NOT_MODULES = {"scenario.json", "wrangler.toml", "README.md"}


class Interrupted(Exception):
    """SIGTERM received (ctest timeout, CI cancel): unwind so every server gets stopped."""


class StepFailure(Exception):
    """The first difference found in a scenario."""


class SetupError(Exception):
    """The scenario or the server could not be set up (bad scenario, server did not start)."""


# ---------------------------------------------------------------------------------------------
# Scenario loading and validation

STEP_KINDS = ("request", "poll", "concurrent")
STEP_KEYS = {"note", "request", "poll", "concurrent", "expect", "bodies", "json_bodies", "save",
             "override"}
EXPECT_KEYS = {"status", "body", "json", "body_regex", "headers", "header_regex"}
REQUEST_KEYS = {"method", "path", "headers", "body", "repeat", "json", "body_base64", "timeout_ms"}
OVERRIDABLE = {"expect", "bodies", "json_bodies"}


def load_scenario(folder: Path) -> dict:
    path = folder / "scenario.json"
    try:
        scenario = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise SetupError(f"{path}: {e}") from e
    if not isinstance(scenario, dict) or set(scenario) - {"description", "steps"}:
        raise SetupError(f"{path}: top-level keys are 'description' and 'steps'")
    if not (folder / "wrangler.toml").is_file():
        raise SetupError(f"{folder}: no wrangler.toml")
    steps = scenario.get("steps")
    if not isinstance(steps, list) or not steps:
        raise SetupError(f"{path}: 'steps' must be a non-empty list")
    for i, step in enumerate(steps, 1):
        where = f"{path}: step {i}"
        unknown = set(step) - STEP_KEYS
        if unknown:
            raise SetupError(f"{where}: unknown keys {sorted(unknown)}")
        kinds = [k for k in STEP_KINDS if k in step]
        if len(kinds) != 1:
            raise SetupError(f"{where}: needs exactly one of {STEP_KINDS}")
        check_expect(step.get("expect", {}), where)
        for runtime, ov in step.get("override", {}).items():
            if runtime not in RUNTIMES:
                raise SetupError(f"{where}: override for unknown runtime {runtime!r}")
            if not isinstance(ov.get("reason"), str) or len(ov["reason"].strip()) < 10:
                raise SetupError(f"{where}: override for {runtime} needs a 'reason' sentence")
            bad = set(ov) - OVERRIDABLE - {"reason"}
            if bad:
                raise SetupError(f"{where}: override may replace only {sorted(OVERRIDABLE)}")
            check_expect(ov.get("expect", {}), where)
        if "poll" in step and set(step["poll"]) - {"request", "every_ms", "deadline_ms"}:
            raise SetupError(f"{where}: poll takes 'request', 'every_ms', 'deadline_ms'")
        if "concurrent" in step:
            c = step["concurrent"]
            if set(c) - {"count", "request", "requests"}:
                raise SetupError(f"{where}: concurrent takes 'count' + 'request', or 'requests'")
            if ("count" in c) == ("requests" in c):
                raise SetupError(f"{where}: concurrent needs 'count' + 'request' or 'requests'")
            for r in c.get("requests", [c.get("request")]):
                check_request(r, where)
        else:
            req = step["request"] if "request" in step else step["poll"].get("request")
            check_request(req, where)
            if "bodies" in step or "json_bodies" in step:
                raise SetupError(f"{where}: 'bodies' only for concurrent steps")
    return scenario


def check_expect(expect: dict, where: str) -> None:
    unknown = set(expect) - EXPECT_KEYS
    if unknown:
        raise SetupError(f"{where}: unknown expectation keys {sorted(unknown)}")
    if sum(k in expect for k in ("body", "json", "body_regex")) > 1:
        raise SetupError(f"{where}: at most one of body, json, body_regex")


def check_request(req: Any, where: str) -> None:
    if not isinstance(req, dict) or not isinstance(req.get("path"), str):
        raise SetupError(f"{where}: a request needs a 'path'")
    unknown = set(req) - REQUEST_KEYS
    if unknown:
        raise SetupError(f"{where}: unknown request keys {sorted(unknown)}")


def scenario_names() -> list[str]:
    return sorted(p.name for p in SCENARIOS.iterdir() if (p / "scenario.json").is_file())


# ---------------------------------------------------------------------------------------------
# wrangler.toml -> workerd config

def capnp_str(s: str) -> str:
    # Cap'n Proto text strings use C-style escapes; JSON's are a compatible subset for what we
    # emit (quotes, backslashes, control characters).
    return json.dumps(s, ensure_ascii=False)


def worker_modules(project: Path, main: str) -> list[tuple[str, str, str]]:
    """(module name, module kind, path relative to project) with the main module first. Module
    names are paths relative to the directory of `main` (wrangler's no-bundle base_dir)."""
    main_path = (project / main).resolve()
    base = main_path.parent
    modules = []
    for f in sorted(base.rglob("*")):
        if not f.is_file() or f.name in NOT_MODULES or f.suffix not in MODULE_TYPES:
            continue
        if any(part.startswith(".") or part == "node_modules" for part in f.relative_to(base).parts):
            continue
        modules.append((f.relative_to(base).as_posix(), MODULE_TYPES[f.suffix],
                        f.resolve().relative_to(project.resolve()).as_posix()))
    modules.sort(key=lambda m: (project / m[2]).resolve() != main_path)
    if not modules or (project / modules[0][2]).resolve() != main_path:
        raise SetupError(f"main module {main!r} not found")
    return modules


def workerd_config(project: Path, wrangler: dict, port: int, data_dir: Path) -> str:
    main = wrangler.get("main")
    if not main:
        raise SetupError("wrangler.toml has no 'main'")
    name = wrangler.get("name", "worker")
    sqlite_classes: set[str] = set()
    classes: list[str] = []
    for m in wrangler.get("migrations", []):
        for c in m.get("new_classes", []):
            classes.append(c)
        for c in m.get("new_sqlite_classes", []):
            classes.append(c)
            sqlite_classes.add(c)
    for b in wrangler.get("durable_objects", {}).get("bindings", []):
        if "script_name" not in b and b["class_name"] not in classes:
            classes.append(b["class_name"])

    mods = ",\n    ".join(f"(name = {capnp_str(n)}, {kind} = embed {capnp_str('project/' + rel)})"
                          for n, kind, rel in worker_modules(project, main))
    nss = ",\n    ".join(
        f"(className = {capnp_str(c)}, uniqueKey = {capnp_str(name + '-' + c)}"
        + (", enableSql = true" if c in sqlite_classes else "") + ")" for c in classes)
    bindings = []
    for b in wrangler.get("durable_objects", {}).get("bindings", []):
        if "script_name" in b:
            raise SetupError("durable_objects.bindings with script_name are not supported")
        bindings.append(f"(name = {capnp_str(b['name'])}, "
                        f"durableObjectNamespace = {capnp_str(b['class_name'])})")
    for k, v in wrangler.get("vars", {}).items():
        if isinstance(v, str):
            bindings.append(f"(name = {capnp_str(k)}, text = {capnp_str(v)})")
        else:
            bindings.append(f"(name = {capnp_str(k)}, json = {capnp_str(json.dumps(v))})")
    flags = ", ".join(capnp_str(f) for f in wrangler.get("compatibility_flags", []))
    date = wrangler.get("compatibility_date", "2026-09-01")
    return f"""using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .w),
    (name = "do-storage", disk = (path = {capnp_str(str(data_dir))}, writable = true)),
  ],
  sockets = [(name = "http", address = {capnp_str(f"127.0.0.1:{port}")}, http = (), service = "main")],
);
const w :Workerd.Worker = (
  compatibilityDate = {capnp_str(date)},
  compatibilityFlags = [{flags}],
  modules = [
    {mods}
  ],
  durableObjectNamespaces = [
    {nss}
  ],
  durableObjectStorage = (localDisk = "do-storage"),
  bindings = [
    {(","+chr(10)+"    ").join(bindings)}
  ],
);
"""


# ---------------------------------------------------------------------------------------------
# Server processes

LISTENING_RE = re.compile(r"listening on http://([0-9.]+|\[[0-9a-f:]+\]):(\d+)", re.IGNORECASE)


PORT_IN_USE_RE = re.compile(r"address already in use|EADDRINUSE", re.IGNORECASE)


class PortInUse(Exception):
    """The free port picked for workerd was taken before workerd bound it: pick another."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One runtime process serving one scenario. stop() always leaves no process behind."""

    def __init__(self, argv: list[str], log_path: Path, port: int | None):
        self.argv = argv
        self.log_path = log_path
        self.port = port  # None: read from the "listening on" log line
        self.log_file = open(log_path, "wb")
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log_file,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as e:
            self.log_file.close()
            raise SetupError(f"cannot run {argv[0]}: {e}") from e

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                if PORT_IN_USE_RE.search(self.log()):
                    raise PortInUse()
                raise SetupError(f"server {self.exited()} before accepting connections; "
                                 f"its output:\n{tail(self.log())}")
            if self.port is None:
                m = LISTENING_RE.search(self.log())
                if m:
                    self.port = int(m.group(2))
            if self.port is not None:
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                        return
                except OSError:
                    pass
            time.sleep(0.02)
        raise SetupError(f"server did not accept connections within {START_TIMEOUT_S:.0f} s; "
                         f"its output:\n{tail(self.log())}")

    def exited(self) -> str | None:
        """None while running, else a description of how the process ended."""
        code = self.proc.poll()
        if code is None:
            return None
        return f"killed by signal {-code}" if code < 0 else f"exited with status {code}"

    def stop(self) -> None:
        """SIGTERM (a graceful stop), SIGKILL after STOP_TIMEOUT_S; then SIGKILL whatever is
        left of the process group the server was started in (its own children, if any)."""
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # the group start_new_session created
        except (ProcessLookupError, PermissionError):
            pass
        self.log_file.close()


def tail(text: str, lines: int = 40) -> str:
    return "\n".join("    " + line for line in text.rstrip().splitlines()[-lines:])


def start_server(args, project: Path, tmp: Path) -> Server:
    wrangler_path = project / "wrangler.toml"
    try:
        wrangler = tomllib.loads(wrangler_path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise SetupError(f"{wrangler_path}: {e}") from e
    data = tmp / "data"
    data.mkdir()
    if args.runtime == "duro":
        argv = [args.duro, "serve", "--config", str(wrangler_path), "--listen", "127.0.0.1:0",
                "--data", str(data)]
        return Server(argv, tmp / "server.log", None)
    port = free_port()
    config = tmp / "workerd.capnp"
    config.write_text(workerd_config(project, wrangler, port, data))
    argv = [args.workerd, "serve", str(config), "--verbose"]
    return Server(argv, tmp / "server.log", port)


# ---------------------------------------------------------------------------------------------
# HTTP

@dataclass
class Response:
    status: int
    headers: dict[str, str]  # lowercase names; repeated headers joined with ", "
    body: bytes

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


@dataclass
class Context:
    port: int
    vars: dict[str, str] = field(default_factory=dict)

    def subst(self, s: str, regex: bool = False) -> str:
        """{{name}}: a saved variable, or origin / host / port of the server."""
        values = {"origin": f"http://127.0.0.1:{self.port}", "host": f"127.0.0.1:{self.port}",
                  "port": str(self.port), **self.vars}

        def rep(m: re.Match) -> str:
            key = m.group(1)
            if key not in values:
                raise SetupError(f"unknown variable {{{{{key}}}}}")
            return re.escape(values[key]) if regex else values[key]

        return re.sub(r"\{\{(\w+)\}\}", rep, s)

    def subst_json(self, v: Any) -> Any:
        if isinstance(v, str):
            return self.subst(v)
        if isinstance(v, list):
            return [self.subst_json(x) for x in v]
        if isinstance(v, dict):
            return {k: self.subst_json(x) for k, x in v.items()}
        return v


def do_request(ctx: Context, req: dict) -> Response:
    method = req.get("method", "GET")
    path = ctx.subst(req["path"])
    headers = {k: ctx.subst(v) for k, v in req.get("headers", {}).items()}
    body: bytes | None = None
    if "json" in req:
        body = json.dumps(ctx.subst_json(req["json"])).encode()
        headers.setdefault("content-type", "application/json")
    elif "body" in req:
        body = ctx.subst(req["body"]).encode() * req.get("repeat", 1)
    elif "body_base64" in req:
        body = base64.b64decode(req["body_base64"])
    timeout = req.get("timeout_ms", REQUEST_TIMEOUT_S * 1000) / 1000
    conn = http.client.HTTPConnection("127.0.0.1", ctx.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
        hdrs: dict[str, str] = {}
        for k, v in r.getheaders():
            k = k.lower()
            hdrs[k] = f"{hdrs[k]}, {v}" if k in hdrs else v
        return Response(r.status, hdrs, data)
    except (OSError, http.client.HTTPException) as e:
        raise StepFailure(f"no response ({type(e).__name__}: {e})") from e
    finally:
        conn.close()


def describe(req: dict) -> str:
    return f"{req.get('method', 'GET')} {req['path']}"


def short(v: Any, limit: int = 300) -> str:
    s = v if isinstance(v, str) else json.dumps(v, sort_keys=True)
    s = repr(s) if isinstance(v, str) else s
    return s if len(s) <= limit else s[:limit] + f"... ({len(s)} chars)"


# ---------------------------------------------------------------------------------------------
# Expectations

def mismatch(ctx: Context, expect: dict, resp: Response) -> str | None:
    """None when resp satisfies expect, else a one-line description of the first difference."""
    if "status" in expect and resp.status != expect["status"]:
        return (f"status: expected {expect['status']}, got {resp.status} "
                f"(body {short(resp.text(), 200)})")
    if "body" in expect:
        want = ctx.subst(expect["body"])
        if resp.text() != want:
            return f"body{line_diff(want, resp.text(), lambda w, g: w == g)}"
    if "json" in expect:
        want = ctx.subst_json(expect["json"])
        try:
            got = json.loads(resp.body)
        except ValueError:
            return f"json: expected {short(want)}, got non-JSON {short(resp.text())}"
        diff = json_diff(got, want)
        if diff:
            return f"json{diff}"
    if "body_regex" in expect:
        pattern = ctx.subst(expect["body_regex"], regex=True)
        if not re.fullmatch(pattern, resp.text(), re.DOTALL):
            return "body" + line_diff(pattern, resp.text(),
                                      lambda w, g: re.fullmatch(w, g, re.DOTALL) is not None,
                                      regex=True)
    for name, want in expect.get("headers", {}).items():
        got = resp.headers.get(name.lower())
        if want is None:
            if got is not None:
                return f"header {name}: expected absent, got {got!r}"
        elif got != ctx.subst(want):
            return f"header {name}: expected {ctx.subst(want)!r}, got {got!r}"
    for name, pattern in expect.get("header_regex", {}).items():
        got = resp.headers.get(name.lower())
        pattern = ctx.subst(pattern, regex=True)
        if got is None or not re.fullmatch(pattern, got, re.DOTALL):
            return f"header {name}: expected to match /{pattern}/, got {got!r}"
    return None


def line_diff(want: str, got: str, same, regex: bool = False) -> str:
    """Describes a body mismatch; for multi-line bodies with as many lines as expected, the
    first differing line only (`same(want_line, got_line)` compares, e.g. as a regex)."""
    what = "to match " if regex else ""
    wl, gl = want.split("\n"), got.split("\n")
    if len(wl) > 1 and len(wl) == len(gl):
        for i, (w, g) in enumerate(zip(wl, gl), 1):
            if not same(w, g):
                return f" line {i}: expected {what}{short(w)}, got {short(g)}"
    return f": expected {what}{short(want)}, got {short(got)}"


def json_diff(got: Any, want: Any, path: str = "") -> str | None:
    """None when equal (see json_equal), else the first differing path with both values."""
    if isinstance(got, dict) and isinstance(want, dict):
        for k in want:
            if k not in got:
                return f"{path}.{k}: expected {short(want[k])}, missing"
            d = json_diff(got[k], want[k], f"{path}.{k}")
            if d:
                return d
        for k in got:
            if k not in want:
                return f"{path}.{k}: unexpected, got {short(got[k])}"
        return None
    if isinstance(got, list) and isinstance(want, list) and len(got) == len(want):
        for i, (g, w) in enumerate(zip(got, want)):
            d = json_diff(g, w, f"{path}[{i}]")
            if d:
                return d
        return None
    if json_equal(got, want):
        return None
    return f"{path or ' body'}: expected {short(want)}, got {short(got)}"


def json_equal(a: Any, b: Any) -> bool:
    # Like ==, but 1 != True and key order of objects is irrelevant (lists stay ordered).
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    return a == b


def effective(step: dict, runtime: str) -> dict:
    ov = step.get("override", {}).get(runtime)
    if not ov:
        return step
    merged = dict(step)
    merged.update({k: v for k, v in ov.items() if k != "reason"})
    return merged


# ---------------------------------------------------------------------------------------------
# Steps

def run_step(ctx: Context, step: dict) -> None:
    expect = step.get("expect", {})
    if "request" in step:
        resp = do_request(ctx, step["request"])
        problem = mismatch(ctx, expect, resp)
        if problem:
            raise StepFailure(problem)
        save(ctx, step, resp)
    elif "poll" in step:
        poll = step["poll"]
        every = poll.get("every_ms", POLL_EVERY_MS) / 1000
        deadline = time.monotonic() + poll.get("deadline_ms", POLL_DEADLINE_MS) / 1000
        while True:
            resp = do_request(ctx, poll["request"])
            problem = mismatch(ctx, expect, resp)
            if problem is None:
                save(ctx, step, resp)
                return
            if time.monotonic() >= deadline:
                raise StepFailure(f"still after {poll.get('deadline_ms', POLL_DEADLINE_MS)} ms: "
                                  f"{problem}")
            time.sleep(every)
    else:
        run_concurrent(ctx, step)


def save(ctx: Context, step: dict, resp: Response) -> None:
    """"save": {"var": "body"} stores the body text; {"var": "json:key"} a top-level JSON field;
    {"var": "header:name"} a response header. Later steps use {{var}}."""
    for var, source in step.get("save", {}).items():
        if source == "body":
            ctx.vars[var] = resp.text()
        elif source.startswith("json:"):
            try:
                ctx.vars[var] = str(json.loads(resp.body)[source[5:]])
            except (ValueError, KeyError, TypeError) as e:
                raise StepFailure(f"cannot save {var} from {source}: {e!r}") from e
        elif source.startswith("header:"):
            ctx.vars[var] = resp.headers.get(source[7:].lower(), "")
        else:
            raise SetupError(f"bad save source {source!r}")


def run_concurrent(ctx: Context, step: dict) -> None:
    c = step["concurrent"]
    reqs = c["requests"] if "requests" in c else [c["request"]] * c["count"]
    barrier = threading.Barrier(len(reqs))
    results: list[Response | Exception | None] = [None] * len(reqs)

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=REQUEST_TIMEOUT_S)
            results[i] = do_request(ctx, reqs[i])
        except Exception as e:  # reported below, in the main thread
            results[i] = e

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(len(reqs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(REQUEST_TIMEOUT_S * 2)
    for i, r in enumerate(results):
        if r is None:
            raise StepFailure(f"concurrent request {i + 1}: no result (timed out)")
        if isinstance(r, Exception):
            raise StepFailure(f"concurrent request {i + 1} ({describe(reqs[i])}): {r}")
        problem = mismatch(ctx, step.get("expect", {}), r)
        if problem:
            raise StepFailure(f"concurrent request {i + 1} ({describe(reqs[i])}): {problem}")
    if "bodies" in step:
        multiset_check("bodies", [ctx.subst(b) for b in step["bodies"]],
                       [r.text() for r in results])
    if "json_bodies" in step:
        def key(v: Any) -> str:
            return json.dumps(v, sort_keys=True, ensure_ascii=False)

        def parsed(r: Response) -> str:
            try:
                return key(json.loads(r.body))
            except ValueError:
                return f"(not JSON) {r.text()}"
        multiset_check("JSON bodies", [key(ctx.subst_json(b)) for b in step["json_bodies"]],
                       [parsed(r) for r in results])


def multiset_check(what: str, want: list[str], got: list[str]) -> None:
    """Order-independent comparison; the failure lists what is missing and what is extra."""
    missing = Counter(want) - Counter(got)
    extra = Counter(got) - Counter(want)
    if missing or extra:
        raise StepFailure(f"{what} (any order): missing {short(sorted(missing.elements()))}, "
                          f"unexpected {short(sorted(extra.elements()))}")


# ---------------------------------------------------------------------------------------------
# Driver

def run_scenario(args, name: str) -> str | None:
    """None on success, else the failure line."""
    folder = SCENARIOS / name
    try:
        scenario = load_scenario(folder)
    except SetupError as e:
        return f"setup: {e}"
    tmp = Path(tempfile.mkdtemp(prefix=f"duro-compat-{name}-"))
    server = None
    try:
        project = tmp / "project"
        shutil.copytree(folder, project)
        for attempt in range(3):
            server = start_server(args, project, tmp)
            try:
                server.wait_ready()
                break
            except PortInUse:
                server.stop()
                server = None
                shutil.rmtree(tmp / "data")
        else:
            raise SetupError("could not find a free port in 3 attempts")
        ctx = Context(port=server.port)
        for i, step in enumerate(scenario["steps"], 1):
            step = effective(step, args.runtime)
            req = (step.get("request") or step.get("poll", {}).get("request")
                   or step["concurrent"].get("request") or step["concurrent"]["requests"][0])
            kind = "poll " if "poll" in step else ("concurrent " if "concurrent" in step else "")
            try:
                run_step(ctx, step)
            except StepFailure as e:
                msg = f"step {i} ({kind}{describe(req)}): {e}"
                try:  # a server that just crashed may take a moment to be reaped
                    server.proc.wait(timeout=0.5)
                except subprocess.TimeoutExpired:
                    pass
                died = server.exited()
                if died:
                    msg += f" [the server {died}; its output:\n{tail(server.log())}]"
                elif args.verbose:
                    msg += f"\n  server output:\n{tail(server.log())}"
                return msg
        if args.verbose and args.show_log:
            print(tail(server.log()))
        return None
    except SetupError as e:
        return f"setup: {e}"
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def default_workerd() -> str:
    try:
        out = subprocess.run(["bash", str(REPO / "tools" / "install-workerd.sh")], check=True,
                             capture_output=True, text=True)
    except subprocess.CalledProcessError as e:
        sys.exit(f"tools/install-workerd.sh failed:\n{e.stderr}")
    return out.stdout.strip().splitlines()[-1]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runtime", choices=RUNTIMES, required=True)
    p.add_argument("--duro", help="path to the duro binary (--runtime duro)")
    p.add_argument("--workerd", help="path to workerd (default: tools/install-workerd.sh)")
    p.add_argument("-k", dest="substring", help="only scenarios whose name contains this")
    p.add_argument("--list", action="store_true", help="list the scenarios and exit")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="show the server's output on failure")
    p.add_argument("--show-log", action="store_true", help="with -v: also for passing scenarios")
    p.add_argument("--root", help="folder holding the scenario folders (default: scenarios/ "
                   "beside this file; examples/ runs the examples' own scenarios)")
    p.add_argument("scenarios", nargs="*", help="scenario names (default: all)")
    args = p.parse_args()
    if args.root:
        global SCENARIOS
        SCENARIOS = Path(args.root).resolve()

    names = scenario_names()
    if args.scenarios:
        unknown = [n for n in args.scenarios if n not in names]
        if unknown:
            p.error(f"unknown scenarios: {', '.join(unknown)}")
        names = args.scenarios
    if args.substring:
        names = [n for n in names if args.substring in n]
    if not names:
        print("no scenarios selected")
        print("0 passed, 0 failed")
        return 1
    if args.list:
        for n in names:
            print(n)
        return 0
    if args.runtime == "duro":
        if not args.duro:
            p.error("--runtime duro needs --duro PATH")
        args.duro = str(Path(args.duro).resolve())
    else:
        args.workerd = str(Path(args.workerd or default_workerd()).resolve())
    binary = args.duro if args.runtime == "duro" else args.workerd
    if not os.access(binary, os.X_OK):
        p.error(f"{binary} is not an executable file")

    # Ctrl-C raises KeyboardInterrupt (even when started with SIGINT ignored, as background
    # jobs of a non-interactive shell are); SIGTERM and SIGHUP unwind the same way, so the
    # `finally` blocks stop every server and remove every temporary directory.
    def on_term(signum, frame):
        raise Interrupted()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)

    passed = failed = 0
    try:
        for name in names:
            started = time.monotonic()
            result = run_scenario(args, name)
            took = time.monotonic() - started
            if result is None:
                passed += 1
                print(f"PASS {name} ({took:.1f} s)", flush=True)
            else:
                failed += 1
                print(f"FAIL {name}: {result}", flush=True)
    except (KeyboardInterrupt, Interrupted):
        print("interrupted", flush=True)
        failed += 1
    print(f"{passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
