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
import hashlib
import http.client
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
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
# workerd's graceful stop can wait indefinitely for WebSocket connections it still holds after
# the client went away (a hibernatable socket closed from an HTTP request, a client close the
# object never answered, an oversized message): scenarios with WebSocket steps give it less.
WS_WORKERD_STOP_S = 1.0
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

HTTP_KINDS = ("request", "poll", "concurrent")
# WebSocket steps: the keys each one takes (see README.md, "WebSocket steps").
WS_STEP_KEYS = {
    "ws_open": {"name", "path", "headers", "timeout_ms"},
    "ws_send": {"name", "text", "json", "binary_base64", "repeat", "fragments", "may_disconnect"},
    "ws_expect": {"name", "messages", "timeout_ms", "save"},
    "ws_expect_none": {"name", "window_ms"},
    "ws_close": {"name", "code", "reason", "reply", "timeout_ms"},
    "ws_expect_close": {"name", "code", "reason", "reason_regex", "timeout_ms"},
    "ws_drop": {"name", "reset"},
}
WS_KINDS = tuple(WS_STEP_KEYS)
STEP_KINDS = HTTP_KINDS + WS_KINDS
STEP_KEYS = {"note", "expect", "bodies", "json_bodies", "save", "override", *STEP_KINDS}
EXPECT_KEYS = {"status", "body", "json", "body_regex", "headers", "header_regex"}
REQUEST_KEYS = {"method", "path", "headers", "body", "repeat", "json", "body_base64", "timeout_ms"}
# An override replaces these keys of its step; for WebSocket steps, the whole ws_* object.
OVERRIDABLE = {"expect", "bodies", "json_bodies", *WS_KINDS}
WS_MESSAGE_KEYS = {"text", "json", "text_regex", "binary_base64"}
CLOSE_KEYS = {"code", "reason", "reason_regex"}


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
    open_sockets: set[str] = set()  # WebSocket names open at this point of the step list
    for i, step in enumerate(steps, 1):
        where = f"{path}: step {i}"
        unknown = set(step) - STEP_KEYS
        if unknown:
            raise SetupError(f"{where}: unknown keys {sorted(unknown)}")
        kinds = [k for k in STEP_KINDS if k in step]
        if len(kinds) != 1:
            raise SetupError(f"{where}: needs exactly one of {STEP_KINDS}")
        check_expect(step.get("expect", {}), where)
        sockets_before = set(open_sockets)
        if kinds[0] in WS_KINDS:
            check_ws_step(step, kinds[0], where, open_sockets)
        for runtime, ov in step.get("override", {}).items():
            if runtime not in RUNTIMES:
                raise SetupError(f"{where}: override for unknown runtime {runtime!r}")
            if not isinstance(ov.get("reason"), str) or len(ov["reason"].strip()) < 10:
                raise SetupError(f"{where}: override for {runtime} needs a 'reason' sentence")
            bad = set(ov) - OVERRIDABLE - {"reason"}
            if bad:
                raise SetupError(f"{where}: override may replace only {sorted(OVERRIDABLE)}")
            check_expect(ov.get("expect", {}), where)
            for k in set(ov) & set(WS_KINDS):
                if k != kinds[0]:
                    raise SetupError(f"{where}: override replaces {k!r} of a {kinds[0]} step")
                replaced = {**step, **{key: v for key, v in ov.items() if key != "reason"}}
                check_ws_step(replaced, k, where, set(sockets_before))
        if "poll" in step and set(step["poll"]) - {"request", "every_ms", "deadline_ms"}:
            raise SetupError(f"{where}: poll takes 'request', 'every_ms', 'deadline_ms'")
        every = step.get("poll", {}).get("every_ms", POLL_EVERY_MS)
        if not (isinstance(every, int) and every > 0 or isinstance(every, list) and every
                and all(isinstance(x, int) and x > 0 for x in every)):
            raise SetupError(f"{where}: every_ms is a positive number of ms or a list of them")
        if kinds[0] in WS_KINDS:
            continue
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


