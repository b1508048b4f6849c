"""``satellite transcribe FILE.wav``: speech to text, printed."""

from __future__ import annotations

import argparse
import time

from satellite.audio import read_wav
from satellite.cli.common import load
from satellite.config import Config


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("transcribe", help="transcribe WAV files")
    parser.add_argument("files", nargs="+", metavar="FILE.wav")
    parser.add_argument("--timings", action="store_true", help="print the STT time per file")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, config: Config) -> int:
    pcms = [read_wav(path) for path in args.files]  # fail fast, before loading the model
    engines = load(config, only=("stt",))
    for path, pcm in zip(args.files, pcms, strict=True):
        start = time.perf_counter()
        transcript = engines.stt.transcribe(pcm)
        elapsed = (time.perf_counter() - start) * 1000
        prefix = f"{path}\t" if len(args.files) > 1 else ""
        suffix = f"\t({elapsed:.0f} ms for {pcm.seconds:.1f} s)" if args.timings else ""
        print(f"{prefix}{transcript.text}{suffix}", flush=True)
    return 0
