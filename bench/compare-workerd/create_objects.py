#!/usr/bin/env python3
"""Creates N new Durable Objects on a running server and measures what they cost the server.

    create_objects.py --port P [--pid PID] --count N [--concurrency C] [--prefix /spread/mem-]
                      [--time-limit SECONDS] [--also NAME]... [--accept new|ok]

Sends `GET <prefix><i>` once for each i in [0, N) over C HTTP/1.1 keep-alive connections (one
request in flight per connection). Each name is new, so each request constructs an object, reads
a missing key and makes a first durable write: every response must be 200 with body "1".

Before and right after, it reads the server's memory and CPU from /proc: VmRSS summed over PID
and its descendants (workerd may run helper processes), and utime + stime of the same processes.
While the requests run it samples the RSS every 0.2 s for the peak. Prints one line:

  RESULT created=N errors=E seconds=S rate=R rss_before_kb=.. rss_after_kb=.. rss_peak_kb=..
         cpu_before_ms=.. cpu_after_ms=.. kb_per_object=.. cpu_ms_per_object=..

kb_per_object = (rss_after - rss_before) / created, cpu_ms_per_object = (cpu_after - cpu_before)
/ created. errors counts wrong statuses or bodies, broken connections and names not sent before
the time limit (the first few are printed to stderr). Exit status 0 only when errors == 0.

run.sh also uses it to construct a row's objects before its warm-up: `--accept ok` takes any 2xx
or 429 response, `--also NAME` requests <prefix>NAME too (after the numbered names), and without
--pid nothing is measured (the RSS and CPU fields are 0).
"""
import argparse
import asyncio
import os
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """pid and its live descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rfind(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo.extend(children.get(p, []))
    return tree


def rss_kb(pids: list[int]) -> int:
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def cpu_ms(pids: list[int]) -> float:
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
        except OSError:
            pass
    return total * 1000.0 / CLK_TCK


class Run:
    def __init__(self, args):
        self.args = args
        self.next = 0
        self.created = 0
        self.errors = 0
        self.messages: list[str] = []
        self.deadline = time.monotonic() + args.time_limit
        self.names = [str(i) for i in range(args.count)] + list(args.also)

    def error(self, message: str) -> None:
        self.errors += 1
        if len(self.messages) < 10:
            self.messages.append(message)

    async def connection(self) -> None:
        reader = writer = None
        try:
            while self.next < len(self.names) and time.monotonic() < self.deadline:
                path = self.args.prefix + self.names[self.next]
                self.next += 1
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", self.args.port)
                writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
                status_line = await asyncio.wait_for(reader.readline(), 30)
                if not status_line:
                    raise ConnectionError("connection closed by the server")
                status = int(status_line.split()[1])
                length, chunked, close = None, False, False
                while True:
                    line = await reader.readline()
                    if line in (b"\r\n", b""):
                        break
                    name, _, value = line.decode("latin-1").partition(":")
                    name, value = name.strip().lower(), value.strip().lower()
                    if name == "content-length":
                        length = int(value)
                    elif name == "transfer-encoding" and "chunked" in value:
                        chunked = True
                    elif name == "connection" and value == "close":
                        close = True
                if chunked:
                    body = b""
                    while True:
                        size = int((await reader.readline()).split(b";")[0], 16)
                        chunk = await reader.readexactly(size + 2)
                        if size == 0:
                            break
                        body += chunk[:-2]
                else:
                    body = await reader.readexactly(length or 0)
                if (status == 200 and body.strip() == b"1") or (
                        self.args.accept == "ok" and (200 <= status < 300 or status == 429)):
                    self.created += 1
                else:
                    self.error(f"GET {path}: {status} {body[:200]!r}")
                if close:
                    writer.close()
                    reader = writer = None
        except (OSError, ConnectionError, asyncio.IncompleteReadError, asyncio.TimeoutError,
                ValueError, IndexError) as e:
            self.error(f"connection failed: {type(e).__name__}: {e}")
        finally:
            if writer is not None:
                writer.close()


async def sample_peak(pids: list[int], peak: list[int], stop: asyncio.Event) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], rss_kb(pids))
        try:
            await asyncio.wait_for(stop.wait(), 0.2)
        except asyncio.TimeoutError:
            pass


async def main_async(args) -> int:
    pids = process_tree(args.pid) if args.pid else []
    rss_before, cpu_before = rss_kb(pids), cpu_ms(pids)
    peak = [rss_before]
    stop = asyncio.Event()
    sampler = asyncio.create_task(sample_peak(pids, peak, stop))
    run = Run(args)
    start = time.monotonic()
    await asyncio.gather(*(run.connection() for _ in range(args.concurrency)))
    seconds = time.monotonic() - start
    pids = process_tree(args.pid) if args.pid else []
    rss_after, cpu_after = rss_kb(pids), cpu_ms(pids)
    stop.set()
    await sampler
    peak[0] = max(peak[0], rss_after)
    not_sent = max(0, len(run.names) - run.next)
    run.errors += not_sent
    for m in run.messages:
        print(f"  error: {m}", file=sys.stderr)
    if not_sent:
        print(f"  error: {not_sent} names not sent within {args.time_limit} s", file=sys.stderr)
    n = max(run.created, 1)
    print(f"RESULT created={run.created} errors={run.errors} seconds={seconds:.3f} "
          f"rate={run.created / seconds:.1f} rss_before_kb={rss_before} rss_after_kb={rss_after} "
          f"rss_peak_kb={peak[0]} cpu_before_ms={cpu_before:.0f} cpu_after_ms={cpu_after:.0f} "
          f"kb_per_object={(rss_after - rss_before) / n:.2f} "
          f"cpu_ms_per_object={(cpu_after - cpu_before) / n:.4f}")
    return 0 if run.errors == 0 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int, default=0, help="the server's process id")
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--prefix", default="/spread/mem-")
    parser.add_argument("--time-limit", type=float, default=600)
    parser.add_argument("--also", action="append", default=[], help="one more name")
    parser.add_argument("--accept", choices=["new", "ok"], default="new",
                        help="new: 200 with body 1 (a new counter); ok: any 2xx or 429")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