def check_ws_step(step: dict, kind: str, where: str, open_sockets: set[str]) -> None:
    """Validates a WebSocket step and tracks which names are open (a name must be opened before
    it is used, and may be opened again once it was closed or dropped)."""
    spec = step[kind]
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str) or not spec["name"]:
        raise SetupError(f"{where}: {kind} needs a 'name'")
    unknown = set(spec) - WS_STEP_KEYS[kind]
    if unknown:
        raise SetupError(f"{where}: unknown {kind} keys {sorted(unknown)}")
    extra = set(step) - {kind, "note", "override"} - ({"expect"} if kind == "ws_open" else set())
    if extra:
        raise SetupError(f"{where}: a {kind} step takes no {sorted(extra)}")
    name = spec["name"]
    if kind == "ws_open":
        if not isinstance(spec.get("path"), str):
            raise SetupError(f"{where}: ws_open needs a 'path'")
        if name in open_sockets:
            raise SetupError(f"{where}: WebSocket {name!r} is already open")
        if step.get("expect", {}).get("status", 101) == 101:
            open_sockets.add(name)
        return
    if name not in open_sockets:
        raise SetupError(f"{where}: no open WebSocket named {name!r}")
    if kind == "ws_send":
        if sum(k in spec for k in ("text", "json", "binary_base64")) != 1:
            raise SetupError(f"{where}: ws_send needs exactly one of text, json, binary_base64")
        for k in ("repeat", "fragments"):
            if k in spec and (not isinstance(spec[k], int) or spec[k] < 1):
                raise SetupError(f"{where}: ws_send {k} must be a positive integer")
    elif kind == "ws_expect":
        msgs = spec.get("messages")
        if not isinstance(msgs, list) or not msgs:
            raise SetupError(f"{where}: ws_expect needs a non-empty 'messages' list")
        for m in msgs:
            if not isinstance(m, dict) or len(m) != 1 or set(m) - WS_MESSAGE_KEYS:
                raise SetupError(f"{where}: each expected message is one of "
                                 f"{sorted(WS_MESSAGE_KEYS)}, got {m!r}")
        for var, index in spec.get("save", {}).items():
            if not isinstance(index, int) or not 1 <= index <= len(msgs):
                raise SetupError(f"{where}: ws_expect save {var!r}: a message number "
                                 f"1..{len(msgs)}")
    elif kind == "ws_expect_none":
        if not 0 < spec.get("window_ms", WS_NONE_WINDOW_MS) <= WS_NONE_WINDOW_MAX_MS:
            raise SetupError(f"{where}: window_ms must be in 1..{WS_NONE_WINDOW_MAX_MS}")
    elif kind in ("ws_close", "ws_expect_close"):
        expected = spec.get("reply") if kind == "ws_close" else spec
        if kind == "ws_close" and "reply" not in spec:
            raise SetupError(f"{where}: ws_close needs 'reply' (the close frame expected back, "
                             "or null for none)")
        if kind == "ws_close" and expected is None:
            expected = {"code": 0}
        if kind == "ws_close" and "reason" in spec and "code" not in spec:
            raise SetupError(f"{where}: a close reason needs a code")
        if (not isinstance(expected, dict) or not isinstance(expected.get("code"), int)
                or (kind == "ws_close" and set(expected) - CLOSE_KEYS)
                or ("reason" in expected and "reason_regex" in expected)):
            raise SetupError(f"{where}: {kind} expects a close with 'code' and optionally "
                             "'reason' or 'reason_regex'")
        open_sockets.discard(name)
    elif kind == "ws_drop":
        open_sockets.discard(name)


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

    def stop(self, grace: float = STOP_TIMEOUT_S) -> None:
        """SIGTERM (a graceful stop), SIGKILL after `grace` seconds; then SIGKILL whatever is
        left of the process group the server was started in (its own children, if any)."""
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=grace)
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
    sockets: dict[str, "WsConn"] = field(default_factory=dict)  # open WebSockets by name

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
# WebSocket client (RFC 6455): enough of it to drive a server and see exactly what it sends.

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
WS_EXPECT_TIMEOUT_MS = 5000   # ws_expect, ws_close, ws_expect_close
WS_NONE_WINDOW_MS = 300       # ws_expect_none
WS_NONE_WINDOW_MAX_MS = 5000
WS_SEND_TIMEOUT_S = 15.0
WS_FINAL_DRAIN_S = 0.25       # at the end of a scenario, per socket still open
OPCODES = {0: "continuation", 1: "text", 2: "binary", 8: "close", 9: "ping", 10: "pong"}


