#!/usr/bin/env python3
"""The same voice turn with local engines and with every stage remote, on this machine.

The peers' real servers run as local processes on 127.0.0.1 (wyoming-faster-whisper,
wyoming-piper, llama-cpp-python's OpenAI-compatible server), on the same default
model files the box loads itself. What is measured:

1. The turn (one spoken question WAV → transcript → LLM streamed → first audio → end),
   through the turn service, local and remote rounds interleaved; the cache is off so
   every round runs the LLM. Per stage p50.
2. The bare hop: a request that does no work (Wyoming ``describe`` → ``info``, one new
   connection each, as the remote engines make; HTTP ``GET /v1/models``). On loopback
   this is the protocol's own cost; a real network adds its round trips (a new TCP
   connection and one request: about two RTTs).
3. ``satellite serve``, all local vs all remote: process start → /readyz 200, resident
   memory when ready and after one answer and one synthesis over its Wyoming door.

    .venv/bin/python scripts/bench_remote.py [--rounds 5] [--clip syn_29a.wav]

The machine may be shared: the figures are only comparable within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from wyoming.asr import Transcript as WyomingTranscript  # noqa: E402
from wyoming.info import Describe  # noqa: E402
from wyoming.tts import Synthesize  # noqa: E402

from satellite.audio import read_wav, to_stt_format  # noqa: E402
from satellite.config import load_config  # noqa: E402
from satellite.config.schema import Config  # noqa: E402
from satellite.config.uris import TcpAddress, tcp_address  # noqa: E402
from satellite.engines import load_engines  # noqa: E402
from satellite.pipeline import TurnRequest, TurnResult, create_turn_service  # noqa: E402
from satellite.remote.wyoming_io import Deadline, WyomingSession  # noqa: E402
from tests.conftest import dev_wav  # noqa: E402
from tests.remote.servers import (  # noqa: E402
    LLM_ALIAS,
    free_port,
    llama_server,
    openai_answers,
    piper_server,
    whisper_server,
)

STAGES = ("stt_ms", "first_token_ms", "first_audio_ms", "total_ms")
HOP_ROUNDS = 50
READY_TIMEOUT_S = 300.0
REQUEST_TIMEOUT_S = 120.0


def overrides(state_dir: Path, uris: dict[str, str] | None) -> dict[str, Any]:
    values: dict[str, Any] = {"state_dir": str(state_dir), "cache.enabled": False,
                              "wake.engine": "none", "log.level": "WARNING"}
    if uris:
        values.update({"stt.uri": uris["stt"], "tts.uri": uris["tts"], "llm.uri": uris["llm"],
                       "llm.model_name": LLM_ALIAS, "stt.timeout_s": 60, "tts.timeout_s": 60,
                       "llm.timeout_s": 60})
    return values


async def turns(configs: dict[str, Config], clip: str, rounds: int) -> dict[str, dict[str, float]]:
    question = to_stt_format(read_wav(dev_wav(clip)))
    services = {mode: create_turn_service(c, load_engines(c)) for mode, c in configs.items()}
    got: dict[str, list[dict[str, float]]] = {mode: [] for mode in services}
    for service in services.values():
        await service.start()
    try:
        for n in range(rounds + 1):  # the first round warms up and is not counted
            for mode, service in services.items():
                result: TurnResult | None = None
                request = TurnRequest("", conversation=str(uuid.uuid4()))
                async for event in service.turn(question, request):
                    if isinstance(event, TurnResult):
                        result = event
                assert result is not None
                if n:
                    got[mode].append(result.timings.as_dict())
                print(f"  round {n} {mode}: {result.transcript!r} -> {result.reply[:60]!r} "
                      f"total {result.timings.total_ms:.0f} ms", flush=True)
    finally:
        for service in services.values():
            await service.stop()
            service.close()
    return {mode: {k: round(statistics.median(r[k] for r in rows), 1) for k in STAGES}
            for mode, rows in got.items()}


def hop_ms(uris: dict[str, str]) -> dict[str, float]:
    """A request that does no work, one new connection each, p50 over ``HOP_ROUNDS``."""
    whisper = tcp_address(uris["stt"], "stt.uri")  # its info event is small (wyoming-piper's lists
    # every voice of its catalogue: ~100 KB of JSON per describe)

    def tcp_connect() -> None:
        socket.create_connection((whisper.host, whisper.port), timeout=10).close()

    def wyoming_describe() -> None:
        with WyomingSession(whisper, "stt", "server", Deadline(10.0)) as session:
            session.write(Describe().event())
            while session.read().type != "info":
                pass

    port = int(uris["llm"].rsplit(":", 1)[1].split("/")[0])
    result = {}
    for name, call in (("tcp_connect", tcp_connect), ("wyoming_describe", wyoming_describe),
                       ("http_get_models", lambda: openai_answers(port))):
        took = []
        for _ in range(HOP_ROUNDS):
            start = time.perf_counter()
            call()
            took.append((time.perf_counter() - start) * 1000)
        result[name] = round(statistics.median(took), 2)
    return result


def rss_mb(status_url: str) -> float:
    with urllib.request.urlopen(status_url, timeout=10) as response:
        return round(json.loads(response.read())["process"]["resident_memory_bytes"] / 2**20, 1)


def start_serve(values: dict[str, Any], log: Path) -> tuple[subprocess.Popen[bytes], int, str]:
    """A ``satellite serve`` process with ``values`` as config, once ``/readyz`` answers: the
    process, its Wyoming port on 127.0.0.1 and its health URL (the caller stops it)."""
    health, wyoming = free_port(), free_port()
    env = {**os.environ, **{f"SATELLITE__{k.upper().replace('.', '__')}": str(v) for k, v in values.items()}}
    env["PYTHONPATH"] = str(REPO)
    argv = [sys.executable, "-m", "satellite", "serve", "--health-port", str(health),
            "--uri", f"tcp://127.0.0.1:{wyoming}", "--no-zeroconf"]
    with log.open("wb") as out:
        process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            process.terminate()
            raise RuntimeError(f"satellite serve did not get ready:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{health}/readyz", timeout=2):
                return process, wyoming, f"http://127.0.0.1:{health}"
        except (urllib.error.URLError, OSError):
            time.sleep(0.05)  # polling the readiness endpoint, bounded by the deadline


def serve(values: dict[str, Any], log: Path) -> dict[str, float]:
    """``satellite serve``: start → ready, RSS at ready and after an answer and a synthesis."""
    start = time.perf_counter()
    process, wyoming, health = start_serve(values, log)
    try:
        ready_s = time.perf_counter() - start
        status = f"{health}/status"
        at_ready = rss_mb(status)
        address = TcpAddress("127.0.0.1", wyoming)
        with WyomingSession(address, "llm", "satellite", Deadline(REQUEST_TIMEOUT_S)) as session:
            session.write(WyomingTranscript(text="What is the population of Tokyo?").event())
            while session.read().type != "handled-stop":
                pass
        with WyomingSession(address, "tts", "satellite", Deadline(REQUEST_TIMEOUT_S)) as session:
            session.write(Synthesize(text="The population of Tokyo is about fourteen million.").event())
            while session.read().type != "audio-stop":
                pass
        return {"start_to_ready_s": round(ready_s, 2), "rss_ready_mb": at_ready,
                "rss_after_answer_mb": rss_mb(status)}
    finally:
        process.terminate()
        process.wait(30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--clip", default="syn_29a.wav", help="a dev-set clip (satellite/benchdata)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-remote-") as tmp, ExitStack() as stack:
        where = Path(tmp)
        print("starting the peers' servers ...", flush=True)
        whisper = stack.enter_context(whisper_server(where / "whisper-data", where / "whisper.log"))
        piper = stack.enter_context(piper_server(where / "piper.log"))
        llama = stack.enter_context(llama_server(where / "llama.log"))
        uris = {"stt": whisper.uri, "tts": piper.uri, "llm": llama.uri}
        local_values, remote_values = overrides(where / "local", None), overrides(where / "remote", uris)
        configs = {"local": load_config(None, env={}, overrides=local_values),
                   "remote": load_config(None, env={}, overrides=remote_values)}
        print("turns ...", flush=True)
        turn = asyncio.run(turns(configs, args.clip, args.rounds))
        print("bare hop ...", flush=True)
        hop = hop_ms(uris)
        print("satellite serve ...", flush=True)
        processes = {"local": serve(local_values, where / "serve-local.log"),
                     "remote": serve(remote_values, where / "serve-remote.log")}
    report = {"machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
                         f"Python {platform.python_version()}",
              "load_average": os.getloadavg(), "rounds": args.rounds, "clip": args.clip,
              "turn_p50_ms": turn, "hop_p50_ms": hop, "serve": processes}
    print(json.dumps(report, indent=2))
    print("\n| stage (p50, ms) | local | remote | remote − local |\n|---|---|---|---|")
    for key in STAGES:
        local, remote = turn["local"][key], turn["remote"][key]
        print(f"| {key} | {local:.0f} | {remote:.0f} | {remote - local:+.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
