#!/usr/bin/env python3
"""Process start -> ready, from outside: ``satellite serve`` is started and ``/readyz`` polled
until it answers 200, with the engine probe's verdicts kept (a normal start), removed before each
start (the first start on a machine), and with the probe off; the runs of the three interleaved.

    .venv/bin/python scripts/bench_startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

MODES = {
    "verdicts kept (a normal start)": [],
    "no verdicts yet (first start on this CPU, packages, models)": [],
    "probe off (engines.probe: false)": ["--set", "engines.probe=false"],
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_to_ready_s(state: Path, extra: list[str]) -> float:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SATELLITE")}
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "satellite", "--state-dir", str(state), *extra, "serve",
         "--uri", "tcp://127.0.0.1:0", "--health-port", str(port), "--no-zeroconf"],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.monotonic() - started < 120:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as answer:
                    if answer.status == 200:
                        return time.monotonic() - started
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.02)
        raise RuntimeError("not ready within 120 s")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as folder:
        state = Path(folder)
        start_to_ready_s(state, [])  # the verdicts, and the OS's file cache, warm
        times: dict[str, list[float]] = {mode: [] for mode in MODES}
        for _ in range(args.runs):
            for mode, extra in MODES.items():
                if mode.startswith("no verdicts"):
                    (state / "engine-verdicts.json").unlink(missing_ok=True)
                times[mode].append(start_to_ready_s(state, extra))
    print("| start | start -> /readyz 200, median (min-max) of", args.runs, "|")
    print("|---|---|")
    for mode, values in times.items():
        print(f"| {mode} | {statistics.median(values):.2f} s ({min(values):.2f}-{max(values):.2f} s) |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
