#!/usr/bin/env python3
"""The real Home Assistant the tests start: install time, start to ready, conversation latency.

    .venv/bin/python scripts/bench_homeassistant.py [--install] [--starts 3] [--rounds 20]

- ``--install``: installs HA's venv twice into a temp dir (not the shared cache): first with an
  empty pip cache (cold: every wheel downloaded), then with that cache warm. Minutes, and about
  750 MB of disk while it runs.
- Start to ready: ``HomeAssistant.start()`` from spawning ``hass`` until the demo's entities
  answer, on a fresh config dir (HA creates its storage; the harness onboards and makes a
  long-lived token) and on a restart of the same dir; and ``stop()`` (SIGTERM to exit).
- Conversation latency: the same sentences over three transports a client could use, taken in
  turn within each round so drift hits them alike: REST with a new connection per request
  (urllib), REST on one keep-alive aiohttp session, and the WebSocket API (``conversation/process``)
  on one connection. Timed from the client's side, request written to answer read.

Prints a Markdown report. HA runs on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.homeassistant.harness import HA_VERSION, HomeAssistant, ensure_venv, speech_of  # noqa: E402

SENTENCES = [
    "turn on the kitchen lights",
    "turn off the kitchen lights",
    "is the front door locked",
    "what is the outside temperature",
    "why is the sky blue",  # no intent matches: what the client sees before its own fallback
]
TIMEOUT_S = 10.0


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def disk_mb(path: Path) -> float:
    result = subprocess.run(["du", "-sm", str(path)], capture_output=True, text=True, check=True)
    return float(result.stdout.split()[0])


def bench_install(work: Path) -> list[str]:
    pip_cache = work / "pip-cache"
    os.environ["PIP_CACHE_DIR"] = str(pip_cache)  # ensure_venv's pip inherits it
    rows: list[str] = []
    for name in ("cold (empty pip cache)", "warm pip cache"):
        venv = work / f"venv-{len(rows)}"
        started_s = time.monotonic()
        ensure_venv(venv, on_install=lambda message: print(f"bench: {message}", file=sys.stderr))
        rows.append(f"| {name} | {time.monotonic() - started_s:.0f} s | {disk_mb(venv):.0f} MB |")
        shutil.rmtree(venv)
    del os.environ["PIP_CACHE_DIR"]
    return ["| install | time | venv size |", "|---|---|---|", *rows]


def bench_starts(venv: Path, work: Path, starts: int) -> list[str]:
    times: dict[str, list[float]] = defaultdict(list)
    for index in range(starts):
        ha = HomeAssistant(venv, work / f"start-{index}")
        for kind in ("fresh config dir (+ onboarding, token)", "restart, same dir"):
            started_s = time.monotonic()
            ha.start()
            times[kind].append(time.monotonic() - started_s)
            started_s = time.monotonic()
            code = ha.stop()
            times[f"stop (SIGTERM → exit {code})"].append(time.monotonic() - started_s)
    lines = ["| step | runs | median | max |", "|---|---|---|---|"]
    for kind, values in times.items():
        lines.append(f"| {kind} | {len(values)} | {statistics.median(values):.2f} s | {max(values):.2f} s |")
    return lines


async def converse_rest(session: aiohttp.ClientSession, ha: HomeAssistant, text: str) -> str:
    async with session.post(f"{ha.url}/api/conversation/process", json={"text": text, "language": "en"},
                            headers={"Authorization": f"Bearer {ha.token}"}) as answer:
        answer.raise_for_status()
        return speech_of(await answer.json())


class WebSocketApi:
    """One authenticated connection to HA's WebSocket API; one request at a time."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.next_id = 1

    @classmethod
    async def connect(cls, session: aiohttp.ClientSession, ha: HomeAssistant) -> WebSocketApi:
        ws = await session.ws_connect(f"{ha.url}/api/websocket")
        await ws.receive_json(timeout=TIMEOUT_S)  # auth_required
        await ws.send_json({"type": "auth", "access_token": ha.token})
        auth = await ws.receive_json(timeout=TIMEOUT_S)
        if auth.get("type") != "auth_ok":
            raise SystemExit(f"bench: WebSocket auth failed: {auth}")
        return cls(ws)

    async def converse(self, text: str) -> str:
        self.next_id += 1
        await self.ws.send_json({"id": self.next_id, "type": "conversation/process", "text": text,
                                 "language": "en"})
        while True:
            message: dict[str, Any] = await self.ws.receive_json(timeout=TIMEOUT_S)
            if message.get("id") == self.next_id:
                break
        if not message.get("success"):
            raise SystemExit(f"bench: conversation/process failed: {message}")
        return speech_of(message["result"])


async def bench_conversation(ha: HomeAssistant, rounds: int) -> list[str]:
    latencies_ms: dict[tuple[str, str], list[float]] = defaultdict(list)
    speech: dict[str, str] = {}
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT_S)) as session:
        websocket = await WebSocketApi.connect(session, ha)
        transports = {
            "REST, new connection": lambda text: loop.run_in_executor(
                None, lambda: speech_of(ha.converse(text))),
            "REST, keep-alive": lambda text: converse_rest(session, ha, text),
            "WebSocket": websocket.converse,
        }
        for _ in range(rounds + 1):  # the first round warms up and is not counted
            for text in SENTENCES:
                for name, converse in transports.items():
                    started_s = time.perf_counter()
                    speech[text] = await asyncio.wait_for(converse(text), TIMEOUT_S)
                    latencies_ms[(name, text)].append((time.perf_counter() - started_s) * 1000)
        await websocket.ws.close()
    names = list(transports)
    lines = ["| sentence (HA's answer) | " + " | ".join(f"{name} p50 / p95" for name in names) + " |",
             "|---|" + "---|" * len(names)]
    for text in SENTENCES:
        cells = [latencies_ms[(name, text)][1:] for name in names]
        lines.append(f"| {text} ({speech[text]}) | "
                     + " | ".join(f"{percentile(c, 0.5):.1f} / {percentile(c, 0.95):.1f} ms" for c in cells)
                     + " |")
    overall = [[value for text in SENTENCES for value in latencies_ms[(name, text)][1:]] for name in names]
    lines.append("| **all sentences** | "
                 + " | ".join(f"**{percentile(c, 0.5):.1f}** / {percentile(c, 0.95):.1f} ms" for c in overall)
                 + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--install", action="store_true", help="also time a cold and a warm install")
    parser.add_argument("--starts", type=int, default=3, help="fresh starts (each also restarted)")
    parser.add_argument("--rounds", type=int, default=20, help="rounds over the sentences")
    args = parser.parse_args()

    report = [f"# Home Assistant {HA_VERSION} for the tests",
              "", f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
              f"{time.strftime('%Y-%m-%d')}", ""]
    with tempfile.TemporaryDirectory(prefix="bench-ha-") as work_dir:
        work = Path(work_dir)
        if args.install:
            report += ["## Install", "", *bench_install(work), ""]
        venv = ensure_venv(on_install=lambda message: print(f"bench: {message}", file=sys.stderr))
        report += ["## Start to ready, stop", "", *bench_starts(venv, work, args.starts), ""]
        with HomeAssistant(venv, work / "conversation") as ha:
            lines = asyncio.run(bench_conversation(ha, args.rounds))
        report += [f"## Conversation API latency ({args.rounds} rounds, client side)", "", *lines]
    print("\n".join(report))


if __name__ == "__main__":
    main()
