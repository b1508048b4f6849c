#!/usr/bin/env python3
"""One engine box for the home: N rooms asking at once, with and without batching, in one run.

Two ``satellite serve`` processes run on this machine (one at a time is asked): one as before
(one transcription and one generation at a time) and one batching (``stt.batch`` and
``llm.parallel`` at ``--slots``). Each room is the room's own turn service with every stage
remote on the engine box, as ``satellite run`` with ``stt.uri``, ``llm.uri`` (the box's
Wyoming handle) and ``tts.uri`` makes it: its question's audio to the box's speech to text,
the words to the box's conversation agent (streamed), each sentence of the reply to the box's
voice. N rooms ask at the same moment, each its own question (the built-in sentences spoken
by espeak-ng); first audio is timed outside the turn service, from the moment the question's
audio is handed over (its end of speech) to the first audio of the reply, and compared with
what the room's turn service reports. The box's cache is off: every round runs the model.

    .venv/bin/python scripts/bench_engine_box.py [--rounds 5] [--rooms 1,2,4,8] [--slots 8] [--peers]

``--peers`` adds the same rooms pointed at the servers a home may already run instead:
wyoming-faster-whisper, llama-cpp-python's OpenAI-compatible server and wyoming-piper, each
a local process on the same model files (the room then recognizes intents itself and streams
the model's tokens over HTTP).

The machine may be shared: the figures are only comparable within one run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from satellite.audio import Pcm, read_wav, to_stt_format  # noqa: E402
from satellite.benchdata import EspeakSpeaker, SpeechSet, builtin_sentences  # noqa: E402
from satellite.config import load_config  # noqa: E402
from satellite.engines import load_engines  # noqa: E402
from satellite.pipeline import TurnRequest, TurnResult, create_turn_service  # noqa: E402
from satellite.pipeline.scheduler import Priority  # noqa: E402
from satellite.pipeline.service import TurnService  # noqa: E402
from scripts.bench_remote import rss_mb, start_serve  # noqa: E402
from tests.remote.servers import LLM_ALIAS, llama_server, piper_server, whisper_server  # noqa: E402

# questions the model answers (no local answer, no home command): the rooms' mix
QUESTIONS = ("syn_17a.wav", "syn_21a.wav", "syn_25a.wav", "syn_29a.wav", "syn_39a.wav",
             "syn_17b.wav", "syn_25b.wav", "syn_39b.wav")
TURN_TIMEOUT_S = 300.0


def room(uris: dict[str, str], state_dir: Path) -> TurnService:
    """A room's turn service with every stage remote (``uris``: stt, llm, tts)."""
    extra = {"llm.model_name": LLM_ALIAS} if uris["llm"].startswith("http") else {}
    config = load_config(None, env={}, overrides={
        "state_dir": str(state_dir), "cache.enabled": False, "wake.engine": "none",
        "log.level": "WARNING", "stt.uri": uris["stt"], "tts.uri": uris["tts"],
        "llm.uri": uris["llm"], "stt.timeout_s": TURN_TIMEOUT_S, "tts.timeout_s": TURN_TIMEOUT_S,
        "llm.timeout_s": TURN_TIMEOUT_S, **extra})
    return create_turn_service(config, load_engines(config))


async def ask(service: TurnService, question: Pcm) -> dict[str, Any]:
    """One room's turn: first audio and the whole reply, outside; the room's own figure."""
    request = TurnRequest("", door="mic", conversation=str(uuid.uuid4()), priority=Priority.ROOM)
    started = time.perf_counter()
    first: float | None = None
    result: TurnResult | None = None
    async with asyncio.timeout(TURN_TIMEOUT_S):
        async for event in service.turn(question, request):
            if isinstance(event, Pcm) and first is None:
                first = time.perf_counter()
            elif isinstance(event, TurnResult):
                result = event
    assert result is not None and first is not None, "a turn without audio"
    return {"first_audio_ms": (first - started) * 1000,
            "total_ms": (time.perf_counter() - started) * 1000,
            "own_first_audio_ms": result.timings.first_audio_ms,
            "stt_ms": result.timings.stt_ms, "first_token_ms": result.timings.first_token_ms,
            "source": result.timings.source, "heard": result.transcript, "reply": result.reply}


