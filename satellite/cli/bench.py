"""``satellite bench``: the voice turn on speech clips, per-stage p50/p95, memory, start-up time.

Turns run in-process on the loaded engines, from the end of each utterance, once
with the response cache off (every turn reaches the LLM) and once more for cache
hits. The daemon's own benchmark adds the VAD wait measured on live audio.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import platform
import resource
import statistics
import tempfile
from pathlib import Path
from typing import Any

from satellite.audio import read_wav
from satellite.benchdata import SpeechClip, builtin_speech_set, manifest_clips
from satellite.cli import bench_answers
from satellite.cli.common import load
from satellite.config import Config
from satellite.pipeline import TurnRequest, TurnResult, create_turn_service
from satellite.runtime import resident_memory_bytes


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("bench", help="benchmark whole turns on speech WAVs (built-in set by default)")
    parser.add_argument("--dev-dir", type=Path,
                        help="directory with WAVs and a manifest.tsv (file, reference text); default: "
                             "the built-in sentences, spoken with espeak-ng if on PATH, else Piper")
    parser.add_argument("--clips", type=int, default=0, help="use only the first N clips")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    bench_answers.add_arguments(parser)
    parser.set_defaults(func=run)


def process_age_s() -> float:
    """Seconds since this process started (from /proc), so import time counts too."""
    with open("/proc/self/stat", encoding="ascii") as handle:
        start_ticks = int(handle.read().rsplit(")", 1)[1].split()[19])
    with open("/proc/uptime", encoding="ascii") as handle:
        uptime_s = float(handle.read().split()[0])
    return uptime_s - start_ticks / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(q) - 1]


def run(args: argparse.Namespace, config: Config) -> int:
    if args.answers:
        return bench_answers.run_answers(args, config)
    limit = args.clips or None
    clips = manifest_clips(args.dev_dir)[:limit] if args.dev_dir else None
    speech_from = f"the WAVs of {args.dev_dir}" if args.dev_dir else ""
    return asyncio.run(_bench(config, clips, speech_from, limit, args.json))


async def _bench(config: Config, clips: list[SpeechClip] | None, speech_from: str, limit: int | None,
                 json_path: Path | None) -> int:
    """Turns on ``clips``; when None, on the built-in sentences spoken now (after the models load)."""
    engines = load(config)
    ready_s = process_age_s()
    with tempfile.TemporaryDirectory(prefix="satellite-bench-speech-") as speech_dir:
        if clips is None:
            speech = builtin_speech_set(Path(speech_dir), lambda: engines.tts)
            clips, speech_from = speech.clips(limit), speech.speaker.description
        audio = [(clip.path.name, read_wav(clip.path)) for clip in clips]
    with tempfile.TemporaryDirectory() as state:
        cold_config = dataclasses.replace(config, state_dir=state,
                                          cache=dataclasses.replace(config.cache, enabled=False))
        cold = create_turn_service(cold_config, engines)
        warm = create_turn_service(dataclasses.replace(config, state_dir=state), engines)
        await _turns(cold, audio[:1])  # warm-up: first inference allocates
        cold_results = await _turns(cold, audio)
        await _turns(warm, audio)  # fills the cache
        hit_results = await _turns(warm, audio)
    rows = _stage_rows(cold_results, hit_results, config)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    steady_mb = resident_memory_bytes() / 1e6
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"models: stt={engines.stt.name} llm={engines.llm.name} tts={engines.tts.voice.name}")
    print(f"speech: {speech_from}")
    print(f"clips: {len(audio)} (cache off), then the same {len(audio)} as cache hits\n")
    print(f"{'stage':<44} {'p50':>8} {'p95':>8}")
    for name, p50, p95 in rows:
        if p50 is None:
            print(f"{name:<44} {'-':>8} {'-':>8}")
        else:
            print(f"{name:<44} {p50:>6.0f}ms {p95:>6.0f}ms")
    sources: dict[str, int] = {}
    for result in cold_results:
        sources[result.timings.source] = sources.get(result.timings.source, 0) + 1
    print(f"\nreply sources (cache off): {sources}")
    print(f"peak RSS, all models loaded: {rss_mb:.0f} MB (transient, during turns)")
    print(f"RSS after the {2 * len(audio)} turns: {steady_mb:.0f} MB")
    print(f"process start -> models ready: {ready_s:.2f} s")
    if json_path:
        json_path.write_text(json.dumps({
            "stages_ms": {n: {"p50": a, "p95": b} for n, a, b in rows},
            "peak_rss_mb": rss_mb, "steady_rss_mb": steady_mb, "ready_s": ready_s, "sources": sources,
            "speech": speech_from,
            "turns": [{"transcript": r.transcript, "reply": r.reply, **r.timings.as_dict()}
                      for r in cold_results],
        }, indent=2))
    return 0


async def _turns(pipeline: Any, audio: list) -> list[TurnResult]:
    results = []
    for _, pcm in audio:
        async for event in pipeline.turn(pcm, TurnRequest("", door="cli")):
            if isinstance(event, TurnResult):
                results.append(event)
    return results


def _stage_rows(cold: list[TurnResult], hits: list[TurnResult], config: Config
                ) -> list[tuple[str, float | None, float | None]]:
    def stat(name: str, values: list[float | None]) -> tuple[str, float | None, float | None]:
        clean = [v for v in values if v is not None]
        return (name, percentile(clean, 50), percentile(clean, 95)) if clean else (name, None, None)

    llm = [r.timings for r in cold if r.timings.source == "llm"]
    fast = [r.timings for r in cold if r.timings.source in ("local", "intent", "homeassistant")]
    hangover = float(config.vad.hangover_ms)
    return [
        stat("STT", [t.stt_ms for t in (r.timings for r in cold)]),
        stat("LLM first token (after STT)", [_d(t.first_token_ms, t.stt_ms) for t in llm]),
        stat("LLM first sentence (after STT)", [_d(t.first_sentence_ms, t.stt_ms) for t in llm]),
        stat("TTS first audio (after first sentence)",
             [_d(t.first_audio_ms, t.first_sentence_ms) for t in llm]),
        stat("intent/local fast path (after STT)", [_d(t.first_sentence_ms, t.stt_ms) for t in fast]),
        stat("end of utterance -> first audio (LLM)", [t.first_audio_ms for t in llm]),
        stat("end of utterance -> first audio (all)", [r.timings.first_audio_ms for r in cold]),
        stat("end of utterance -> first audio (cache hit)",
             [r.timings.first_audio_ms for r in hits if r.timings.source == "cache"]),
        stat(f"+ VAD hangover {hangover:.0f} ms -> first audio (all)",
             [(r.timings.first_audio_ms or 0) + hangover for r in cold]),
    ]


def _d(later: float | None, earlier: float | None) -> float | None:
    return None if later is None or earlier is None else later - earlier
