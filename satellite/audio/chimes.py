"""The awake and done chimes, made here like the ring (numpy tones, no third-party audio).

``awake_pcm``: a short rising two-note chime (G5 → D6) when the wake word is
heard; ``done_pcm``: the same falling (D6 → G5) when the utterance ends. Each is
about a quarter of a second at -12 dBFS, quieter than speech, so it confirms
without startling and is over before the person starts talking.
"""

from __future__ import annotations

import functools

from satellite.audio.pcm import Pcm
from satellite.audio.tones import Note, render

CHIME_PEAK = 0.25  # -12 dBFS
_LOW_HZ, _HIGH_HZ = 784.0, 1174.7  # G5, D6


@functools.lru_cache(maxsize=8)
def awake_pcm(rate_hz: int) -> Pcm:
    return render((Note(0.0, _LOW_HZ, 0.16, 0.06), Note(0.08, _HIGH_HZ, 0.18, 0.07)), rate_hz,
                  CHIME_PEAK)


@functools.lru_cache(maxsize=8)
def done_pcm(rate_hz: int) -> Pcm:
    return render((Note(0.0, _HIGH_HZ, 0.16, 0.06), Note(0.08, _LOW_HZ, 0.18, 0.07)), rate_hz,
                  CHIME_PEAK)