async def round_of(services: list[TurnService], questions: list[Pcm]) -> tuple[list[dict[str, Any]], float]:
    started = time.perf_counter()
    turns = await asyncio.gather(*(ask(s, q) for s, q in zip(services, questions, strict=True)))
    return list(turns), time.perf_counter() - started


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def median_of(turns: list[dict[str, Any]], key: str) -> float | None:
    values = [t[key] for t in turns if t[key] is not None]
    return round(statistics.median(values)) if values else None


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def bench(uris: dict[str, dict[str, str]], clips: list[Pcm], rooms: list[int], rounds: int,
                where: Path) -> dict[str, Any]:
    services = {mode: [room(uri, where / f"{mode}-room-{i}") for i in range(max(rooms))]
                for mode, uri in uris.items()}
    for group in services.values():
        for service in group:
            await service.start()
    got: dict[str, dict[int, list[dict[str, Any]]]] = {m: {n: [] for n in rooms} for m in uris}
    walls: dict[str, dict[int, list[float]]] = {m: {n: [] for n in rooms} for m in uris}
    try:
        for r in range(rounds + 1):  # round 0 warms up and is not counted
            for n in rooms:
                modes = list(uris) if r % 2 else list(reversed(uris))  # A/B, then B/A (…)
                for mode in modes:
                    turns, wall = await round_of(services[mode][:n], clips[:n])
                    if r:
                        got[mode][n].extend(turns)
                        walls[mode][n].append(wall)
                    firsts = ", ".join(f"{ms(t['stt_ms'])}/{ms(t['first_token_ms'])}/"
                                       f"{ms(t['first_audio_ms'])}" for t in turns)
                    print(f"round {r} {mode:>11} N={n}: stt/first token/first audio {firsts} ms; "
                          f"wall {wall:.1f} s",
                          flush=True)
    finally:
        for group in services.values():
            for service in group:
                await service.stop()
                service.close()
    summary: dict[str, Any] = {}
    for mode in uris:
        for n in rooms:
            turns = got[mode][n]
            firsts = [t["first_audio_ms"] for t in turns]
            own = [t["own_first_audio_ms"] for t in turns if t["own_first_audio_ms"] is not None]
            summary.setdefault(mode, {})[n] = {
                "first_audio_p50_ms": round(statistics.median(firsts)),
                "first_audio_p95_ms": round(pct(firsts, 0.95)),
                "own_first_audio_p50_ms": round(statistics.median(own)) if own else None,
                "total_p50_ms": round(statistics.median(t["total_ms"] for t in turns)),
                "stt_p50_ms": median_of(turns, "stt_ms"),
                "first_token_p50_ms": median_of(turns, "first_token_ms"),
                "turns_per_min": round(60 * n / statistics.median(walls[mode][n]), 1),
                "turns": len(turns), "sources": sorted({t["source"] for t in turns}),
            }
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--rooms", default="1,2,4,8")
    parser.add_argument("--slots", type=int, default=8, help="stt.batch and llm.parallel when batching")
    parser.add_argument("--llm", default="", help="llm.model of the engine box (default: the shipped one)")
    parser.add_argument("--llm-threads", type=int, default=0,
                        help="llm.n_threads of the engine box (0: its default, all cores but one)")
    parser.add_argument("--peers", action="store_true",
                        help="also the rooms on wyoming-faster-whisper, llama-cpp-python's server "
                             "and wyoming-piper")
    args = parser.parse_args()
    rooms = [int(n) for n in args.rooms.split(",")]
    espeak = EspeakSpeaker.find()
    if espeak is None:
        sys.exit("espeak-ng is not on PATH (scripts/setup --test)")
    with tempfile.TemporaryDirectory(prefix="bench-engine-box-") as tmp, ExitStack() as stack:
        where = Path(tmp)
        speech = SpeechSet(espeak, where / "speech", builtin_sentences())
        clips = [to_stt_format(read_wav(speech.path(name))) for name in QUESTIONS]
        base = {"cache.enabled": False, "wake.engine": "none", "log.level": "INFO",
                "scheduler.max_queue": 64, "llm.n_threads": args.llm_threads,
                **({"llm.model": args.llm} if args.llm else {})}
        modes = {"one at once": {}, "batching": {"stt.batch": args.slots,
                                                 "llm.parallel": args.slots}}
        uris: dict[str, dict[str, str]] = {}
        status, rss = {}, {}
        for mode, extra in modes.items():
            print(f"starting satellite serve ({mode}) ...", flush=True)
            values = {**base, **extra, "state_dir": str(where / f"serve-{mode[:3]}")}
            process, port, health = start_serve(values, where / f"serve-{mode[:3]}.log")
            status[mode] = f"{health}/status"
            uri = f"tcp://127.0.0.1:{port}"
            uris[mode] = {"stt": uri, "llm": uri, "tts": uri}
            stack.callback(process.wait, 30)
            stack.callback(process.terminate)
            rss[mode] = {"ready_mb": rss_mb(status[mode])}
        if args.peers:
            print("starting the peers' servers ...", flush=True)
            whisper = stack.enter_context(whisper_server(where / "whisper-data", where / "whisper.log"))
            llama = stack.enter_context(llama_server(where / "llama.log"))
            piper = stack.enter_context(piper_server(where / "piper.log"))
            uris["existing servers"] = {"stt": whisper.uri, "llm": llama.uri, "tts": piper.uri}
        summary = asyncio.run(bench(uris, clips, rooms, args.rounds, where))
        for mode in modes:
            rss[mode]["after_mb"] = rss_mb(status[mode])
    report = {"machine": f"{platform.node()} {platform.machine()}, {os.cpu_count()} cores, "
                         f"Python {platform.python_version()}", "load_average": os.getloadavg(),
              "rounds": args.rounds, "slots": args.slots, "llm": args.llm or "(shipped)",
              "summary": summary, "rss": rss}
    print(json.dumps(report, indent=2))
    print("\n| rooms | first audio p50 / p95, one at once | with batching | turns/min, one at once |"
          " with batching |\n|---|---|---|---|---|")
    one, batched = summary["one at once"], summary["batching"]
    for n in rooms:
        print(f"| {n} | {one[n]['first_audio_p50_ms']} / {one[n]['first_audio_p95_ms']} ms | "
              f"{batched[n]['first_audio_p50_ms']} / {batched[n]['first_audio_p95_ms']} ms | "
              f"{one[n]['turns_per_min']} | {batched[n]['turns_per_min']} |")
    if "existing servers" in summary:
        print("\n| rooms | existing servers: first audio p50 / p95 | turns/min |\n|---|---|---|")
        for n, row in summary["existing servers"].items():
            print(f"| {n} | {row['first_audio_p50_ms']} / {row['first_audio_p95_ms']} ms | "
                  f"{row['turns_per_min']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