def ws_mask(data: bytes, key: bytes) -> bytes:
    n = len(data)
    if n == 0:
        return b""
    m = (key * (n // 4 + 1))[:n]  # one big-integer XOR: fast even for tens of MiB
    return (int.from_bytes(data, "little") ^ int.from_bytes(m, "little")).to_bytes(n, "little")


class PeerClosed(OSError):
    """The server sent a close frame while this client was still sending a message."""


def close_payload(code: int | None, reason: str) -> bytes:
    return b"" if code is None else struct.pack(">H", code) + reason.encode()


class WsConn:
    """One client WebSocket. Reads are driven by the steps (no background thread): pings from the
    server are answered while reading, fragments are joined, and every message, close frame or
    end of the connection is reported as an event:

        ("text", str) | ("binary", bytes) | ("close", code, reason) | ("eof", detail)
        | ("error", detail)

    code 1005 is a close frame without a code; ("eof", ...) is the connection ending without one.
    """

    def __init__(self, name: str, sock: socket.socket, leftover: bytes):
        self.name = name
        self.sock = sock
        self.buf = bytearray(leftover)
        self.frag_op: int | None = None
        self.frag_parts: list[bytes] = []
        self.ended: tuple | None = None       # the terminal event, once seen
        self.close_sent = False

    # -- sending --

    def send_frame(self, opcode: int, payload: bytes, fin: bool = True,
                   stop_on_close: bool = False) -> None:
        n = len(payload)
        head = bytes([(0x80 if fin else 0) | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 1 << 16:
            head += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack(">Q", n)
        key = os.urandom(4)
        self._send_all(head + key + ws_mask(payload, key), stop_on_close)

    def _send_all(self, data: bytes, stop_on_close: bool) -> None:
        """Sends while reading what the server sends meanwhile (kept for recv_event), so a server
        that answers a large message early cannot deadlock the exchange. With stop_on_close, a
        close frame from the server ends the sending (PeerClosed): it stopped reading."""
        view = memoryview(data)
        deadline = time.monotonic() + WS_SEND_TIMEOUT_S
        self.sock.settimeout(0)
        try:
            while view:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"sending stalled for {WS_SEND_TIMEOUT_S:.0f} s with "
                                       f"{len(view)} bytes left")
                readable, writable, _ = select.select([self.sock], [self.sock], [], remaining)
                if readable:
                    chunk = self.sock.recv(1 << 16)
                    if not chunk:
                        raise ConnectionResetError("the server closed the TCP connection")
                    self.buf += chunk
                    if stop_on_close and self._close_frame_buffered():
                        raise PeerClosed("the server sent a close frame")
                if writable:
                    try:
                        sent = self.sock.send(view[:1 << 20])
                    except BlockingIOError:
                        continue
                    view = view[sent:]
        finally:
            self.sock.settimeout(None)

    def _close_frame_buffered(self) -> bool:
        """Whether a complete close frame is among the frames received and not yet read."""
        b, pos = self.buf, 0
        while len(b) - pos >= 2:
            n, off = b[pos + 1] & 0x7F, 2
            if n == 126:
                if len(b) - pos < 4:
                    return False
                n, off = struct.unpack(">H", b[pos + 2:pos + 4])[0], 4
            elif n == 127:
                if len(b) - pos < 10:
                    return False
                n, off = struct.unpack(">Q", b[pos + 2:pos + 10])[0], 10
            off += 4 if b[pos + 1] & 0x80 else 0
            if len(b) - pos < off + n:
                return False
            if b[pos] & 0x0F == 8:
                return True
            pos += off + n
        return False

    def send_message(self, data: bytes, binary: bool, fragments: int = 1,
                     stop_on_close: bool = False) -> None:
        opcode = 2 if binary else 1
        size = -(-len(data) // fragments) if data else 0
        parts = [data[i:i + size] for i in range(0, len(data), size)] if size else [b""]
        parts += [b""] * (fragments - len(parts))
        for i, part in enumerate(parts):
            self.send_frame(opcode if i == 0 else 0, part, fin=i == len(parts) - 1,
                            stop_on_close=stop_on_close)

    def send_close(self, code: int | None, reason: str = "") -> None:
        if not self.close_sent:
            self.close_sent = True
            self.send_frame(8, close_payload(code, reason))

    # -- receiving --

    def _parse_frame(self) -> tuple[bool, int, int, bytes] | None:
        b = self.buf
        if len(b) < 2:
            return None
        n, off = b[1] & 0x7F, 2
        if n == 126:
            if len(b) < 4:
                return None
            n, off = struct.unpack(">H", b[2:4])[0], 4
        elif n == 127:
            if len(b) < 10:
                return None
            n, off = struct.unpack(">Q", b[2:10])[0], 10
        key = None
        if b[1] & 0x80:
            key, off = bytes(b[off:off + 4]), off + 4
        if len(b) < off + n:
            return None
        payload = bytes(b[off:off + n])
        fin, rsv, opcode = bool(b[0] & 0x80), b[0] & 0x70, b[0] & 0x0F
        del b[:off + n]
        if key is not None:
            return fin, -1, opcode, payload  # a masked server frame is a protocol error
        return fin, rsv, opcode, payload

    def recv_event(self, deadline: float) -> tuple | None:
        """The next event, or None when `deadline` (time.monotonic()) passes first."""
        if self.ended:
            return self.ended
        while True:
            frame = self._parse_frame()
            if frame is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self.sock.settimeout(remaining)
                try:
                    data = self.sock.recv(1 << 16)
                except (socket.timeout, TimeoutError):
                    return None
                except OSError as e:
                    return self._end(("eof", f"connection error: {type(e).__name__}: {e}"))
                if not data:
                    return self._end(("eof", "the server closed the TCP connection"))
                self.buf += data
                continue
            fin, rsv, opcode, payload = frame
            if rsv == -1:
                kind = OPCODES.get(opcode, f"opcode {opcode}")
                return self._end(("error", f"the server sent a masked {kind} frame"))
            if rsv:
                return self._end(("error", f"the server set RSV bits {rsv >> 4:#x}"))
            if opcode == 9:  # ping: answer, unless we already sent our close frame
                if not self.close_sent:
                    try:
                        self.send_frame(10, payload)
                    except OSError:
                        pass
                continue
            if opcode == 10:
                continue
            if opcode == 8:
                if len(payload) == 0:
                    return self._end(("close", 1005, ""))
                if len(payload) == 1:
                    return self._end(("error", "close frame with a 1-byte payload"))
                code = struct.unpack(">H", payload[:2])[0]
                try:
                    reason = payload[2:].decode("utf-8")
                except UnicodeDecodeError:
                    return self._end(("error", "close reason is not valid UTF-8"))
                return self._end(("close", code, reason))
            if opcode in (1, 2):
                if self.frag_op is not None:
                    return self._end(("error", "new message inside a fragmented one"))
                self.frag_op, self.frag_parts = opcode, [payload]
            elif opcode == 0:
                if self.frag_op is None:
                    return self._end(("error", "continuation frame without a message"))
                self.frag_parts.append(payload)
            else:
                return self._end(("error", f"unknown opcode {opcode}"))
            if not fin:
                continue
            op, data = self.frag_op, b"".join(self.frag_parts)
            self.frag_op, self.frag_parts = None, []
            if op == 2:
                return ("binary", data)
            try:
                return ("text", data.decode("utf-8"))
            except UnicodeDecodeError:
                return self._end(("error", "text message is not valid UTF-8"))

    def _end(self, event: tuple) -> tuple:
        self.ended = event
        return event

    def close_tcp(self, reset: bool = False) -> None:
        try:
            if reset:  # SO_LINGER 0: close() sends RST instead of FIN
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        if not self.ended:
            self.ended = ("eof", "closed by this client")

    def finish(self) -> None:
        """End of the scenario: a normal close (1000) if nothing ended the socket yet, a short
        bounded wait for the server's answer, then the TCP connection is closed."""
        if not self.ended:
            try:
                self.send_close(1000, "")
                deadline = time.monotonic() + WS_FINAL_DRAIN_S
                while True:
                    ev = self.recv_event(deadline)
                    if ev is None or ev[0] in ("close", "eof", "error"):
                        break
            except OSError:
                pass
        self.close_tcp()


def describe_event(ev: tuple | None) -> str:
    if ev is None:
        return "nothing"
    if ev[0] == "text":
        return f"text {short(ev[1])}"
    if ev[0] == "binary":
        return f"binary {short(base64.b64encode(ev[1]).decode())} (base64, {len(ev[1])} bytes)"
    if ev[0] == "close":
        return f"a close frame (code {ev[1]}, reason {ev[2]!r})"
    if ev[0] == "eof":
        return f"the end of the connection ({ev[1]})"
    return f"a protocol error ({ev[1]})"


def read_http_head(sock: socket.socket, deadline: float) -> tuple[bytes, bytes]:
    """(head up to the blank line, bytes after it)."""
    data = bytearray()
    while b"\r\n\r\n" not in data:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise StepFailure("no response to the upgrade request (timed out)")
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(1 << 16)
        except (socket.timeout, TimeoutError):
            continue
        except OSError as e:
            raise StepFailure(f"no response ({type(e).__name__}: {e})") from e
        if not chunk:
            raise StepFailure(f"the server closed the connection after {len(data)} bytes of "
                              "response head")
        data += chunk
    i = data.index(b"\r\n\r\n")
    return bytes(data[:i]), bytes(data[i + 4:])


def read_http_body(sock: socket.socket, headers: dict[str, str], rest: bytes,
                   deadline: float) -> bytes:
    buf = bytearray(rest)

    def more() -> bool:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise StepFailure("response body timed out")
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(1 << 16)
        except (socket.timeout, TimeoutError):
            return True
        except OSError:
            return False
        buf.extend(chunk)
        return bool(chunk)

    if "chunked" in headers.get("transfer-encoding", "").lower():
        body, pos = bytearray(), 0
        while True:
            while b"\r\n" not in buf[pos:]:
                if not more():
                    raise StepFailure("connection closed inside a chunked body")
            eol = buf.index(b"\r\n", pos)
            size = int(bytes(buf[pos:eol]).split(b";")[0].strip() or b"0", 16)
            pos = eol + 2
            if size == 0:
                return bytes(body)
            while len(buf) < pos + size + 2:
                if not more():
                    raise StepFailure("connection closed inside a chunked body")
            body += buf[pos:pos + size]
            pos += size + 2
    if "content-length" in headers:
        n = int(headers["content-length"])
        while len(buf) < n:
            if not more():
                raise StepFailure(f"connection closed after {len(buf)} of {n} body bytes")
        return bytes(buf[:n])
    while more():
        pass
    return bytes(buf)


def ws_open(ctx: Context, spec: dict) -> tuple[Response, WsConn | None]:
    """Sends the upgrade request. A 101 answer (checked: Upgrade, Connection,
    Sec-WebSocket-Accept) gives a WsConn; any other answer is read like an HTTP response."""
    path = ctx.subst(spec["path"])
    deadline = time.monotonic() + spec.get("timeout_ms", REQUEST_TIMEOUT_S * 1000) / 1000
    key = base64.b64encode(os.urandom(16)).decode()
    headers = {"Host": f"127.0.0.1:{ctx.port}", "Upgrade": "websocket", "Connection": "Upgrade",
               "Sec-WebSocket-Key": key, "Sec-WebSocket-Version": "13"}
    for k, v in spec.get("headers", {}).items():  # may replace or remove (null) the defaults
        for existing in [h for h in headers if h.lower() == k.lower()]:
            del headers[existing]
        if v is not None:
            headers[k] = ctx.subst(v)
    request = f"GET {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    try:
        sock = socket.create_connection(("127.0.0.1", ctx.port), timeout=REQUEST_TIMEOUT_S)
    except OSError as e:
        raise StepFailure(f"cannot connect ({type(e).__name__}: {e})") from e
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall((request + "\r\n").encode())
        head, rest = read_http_head(sock, deadline)
        lines = head.decode("latin-1").split("\r\n")
        m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
        if not m:
            raise StepFailure(f"not an HTTP response: {short(lines[0])}")
        status = int(m.group(1))
        hdrs: dict[str, str] = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            k, v = k.strip().lower(), v.strip()
            hdrs[k] = f"{hdrs[k]}, {v}" if k in hdrs else v
        if status != 101:
            body = read_http_body(sock, hdrs, rest, deadline)
            sock.close()
            return Response(status, hdrs, body), None
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        problems = []
        if hdrs.get("upgrade", "").lower() != "websocket":
            problems.append(f"Upgrade: {hdrs.get('upgrade')!r}")
        if "upgrade" not in hdrs.get("connection", "").lower():
            problems.append(f"Connection: {hdrs.get('connection')!r}")
        if hdrs.get("sec-websocket-accept") != accept:
            problems.append(f"Sec-WebSocket-Accept: {hdrs.get('sec-websocket-accept')!r}, "
                            f"expected {accept!r}")
        if problems:
            raise StepFailure("invalid 101 answer: " + "; ".join(problems))
        return Response(101, hdrs, b""), WsConn(spec["name"], sock, rest)
    except BaseException:
        sock.close()
        raise


def message_mismatch(ctx: Context, want: dict, ev: tuple | None) -> str | None:
    if ev is None or ev[0] not in ("text", "binary"):
        return f"got {describe_event(ev)}"
    if "binary_base64" in want:
        expected = base64.b64decode(want["binary_base64"])
        if ev[0] != "binary" or ev[1] != expected:
            return (f"expected binary {short(want['binary_base64'])} (base64), "
                    f"got {describe_event(ev)}")
        return None
    if ev[0] != "text":
        return f"expected a text message, got {describe_event(ev)}"
    got = ev[1]
    if "text" in want:
        if got != ctx.subst(want["text"]):
            return f"expected {short(ctx.subst(want['text']))}, got {short(got)}"
    elif "text_regex" in want:
        pattern = ctx.subst(want["text_regex"], regex=True)
        if not re.fullmatch(pattern, got, re.DOTALL):
            return f"expected to match {short(pattern)}, got {short(got)}"
    elif "json" in want:
        try:
            parsed = json.loads(got)
        except ValueError:
            return f"expected JSON {short(want['json'])}, got non-JSON {short(got)}"
        diff = json_diff(parsed, ctx.subst_json(want["json"]))
        if diff:
            return f"json{diff}"
    return None


def close_mismatch(ctx: Context, want: dict, ev: tuple | None) -> str | None:
    """`want`: {"code": N, "reason"?: s, "reason_regex"?: p}; code 1006 means the connection
    ended without a close frame."""
    if ev is None:
        return f"expected {close_wanted(want)}, got nothing (timed out)"
    if ev[0] == "eof" and want["code"] == 1006:
        return None
    if ev[0] != "close":
        return f"expected {close_wanted(want)}, got {describe_event(ev)}"
    code, reason = ev[1], ev[2]
    if code != want["code"]:
        return f"expected {close_wanted(want)}, got {describe_event(ev)}"
    if "reason" in want and reason != ctx.subst(want["reason"]):
        return f"expected {close_wanted(want)}, got {describe_event(ev)}"
    if "reason_regex" in want and not re.fullmatch(ctx.subst(want["reason_regex"], regex=True),
                                                   reason, re.DOTALL):
        return f"expected {close_wanted(want)}, got {describe_event(ev)}"
    return None


def close_wanted(want: dict) -> str:
    if want["code"] == 1006:
        return "the connection to end without a close frame (1006)"
    extra = (f", reason {want['reason']!r}" if "reason" in want else
             f", reason matching /{want['reason_regex']}/" if "reason_regex" in want else "")
    return f"a close frame (code {want['code']}{extra})"


def run_ws_step(ctx: Context, step: dict, kind: str) -> None:
    spec = step[kind]
    name = spec["name"]
    if kind == "ws_open":
        resp, conn = ws_open(ctx, spec)
        expect = step.get("expect", {})
        if "status" not in expect:
            expect = {**expect, "status": 101}
        problem = mismatch(ctx, expect, resp)
        if conn is not None:
            if problem:
                conn.close_tcp()
            else:
                ctx.sockets[name] = conn
        if problem:
            raise StepFailure(problem)
        return
    conn = ctx.sockets[name]
    if kind == "ws_send":
        if "binary_base64" in spec:
            data, binary = base64.b64decode(spec["binary_base64"]), True
        elif "json" in spec:
            data, binary = json.dumps(ctx.subst_json(spec["json"])).encode(), False
        else:
            data, binary = ctx.subst(spec["text"]).encode(), False
        try:
            conn.send_message(data * spec.get("repeat", 1), binary, spec.get("fragments", 1),
                              stop_on_close=spec.get("may_disconnect", False))
        except OSError as e:
            if spec.get("may_disconnect"):  # the server closed (or reset) while this was sent
                return
            before = f"; before that: {describe_event(conn.ended)}" if conn.ended else ""
            raise StepFailure(f"send failed ({type(e).__name__}: {e}){before}") from e
    elif kind == "ws_expect":
        timeout = spec.get("timeout_ms", WS_EXPECT_TIMEOUT_MS)
        deadline = time.monotonic() + timeout / 1000
        got = []
        for i, want in enumerate(spec["messages"], 1):
            ev = conn.recv_event(deadline)
            problem = message_mismatch(ctx, want, ev)
            if problem:
                where = f"message {i} of {len(spec['messages'])}"
                if ev is None:
                    raise StepFailure(f"{where}: nothing within {timeout} ms")
                raise StepFailure(f"{where}: {problem}")
            got.append(ev)
        for var, index in spec.get("save", {}).items():  # text, or base64 for binary
            ev = got[index - 1]
            ctx.vars[var] = ev[1] if ev[0] == "text" else base64.b64encode(ev[1]).decode()
    elif kind == "ws_expect_none":
        window = spec.get("window_ms", WS_NONE_WINDOW_MS)
        ev = conn.recv_event(time.monotonic() + window / 1000)
        if ev is not None:
            raise StepFailure(f"expected nothing for {window} ms, got {describe_event(ev)}")
    elif kind == "ws_close":
        try:
            conn.send_close(spec.get("code"), ctx.subst(spec.get("reason", "")))
        except OSError as e:
            raise StepFailure(f"cannot send the close frame ({type(e).__name__}: {e})") from e
        timeout = spec.get("timeout_ms", WS_EXPECT_TIMEOUT_MS)
        if spec["reply"] is None:  # the server must not answer within timeout_ms
            ev = conn.recv_event(time.monotonic() + timeout / 1000)
            conn.close_tcp()
            del ctx.sockets[name]
            if ev is not None:
                raise StepFailure(f"expected no answer to the close frame for {timeout} ms, "
                                  f"got {describe_event(ev)}")
            return
        wait_close(ctx, conn, spec["reply"], timeout)
        conn.close_tcp()
        del ctx.sockets[name]
    elif kind == "ws_expect_close":
        wait_close(ctx, conn, spec, spec.get("timeout_ms", WS_EXPECT_TIMEOUT_MS))
        ev = conn.ended
        if ev and ev[0] == "close":  # complete the closing handshake: echo the code (RFC 6455)
            try:
                conn.send_close(None if ev[1] == 1005 else ev[1], "")
            except OSError:
                pass
        conn.close_tcp()
        del ctx.sockets[name]
    elif kind == "ws_drop":
        conn.close_tcp(reset=spec.get("reset", False))
        del ctx.sockets[name]


def wait_close(ctx: Context, conn: WsConn, want: dict, timeout_ms: int) -> None:
    """The next event must be the expected close (messages before it are a failure: a scenario
    reads them with ws_expect first)."""
    ev = conn.recv_event(time.monotonic() + timeout_ms / 1000)
    problem = close_mismatch(ctx, want, ev)
    if problem:
        conn.close_tcp()
        del ctx.sockets[conn.name]
        raise StepFailure(problem + (f" within {timeout_ms} ms" if ev is None else ""))


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
    ws_kind = next((k for k in WS_KINDS if k in step), None)
    if ws_kind:
        run_ws_step(ctx, step, ws_kind)
    elif "request" in step:
        resp = do_request(ctx, step["request"])
        problem = mismatch(ctx, expect, resp)
        if problem:
            raise StepFailure(problem)
        save(ctx, step, resp)
    elif "poll" in step:
        poll = step["poll"]
        # every_ms: the wait between two requests; a list gives the successive waits, its last
        # one repeating (to let an object go idle for longer than a runtime's idle timeout).
        every = poll.get("every_ms", POLL_EVERY_MS)
        gaps = every if isinstance(every, list) else [every]
        deadline = time.monotonic() + poll.get("deadline_ms", POLL_DEADLINE_MS) / 1000
        attempt = 0
        while True:
            resp = do_request(ctx, poll["request"])
            problem = mismatch(ctx, expect, resp)
            if problem is None:
                save(ctx, step, resp)
                return
            gap = gaps[min(attempt, len(gaps) - 1)] / 1000
            attempt += 1
            if time.monotonic() >= deadline:
                raise StepFailure(f"still after {poll.get('deadline_ms', POLL_DEADLINE_MS)} ms "
                                  f"({attempt} requests): {problem}")
            time.sleep(min(gap, max(0.0, deadline - time.monotonic())))
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

def step_label(step: dict) -> str:
    """How a failure names the step: `GET /path`, `poll GET /path`, `ws_expect a`."""
    for kind in WS_KINDS:
        if kind in step:
            spec = step[kind]
            return f"{kind} {spec['name']}" + (f" {spec['path']}" if kind == "ws_open" else "")
    req = (step.get("request") or step.get("poll", {}).get("request")
           or step["concurrent"].get("request") or step["concurrent"]["requests"][0])
    kind = "poll " if "poll" in step else ("concurrent " if "concurrent" in step else "")
    return kind + describe(req)


def run_scenario(args, name: str) -> str | None:
    """None on success, else the failure line."""
    folder = SCENARIOS / name
    try:
        scenario = load_scenario(folder)
    except SetupError as e:
        return f"setup: {e}"
    tmp = Path(tempfile.mkdtemp(prefix=f"duro-compat-{name}-"))
    server = None
    ctx = None
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
            try:
                run_step(ctx, step)
            except StepFailure as e:
                msg = f"step {i} ({step_label(step)}): {e}"
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
        if ctx is not None:  # every WebSocket still open is closed before the server stops
            for conn in ctx.sockets.values():
                conn.finish()
            ctx.sockets.clear()
        if server is not None:
            uses_ws = any(k in step for step in scenario["steps"] for k in WS_KINDS)
            server.stop(WS_WORKERD_STOP_S if uses_ws and args.runtime == "workerd"
                        else STOP_TIMEOUT_S)
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
