#!/usr/bin/env python3
"""Listening benchmark: end-of-speech delay, idle CPU of the listening loop, last voiced → first reply audio.

    .venv/bin/python scripts/bench_listening.py [--clips N] [--idle-s S] [--json out.json]

Speech: the built-in sentences spoken with espeak-ng (Piper when espeak-ng is missing), or the
WAVs of --dev-dir DIR (DIR/manifest.tsv: file, reference text). Default models. Results are
printed for docs/benchmarks/listening.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from satellite.audio import Pcm, read_wav, to_stt_format, write_wav  # noqa: E402
from satellite.audio.sinks import WavDirSink  # noqa: E402
from satellite.audio.sources import WavFileSource  # noqa: E402
from satellite.benchdata import SpeechClip, builtin_speech_set, manifest_clips  # noqa: E402
from satellite.config import Config, load_config  # noqa: E402
from satellite.daemon.capture import CaptureSupervisor  # noqa: E402
from satellite.room.listener import Listener  # noqa: E402
from satellite.engines import Engines, load_engines  # noqa: E402
from satellite.engines.tts import PiperTts  # noqa: E402
from satellite.engines.vad import create_vad  # noqa: E402
from satellite.engines.wake import create_wake_detector  # noqa: E402
from satellite.pipeline import create_turn_service  # noqa: E402
from satellite.room.segmenter import UtteranceEnded, VadSegmenter  # noqa: E402


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def speech_clips(dev_dir: Path | None, limit: int | None, directory: Path) -> tuple[list[SpeechClip], str]:
    """The clips to play, and which voice made them: --dev-dir's WAVs, else the built-in set spoken."""
    if dev_dir is not None:
        return manifest_clips(dev_dir)[:limit], f"the WAVs of {dev_dir}"
    speech = builtin_speech_set(directory, lambda: PiperTts(load_config(None, env={}, overrides={}).tts))
    return speech.clips(limit), speech.speaker.description


def speech_end_s(pcm: Pcm) -> float:
    loud = np.nonzero(np.abs(pcm.samples()) > 300)[0]
    return float(loud[-1] + 1) / pcm.rate_hz


def end_of_speech_delays(config: Config, engine: str, clips: list[SpeechClip]) -> dict[str, list[float]]:
    """Per clip: decision time minus the true end of speech (last loud sample), and the VAD wait."""
    cfg = load_config(None, env={}, overrides={"vad.engine": engine})
    out: dict[str, list[float]] = {"true_end_to_decision_ms": [], "last_voiced_to_decision_ms": []}
    for clip in clips:
        pcm = to_stt_format(read_wav(clip.path))
        audio = Pcm.silence(0.5) + pcm + Pcm.silence(2.0)
        truth = 0.5 + speech_end_s(pcm)
        vad = create_vad(cfg.vad)
        seg = VadSegmenter(vad.frame_samples, preroll_ms=cfg.vad.preroll_ms,
                           hangover_ms=cfg.vad.hangover_ms, min_speech_ms=cfg.vad.min_speech_ms,
                           max_utterance_s=cfg.vad.max_utterance_s)
        size = vad.frame_bytes
        ends: list[UtteranceEnded] = []
        for i in range(0, len(audio.audio) - size + 1, size):
            frame = audio.audio[i:i + size]
            ends += [e for e in seg.feed(frame, vad.is_speech(frame)) if isinstance(e, UtteranceEnded)]
        if ends:
            last = ends[-1]
            out["true_end_to_decision_ms"].append((last.decided_s - truth) * 1000)
            out["last_voiced_to_decision_ms"].append(last.end_of_speech_ms)
    return out


async def idle_cpu(config: Config, engines: Engines, seconds: float, tmp: Path) -> float:
    """Percent of one core used by the listening loop on a quiet room (no speech), real time."""
    noise = np.random.default_rng(0).normal(0, 0.003, int(16000 * seconds))
    wav = tmp / "room.wav"
    write_wav(wav, Pcm.from_float32(noise, 16000))
    pipeline = create_turn_service(config, engines)
    state = pipeline.state
    listener = Listener(config, pipeline, None, create_vad(config.vad),
                        create_wake_detector(config.wake))
    cpu0, wall0 = time.process_time(), time.monotonic()
    await CaptureSupervisor(WavFileSource(wav, realtime=True), state, listener.on_audio).run()
    return 100.0 * (time.process_time() - cpu0) / (time.monotonic() - wall0)


