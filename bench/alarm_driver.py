#!/usr/bin/env python3
"""alarm_driver: sets one alarm on each of N new objects of duro-test-server's ALARM class.

  alarm_driver.py --port P [--host 127.0.0.1] [--count N] [--connections C] [--prefix S]
                  [--lead-ms L] [--window-ms W] [--calibration K] [--headroom H]

Sends `GET /alarm/<prefix><i>/set?at=<due_i>` once for each i in [0, N) (default N = 100000) over
C HTTP/1.1 keep-alive connections (default 16), one thread and one request in flight per
connection. The due times are absolute and spread evenly over a window of W ms (default 20000):
due_i = window_start + W * i / N, with window_start meant to come L ms (default 5000) after the
last set. Since how long setting takes is only known afterwards, the driver first sets alarms an
hour ahead on K other new objects, `<prefix>cal-<j>` (default K = 10000; they stay pending), and
measures the set rate over the second half of them (the first few thousand new objects are
faster: the shard's log absorbs a burst), then places the window at now + H x (the time N sets
take at that rate) + L (default H = 1.25) and sets the N alarms. Every answer must be 200 with
the due time as body.

Prints one line:

  RESULT count=N calibration=K seconds=S rate=R calibration_rate=R0 window_start_ms=T0
         window_ms=W gap_ms=G errors=E

seconds/rate: wall time of the N sets after calibration, and sets per second (each set is a new
object's first alarm); calibration_rate: sets per second over the second half of the
calibration; gap_ms: window_start minus the end of the last set (the intended lead is
L; a negative gap means some alarms were set after their due time). Exit status 0 only when
E == 0.
"""
import argparse
import http.client
import sys
import threading
import time


def now_ms():
    return int(time.time() * 1000)


class Setter:
    def __init__(self, args):
        self.args = args
        self.errors = 0
        self.lock = threading.Lock()

    def set_range(self, prefix, first, end, due_of):
        """Sets <prefix><i> for i in [first, end) over args.connections connections; due_of(i) is
        i's time."""
        nxt = [first]

        def take():
            with self.lock:
                i = nxt[0]
                nxt[0] += 1
                return i

        def client():
            conn = http.client.HTTPConnection(self.args.host, self.args.port, timeout=60)
            i = take()
            while i < end:
                at = str(due_of(i))
                try:
                    conn.request("GET", f"/alarm/{prefix}{i}/set?at={at}")
                    resp = conn.getresponse()
                    body = resp.read().decode(errors="replace")
                    ok = resp.status == 200 and body == at
                    detail = f"{resp.status} {body!r}"
                except (OSError, http.client.HTTPException) as e:
                    ok = False
                    detail = repr(e)
                    conn.close()
                    conn = http.client.HTTPConnection(self.args.host, self.args.port, timeout=60)
                if not ok:
                    with self.lock:
                        self.errors += 1
                        if self.errors <= 5:
                            print(f"alarm_driver: {prefix}{i}: {detail}", file=sys.stderr)
                i = take()
            conn.close()

        threads = [threading.Thread(target=client) for _ in range(self.args.connections)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--count", type=int, default=100000)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--prefix", default="alarm-")
    p.add_argument("--lead-ms", type=int, default=5000)
    p.add_argument("--window-ms", type=int, default=20000)
    p.add_argument("--calibration", type=int, default=10000)
    p.add_argument("--headroom", type=float, default=1.25)
    args = p.parse_args()
    n = args.count
    k = args.calibration

    setter = Setter(args)
    far = now_ms() + 3600 * 1000
    setter.set_range(f"{args.prefix}cal-", 0, k // 2, lambda i: far)
    t0 = time.monotonic()
    setter.set_range(f"{args.prefix}cal-", k // 2, k, lambda i: far)
    calibration_seconds = time.monotonic() - t0
    timed = k - k // 2
    per_set = calibration_seconds / timed if timed else 0.0
    window_start = now_ms() + int(args.headroom * per_set * n * 1000) + args.lead_ms

    def due_of(i):
        return window_start + args.window_ms * i // n

    t1 = time.monotonic()
    setter.set_range(args.prefix, 0, n, due_of)
    done = now_ms()
    seconds = time.monotonic() - t1
    print(f"RESULT count={n} calibration={k} seconds={seconds:.1f} rate={n / seconds:.0f} "
          f"calibration_rate={timed / calibration_seconds if calibration_seconds else 0:.0f} "
          f"window_start_ms={window_start} window_ms={args.window_ms} "
          f"gap_ms={window_start - done} errors={setter.errors}", flush=True)
    return 0 if setter.errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
