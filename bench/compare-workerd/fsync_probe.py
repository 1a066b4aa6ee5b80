#!/usr/bin/env python3
"""fsync_probe.py DIR [SECONDS=0.5]: write(512 B) + fdatasync on one file in DIR for SECONDS;
prints the number per second. run.sh runs it just before each measurement: a disk that is slow at
that moment (the shared machine's disk has episodes of a few hundred fsyncs per second) explains
a collapsed durable row."""
import os
import sys
import time

directory = sys.argv[1]
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 0.5
path = os.path.join(directory, f"fsync-probe-{os.getpid()}")
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
try:
    n, start = 0, time.monotonic()
    while time.monotonic() - start < seconds:
        os.pwrite(fd, b"x" * 512, 0)
        os.fdatasync(fd)
        n += 1
    print(f"{n / (time.monotonic() - start):.0f}")
finally:
    os.close(fd)
    os.unlink(path)
