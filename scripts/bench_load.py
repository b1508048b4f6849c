#!/usr/bin/env python3
"""Load: many Wyoming clients at once against ``satellite serve``, for a minute.

Each client loops over a mix of requests, as Home Assistant and scripts make them:
``asr`` (a spoken question, transcribed), ``tts`` (a sentence, synthesized and read
to the end), ``conversation`` (a question to the conversation agent, the response
cache off so every one reaches the LLM), and ``describe``. Every request is timed
from the client's side. A request fails when it gets anything but its answer or an
``error`` event with code ``busy``; busy answers are counted apart.

    .venv/bin/python scripts/bench_load.py [--clients 8] [--seconds 60] [--dev-dir DIR]

Prints a Markdown report: per kind the completed requests per second, busy
answers, failures and latency p50/p95/max; describe's worst latency; and the
daemon's resident memory before, at its peak and after (from /proc).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from wyoming.asr import Transcribe
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.event import Event
from wyoming.info import Describe
from wyoming.tts import Synthesize

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from satellite.audio import Pcm, read_wav  # noqa: E402
from satellite.benchdata import builtin_speech_set, manifest_clips  # noqa: E402
from satellite.config import load_config  # noqa: E402
from satellite.engines.tts import PiperTts  # noqa: E402

KINDS = ("asr", "tts", "conversation", "describe")
REQUEST_TIMEOUT_S = 120.0
SENTENCES = [
    "The kitchen lights are on.", "Your timer has ten minutes left.",
    "It is going to rain this afternoon, so take an umbrella.",
    "Good morning. The coffee machine is warming up.",
]
QUESTIONS = [
    "Why is the sky blue?", "What is a good name for a dog?", "How far away is the moon?",
    "Who painted the Mona Lisa?", "What should I cook for dinner?", "Why do cats purr?",
]
WYOMING_AT = re.compile(r"Wyoming server listening on tcp://127\.0\.0\.1:(\d+)")


@dataclass
class Outcome:
    kind: str
    result: str  # ok | busy | failed
    seconds: float
    detail: str = ""


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


async def request(port: int, kind: str, n: int, clips: list[Pcm]) -> Outcome:
    started = time.monotonic()
    client = AsyncTcpClient("127.0.0.1", port)
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT_S):
            await client.connect()
            try:
                last = await _ask(client, kind, n, clips)
            finally:
                await client.disconnect()
    except TimeoutError:
        return Outcome(kind, "failed", time.monotonic() - started, "timeout")
    except (ConnectionError, OSError) as error:
        return Outcome(kind, "failed", time.monotonic() - started, type(error).__name__)
    took = time.monotonic() - started
    if last is None:
        return Outcome(kind, "failed", took, "connection closed")
    if last.type == "error":
        code = last.data.get("code", "")
        return Outcome(kind, "busy" if code == "busy" else "failed", took,
                       f"{code}: {last.data.get('text', '')}")
    return Outcome(kind, "ok", took)


async def _ask(client: AsyncTcpClient, kind: str, n: int, clips: list[Pcm]) -> Event | None:
    if kind == "describe":
        await client.write_event(Describe().event())
        return await _until(client, ("info",))
    if kind == "tts":
        await client.write_event(Synthesize(text=SENTENCES[n % len(SENTENCES)]).event())
        return await _until(client, ("audio-stop",))
    if kind == "conversation":
        await client.write_event(Event("transcript", {"text": QUESTIONS[n % len(QUESTIONS)]}))
        return await _until(client, ("handled", "not-handled"))
    pcm = clips[n % len(clips)]
    await client.write_event(Transcribe(language="en").event())
    await client.write_event(AudioStart(rate=pcm.rate_hz, width=2, channels=1).event())
    step = pcm.rate_hz * 2 // 10  # 100 ms chunks, sent as fast as the socket takes them
    for i in range(0, len(pcm.audio), step):
        await client.write_event(AudioChunk(rate=pcm.rate_hz, width=2, channels=1,
                                            audio=pcm.audio[i:i + step]).event())
    await client.write_event(AudioStop().event())
    return await _until(client, ("transcript",))


async def _until(client: AsyncTcpClient, last: tuple[str, ...]) -> Event | None:
    while (event := await client.read_event()) is not None:
        if event.type in last or event.type == "error":
            return event
    return None


async def client_loop(port: int, number: int, deadline: float, clips: list[Pcm],
                      outcomes: list[Outcome]) -> None:
    for n in itertools.count(number):
        if time.monotonic() >= deadline:
            return
        outcomes.append(await request(port, KINDS[n % len(KINDS)], n, clips))


def load_clips(dev_dir: Path | None, limit: int) -> list[Pcm]:
    if dev_dir is not None:
        return [read_wav(clip.path) for clip in manifest_clips(dev_dir)[:limit]]
    config = load_config(None, env={})
    speech = builtin_speech_set(Path(tempfile.mkdtemp(prefix="bench-load-")),
                                lambda: PiperTts(config.tts))
    return [read_wav(clip.path) for clip in speech.clips(limit)]


async def start_serve(prefix: str) -> tuple[asyncio.subprocess.Process, int, asyncio.Task[None]]:
    """``satellite serve`` (response cache off) on a free port, ready; its stderr drained."""
    state = tempfile.mkdtemp(prefix=prefix)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "satellite", "--state-dir", state, "--set", "cache.enabled=false",
        "serve", "--uri", "tcp://127.0.0.1:0", "--no-zeroconf", "--no-health", cwd=REPO,
        env={**os.environ, "SATELLITE_CONFIG": ""}, stderr=asyncio.subprocess.PIPE)
    assert process.stderr is not None
    port = None
    async with asyncio.timeout(180):
        while port is None:
            line = (await process.stderr.readline()).decode()
            if not line:
                raise SystemExit("satellite serve exited before listening")
            if match := WYOMING_AT.search(line):
                port = int(match.group(1))
        while b"satellite ready" not in await process.stderr.readline():
            pass
    return process, port, asyncio.create_task(_drain(process.stderr))


async def main(args: argparse.Namespace) -> int:
    clips = load_clips(args.dev_dir, 8)
    process, port, drain = await start_serve("bench-load-state-")
    rss_before = rss_mb(process.pid)
    outcomes: list[Outcome] = []
    deadline = time.monotonic() + args.seconds
    started = time.monotonic()
    await asyncio.gather(*(client_loop(port, n, deadline, clips, outcomes)
                           for n in range(args.clients)))
    wall_s = time.monotonic() - started
    rss_peak, rss_after = rss_mb(process.pid, "VmHWM"), rss_mb(process.pid)
    process.terminate()
    code = await asyncio.wait_for(process.wait(), 60)
    drain.cancel()
    report(args, outcomes, wall_s, rss_before, rss_peak, rss_after, code)
    return 0 if all(o.result != "failed" for o in outcomes) else 1


async def _drain(stream: asyncio.StreamReader) -> None:
    while await stream.readline():
        pass


def report(args: argparse.Namespace, outcomes: list[Outcome], wall_s: float, rss_before: float,
           rss_peak: float, rss_after: float, exit_code: int) -> None:
    by_kind: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_kind[outcome.kind].append(outcome)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"command: scripts/bench_load.py --clients {args.clients} --seconds {args.seconds}")
    print(f"{args.clients} clients for {wall_s:.0f} s (the last requests finish after the minute)\n")
    print("| kind | completed | per second | busy | failed | p50 | p95 | max |")
    print("|---|---|---|---|---|---|---|---|")
    for kind in KINDS:
        rows = by_kind.get(kind, [])
        ok = sorted(o.seconds for o in rows if o.result == "ok")
        busy = sum(o.result == "busy" for o in rows)
        failed = [o for o in rows if o.result == "failed"]
        p50 = statistics.median(ok) if ok else 0.0
        p95 = ok[min(len(ok) - 1, int(0.95 * len(ok)))] if ok else 0.0
        print(f"| {kind} | {len(ok)} | {len(ok) / wall_s:.2f} | {busy} | {len(failed)} | "
              f"{p50 * 1000:.0f} ms | {p95 * 1000:.0f} ms | {(ok[-1] if ok else 0) * 1000:.0f} ms |")
    failures = [o for o in outcomes if o.result == "failed"]
    for outcome in failures[:10]:
        print(f"failed: {outcome.kind} after {outcome.seconds:.1f} s: {outcome.detail}")
    busy_texts = {o.detail for o in outcomes if o.result == "busy"}
    for text in sorted(busy_texts)[:5]:
        print(f"busy: {text}")
    print(f"\nresident memory: {rss_before:.0f} MB ready, {rss_peak:.0f} MB peak, "
          f"{rss_after:.0f} MB after; exit code on SIGTERM {exit_code}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--dev-dir", type=Path, help="WAVs + manifest.tsv; default: the built-in set")
    sys.exit(asyncio.run(main(parser.parse_args())))