async def reply_latency(config: Config, engines: Engines, clips: list[SpeechClip], tmp: Path,
                        speculative: bool) -> list[dict[str, object]]:
    """Each clip played in real time to the listener; its turn's timings."""
    pipeline = create_turn_service(config, engines)
    rows = []
    for n, clip in enumerate(clips):
        pcm = to_stt_format(read_wav(clip.path))
        wav = tmp / f"q{n}.wav"
        write_wav(wav, Pcm.silence(0.3) + pcm + Pcm.silence(0.8))
        state = pipeline.state
        state.turns.clear()
        sink = WavDirSink(tmp / f"replies-{speculative}-{n}")
        await sink.open()
        listener = Listener(config, pipeline, sink, create_vad(config.vad), None,
                            speculative_stt=speculative)
        await CaptureSupervisor(WavFileSource(wav, realtime=True), state, listener.on_audio).run()
        listener.end_of_input()
        await listener.wait_idle()
        for turn in state.turns:
            rows.append({"clip": clip.path.name, "source": turn.source, "transcript": turn.transcript,
                         **turn.timings_ms})
    return rows


def summary(rows: list[dict[str, object]], key: str) -> str:
    values = [float(r[key]) for r in rows if isinstance(r.get(key), (int, float))]  # type: ignore[arg-type]
    return f"{pct(values, 50):.0f} / {pct(values, 95):.0f} (n={len(values)})"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=None, help="first N clips (default all)")
    parser.add_argument("--dev-dir", type=Path, help="WAVs and a manifest.tsv (default: the built-in "
                        "sentences spoken with espeak-ng, or Piper without it)")
    parser.add_argument("--idle-s", type=float, default=20.0)
    parser.add_argument("--json", help="write raw results here")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--skip-vad", action="store_true", help="no end-of-speech or idle CPU runs")
    parser.add_argument("--speculative-only", action="store_true")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="config override for the latency runs, e.g. stt.beam_size=1")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="bench-listening-speech-") as speech_dir:
        clips, speech_from = speech_clips(args.dev_dir, args.clips, Path(speech_dir))
        print(f"speech: {len(clips)} clips, {speech_from}")
        await measure(args, clips, speech_from)


async def measure(args: argparse.Namespace, clips: list[SpeechClip], speech_from: str) -> None:
    base = load_config(None, env={}, overrides={})
    results: dict[str, object] = {"machine": f"{platform.machine()} {os.cpu_count()} cores, "
                                             f"{platform.processor() or platform.platform()}"}
    results["speech"] = speech_from
    print(f"machine: {results['machine']}")
    extra = dict(item.split("=", 1) for item in args.set)
    for engine in () if args.skip_vad else ("webrtc", "silero"):
        delays = end_of_speech_delays(base, engine, clips)
        results[f"eos_{engine}"] = delays
        print(f"end of speech [{engine}] true end → decision p50/p95 ms: "
              f"{pct(delays['true_end_to_decision_ms'], 50):.0f} / "
              f"{pct(delays['true_end_to_decision_ms'], 95):.0f}; last voiced frame → decision: "
              f"{pct(delays['last_voiced_to_decision_ms'], 50):.0f} / "
              f"{pct(delays['last_voiced_to_decision_ms'], 95):.0f} "
              f"(n={len(delays['true_end_to_decision_ms'])})")
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        cfg = load_config(None, env={}, overrides={"state_dir": str(tmp / "state"), **extra})
        t0 = time.perf_counter()
        engines = load_engines(cfg)
        print(f"models loaded in {time.perf_counter() - t0:.1f} s")
        for label, overrides in (("webrtc VAD only", {}), ("silero VAD only", {"vad.engine": "silero"}),
                                 ("webrtc + microWakeWord", {"wake.engine": "micro"}),
                                 ("webrtc + openWakeWord", {"wake.engine": "openwakeword"})
                                 ) if not args.skip_vad else ():
            mode_cfg = load_config(None, env={}, overrides={"state_dir": str(tmp / "state"),
                                                            **overrides})
            cpu = await idle_cpu(mode_cfg, engines, args.idle_s, tmp)
            results[f"idle_cpu_{label}"] = cpu
            print(f"idle listening CPU [{label}]: {cpu:.1f} % of one core")
        if not args.skip_latency:
            for speculative in (True,) if args.speculative_only else (True, False):
                rows = await reply_latency(cfg, engines, clips, tmp, speculative)
                results[f"latency_speculative_{speculative}"] = rows
                tag = "speculative STT on" if speculative else "speculative STT off"
                print(f"[{tag}] last voiced → first reply audio p50/p95 ms: "
                      f"{summary(rows, 'first_reply_audio_ms')}; stt: {summary(rows, 'stt_ms')}")
                for source in sorted({str(r['source']) for r in rows}):
                    subset = [r for r in rows if r["source"] == source]
                    print(f"    {source:>6}: {summary(subset, 'first_reply_audio_ms')}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    asyncio.run(main())
