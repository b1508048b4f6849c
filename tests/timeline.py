"""Questions from the dev set and Piper, laid out on a timeline with known speech regions."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from satellite.audio import Pcm, read_wav, to_stt_format, write_wav
from satellite.engines import Engines
from scripts import room
from tests.conftest import dev_wav


@dataclass(frozen=True)
class Timeline:
    pcm: Pcm
    regions: list[tuple[float, float]]  # (first, last) loud sample of each spoken part, seconds

    def write(self, path: Path) -> Path:
        write_wav(path, self.pcm)
        return path


def dev_clip(name: str) -> Pcm:
    return to_stt_format(read_wav(dev_wav(name)))


def spoken(engines: Engines, text: str) -> Pcm:
    """``text`` in the default voice, as the microphone hears it (16 kHz), the same every time.

    Piper draws its noise afresh on every call: "Count to thirty." was heard "Hound to 30." or
    "Account to 30." about one time in twenty, which made a test fail now and then on a word the
    test did not care about. Without the noise the voice says each text one way only (all the
    tests' sentences are heard right that way)."""
    tts = engines.tts
    varied = tts.config
    tts.config = dataclasses.replace(varied, noise_scale=0.0, noise_w=0.0)  # type: ignore[attr-defined]
    try:
        return room.spoken(tts, text)
    finally:
        tts.config = varied  # type: ignore[attr-defined]


def timeline(*parts: Pcm | float) -> Timeline:
    """Speech clips and silences (a float = seconds of silence), with where the speech is."""
    audio = Pcm(b"", 16000)
    regions = []
    for part in parts:
        if isinstance(part, Pcm):
            samples = part.samples()
            loud = np.nonzero(np.abs(samples) > 300)[0]
            if len(loud):
                regions.append((audio.seconds + loud[0] / 16000, audio.seconds + loud[-1] / 16000))
            audio = audio + part
        else:
            audio = audio + Pcm.silence(part)
    return Timeline(audio, regions)
