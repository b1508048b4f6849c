#!/usr/bin/env python3
"""Memory over many turns: does the daemon's resident size settle, or grow with every turn?

``satellite serve`` (default models, response cache off so every question reaches the LLM)
gets N whole turns, one after another, over Wyoming as Home Assistant makes them: a spoken
question transcribed (``asr``), a question answered (``transcript`` → ``handled``) and a reply
synthesized (``synthesize``). The daemon's resident size (VmRSS from /proc, outside the
process) is sampled after turn 10, 50, 100, 200, … and its peak (VmHWM) at the end.

    .venv/bin/python scripts/bench_soak.py [--turns 500]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))

from bench_load import load_clips, request, rss_mb, start_serve  # noqa: E402

SAMPLES_AT = (10, 50, 100, 200, 300, 400, 500, 750, 1000)


async def main(args: argparse.Namespace) -> int:
    clips = load_clips(None, 8)
    process, port, drain = await start_serve("bench-soak-state-")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"command: scripts/bench_soak.py --turns {args.turns}\n")
    print("| after turn | resident MB | wall s |\n|---|---|---|")
    print(f"| 0 (ready) | {rss_mb(process.pid):.0f} | 0 |")
    started, failed = time.monotonic(), 0
    for turn in range(1, args.turns + 1):
        for kind in ("asr", "conversation", "tts"):
            outcome = await request(port, kind, turn, clips)
            failed += outcome.result != "ok"
        if turn in SAMPLES_AT or turn == args.turns:
            print(f"| {turn} | {rss_mb(process.pid):.0f} | {time.monotonic() - started:.0f} |",
                  flush=True)
    peak = rss_mb(process.pid, "VmHWM")
    process.terminate()
    code = await asyncio.wait_for(process.wait(), 60)
    drain.cancel()
    print(f"\npeak resident {peak:.0f} MB; requests not answered: {failed}; exit code {code}")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=500)
    raise SystemExit(asyncio.run(main(parser.parse_args())))
