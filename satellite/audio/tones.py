"""Bell-like tones made with numpy at any sample rate: the project's own sounds, so no licence question.

A note is a sum of a few harmonics with a short linear attack and an exponential
decay (a struck bell or a marimba, not a beep); partials above 0.45 × the rate
are left out so nothing aliases at 8 or 16 kHz.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from satellite.audio.pcm import Pcm

ATTACK_S = 0.004
FADE_OUT_S = 0.01
BELL_PARTIALS: tuple[tuple[float, float], ...] = ((1.0, 1.0), (2.0, 0.35), (3.0, 0.12), (4.2, 0.05))


@dataclass(frozen=True)
class Note:
    start_s: float
    freq_hz: float
    length_s: float
    decay_s: float  # time for the level to fall to 1/e
    gain: float = 1.0


def note_samples(note: Note, rate_hz: int,
                 partials: Sequence[tuple[float, float]] = BELL_PARTIALS) -> np.ndarray:
    """One note as float32 samples (peak below 1)."""
    count = max(1, int(round(note.length_s * rate_hz)))
    t = np.arange(count, dtype=np.float64) / rate_hz
    wave = np.zeros(count, dtype=np.float64)
    for ratio, level in partials:
        freq = note.freq_hz * ratio
        if freq < 0.45 * rate_hz:
            wave += level * np.sin(2.0 * np.pi * freq * t)
    envelope = np.exp(-t / note.decay_s)
    attack = min(count, max(1, int(ATTACK_S * rate_hz)))
    envelope[:attack] *= np.linspace(0.0, 1.0, attack, endpoint=False)
    fade = min(count, max(1, int(FADE_OUT_S * rate_hz)))
    envelope[-fade:] *= np.linspace(1.0, 0.0, fade)
    total = sum(level for _, level in partials)
    return (wave * envelope * note.gain / total).astype(np.float32)


def render(notes: Sequence[Note], rate_hz: int, peak: float) -> Pcm:
    """The notes mixed, scaled so the loudest sample is ``peak`` (0..1 of full scale)."""
    if rate_hz <= 0:
        raise ValueError(f"sample rate must be positive, not {rate_hz}")
    end_s = max(n.start_s + n.length_s for n in notes)
    mix = np.zeros(int(round(end_s * rate_hz)), dtype=np.float32)
    for note in notes:
        samples = note_samples(note, rate_hz)
        start = int(round(note.start_s * rate_hz))
        mix[start:start + len(samples)] += samples[: len(mix) - start]
    top = float(np.max(np.abs(mix)))
    if top > 0:
        mix *= peak / top
    return Pcm.from_float32(mix, rate_hz)
