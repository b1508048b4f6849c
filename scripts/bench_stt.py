#!/usr/bin/env python3
"""Speech to text: word error rate and transcription time per model, beam, window and prompt.

    .venv/bin/python scripts/bench_stt.py [--models whisper-tiny.en,whisper-base] [--beams 1,5]
        [--windows 10] [--prompts off,on] [--dev-dir ../shared/data/dev] [--json out.json]

Speech: human recordings from Debian packages (``scripts/human_speech.py``, made once into
``~/.cache/sarai-bench/human``) and synthetic speech (the WAVs of ``--dev-dir``, else the
built-in sentences spoken with espeak-ng). Every model is loaded once through the box's own
engine (``WhisperStt``: int8, temperature 0, the encoder window of ``stt.window_s``); the
configurations take turns clip by clip, so a machine shared with other work slows them alike.

WER is the corpus WER (jiwer) after Whisper's English normalizer (``whisper-normalizer``: the
same text rules as openai-whisper's evaluation) on both sides. Time is the wall time of one
``transcribe`` call, as the turn service sees it. Bench-only dependencies: the ``bench`` extra.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import jiwer  # noqa: E402
from whisper_normalizer.english import EnglishTextNormalizer  # noqa: E402

from satellite.audio import read_wav  # noqa: E402
from satellite.benchdata import SpeechClip, builtin_speech_set, manifest_clips  # noqa: E402
from satellite.config import load_config  # noqa: E402
from satellite.engines.stt import WhisperStt  # noqa: E402
from satellite.engines.tts import PiperTts  # noqa: E402
from satellite.models.resolve import resolve_model, store_for  # noqa: E402
from scripts.human_speech import human_set  # noqa: E402

# What a home's Home Assistant would call its areas and devices: the prompt "on" gives these.
HOME_PROMPT = ("Kitchen, living room, bedroom, office, hallway, bathroom, garage. Kitchen lights, "
               "bedroom lamp, hallway lamp, front door, office blinds, thermostat.")
DEFAULT_DEV_DIR = REPO.parent / "shared" / "data" / "dev"


@dataclasses.dataclass
class Run:
    model: str
    beam: int
    window_s: float
    prompt: bool
    heard: dict[str, list[tuple[str, str]]] = dataclasses.field(default_factory=dict)  # set -> (ref, hyp)
    seconds: dict[str, list[float]] = dataclasses.field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.model}, beam {self.beam}, window {self.window_s:g} s, prompt {'on' if self.prompt else 'off'}"


def corpus_wer(pairs: list[tuple[str, str]]) -> float:
    normalize = EnglishTextNormalizer()
    refs = [normalize(r) for r, _ in pairs]
    hyps = [normalize(h) for _, h in pairs]
    kept = [(r, h) for r, h in zip(refs, hyps, strict=True) if r.strip()]
    return float(jiwer.wer([r for r, _ in kept], [h or "<empty>" for _, h in kept]))


def synthetic_clips(dev_dir: Path | None) -> list[SpeechClip]:
    if dev_dir is not None and (dev_dir / "manifest.tsv").is_file():
        return manifest_clips(dev_dir)
    speech = builtin_speech_set(Path(tempfile.mkdtemp(prefix="bench-stt-")),
                                lambda: PiperTts(load_config(None, env={}).tts))
    return speech.clips()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="whisper-tiny.en,whisper-base")
    parser.add_argument("--beams", default="1,5")
    parser.add_argument("--windows", default="10")
    parser.add_argument("--prompts", default="off,on")
    parser.add_argument("--dev-dir", type=Path, default=DEFAULT_DEV_DIR)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--show", action="store_true", help="print every transcript")
    args = parser.parse_args()

    config = load_config(None, env={})
    sets = {"human": human_set(), "synthetic": synthetic_clips(args.dev_dir)}
    audio = {name: [(clip.text, read_wav(clip.path)) for clip in clips] for name, clips in sets.items()}
    engines: dict[tuple[str, float, bool, int], WhisperStt] = {}
    runs = [Run(m, int(b), float(w), p == "on") for m in args.models.split(",")
            for b in args.beams.split(",") for w in args.windows.split(",") for p in args.prompts.split(",")]
    for run in runs:
        path = resolve_model("stt", run.model, store_for(config), "en")
        stt = dataclasses.replace(config.stt, model=str(path), beam_size=run.beam, window_s=run.window_s,
                                  initial_prompt=HOME_PROMPT if run.prompt else "", language="en")
        engines[id(run)] = WhisperStt(stt)  # type: ignore[index]
    for engine in engines.values():  # warm: the first call of each model pays for its allocations
        engine.transcribe(audio["synthetic"][0][1])
    for set_name, clips in audio.items():
        for i, (text, pcm) in enumerate(clips):
            for run in runs:
                engine = engines[id(run)]  # type: ignore[index]
                start = time.perf_counter()
                heard = engine.transcribe(pcm).text
                run.seconds.setdefault(set_name, []).append(time.perf_counter() - start)
                run.heard.setdefault(set_name, []).append((text, heard))
                if args.show:
                    print(f"{set_name} {i:2d} {run.label}: {heard!r}  [{text}]", file=sys.stderr)
    report(args, runs, audio)
    if args.json:
        args.json.write_text(json.dumps([dataclasses.asdict(r) for r in runs], indent=1))


def report(args: argparse.Namespace, runs: list[Run], audio: dict) -> None:
    words = {name: sum(len(EnglishTextNormalizer()(t).split()) for t, _ in clips) for name, clips in audio.items()}
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"command: scripts/bench_stt.py --models {args.models} --beams {args.beams} --windows "
          f"{args.windows} --prompts {args.prompts}")
    print(f"human: {len(audio['human'])} clips, {words['human']} words; synthetic: "
          f"{len(audio['synthetic'])} clips, {words['synthetic']} words\n")
    print("| model, beam, window, prompt | WER human | WER synthetic | WER all | STT p50 human | "
          "STT p50 synthetic |")
    print("|---|---|---|---|---|---|")
    for run in runs:
        everything = run.heard["human"] + run.heard["synthetic"]
        print(f"| {run.label} | {corpus_wer(run.heard['human']) * 100:.1f} % | "
              f"{corpus_wer(run.heard['synthetic']) * 100:.1f} % | {corpus_wer(everything) * 100:.1f} % | "
              f"{statistics.median(run.seconds['human']) * 1000:.0f} ms | "
              f"{statistics.median(run.seconds['synthetic']) * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
