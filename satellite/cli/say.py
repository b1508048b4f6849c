"""``satellite say "TEXT" -o out.wav``: text to speech into a WAV file."""

from __future__ import annotations

import argparse

from satellite.audio import Pcm, write_wav
from satellite.cli.common import load
from satellite.config import Config
from satellite.errors import InputError


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("say", help="speak text into a WAV file")
    parser.add_argument("text")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.wav")
    parser.add_argument("--speaker", type=int, help="speaker id for multi-speaker voices")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, config: Config) -> int:
    if not args.text.strip():
        raise InputError("nothing to say: the text is empty")
    engines = load(config, only=("tts",))
    blocks = list(engines.tts.synthesize(args.text, args.speaker))
    if not blocks:
        raise InputError("the voice produced no audio for this text")
    pcm = Pcm(b"".join(b.audio for b in blocks), blocks[0].rate_hz)
    write_wav(args.output, pcm)
    print(f"{args.output}: {pcm.seconds:.2f} s at {pcm.rate_hz} Hz")
    return 0
