"""How loud the room is now over its own noise floor: what a box tells the home's other boxes.

Fed every chunk the room hears (after the echo canceller: the box's own voice is not the
room's), in stream time. ``over_floor()`` is the loudest of the last ``recent_s`` (its 95th
percentile of chunk levels) over the floor (the 10th percentile of the last ``floor_s``, leaving
out digital silence: no microphone in a room is that quiet), in dB.
"""

from __future__ import annotations

import collections

import numpy as np

from satellite.audio.pcm import Pcm

SILENCE_DBFS = -96.0
DIGITAL_SILENCE_DBFS = -90.0  # quieter chunks are no room (a gated input, a command not started yet)


class RoomLevel:
    def __init__(self, floor_s: float = 20.0, recent_s: float = 1.5):
        self.floor_s = floor_s
        self.recent_s = recent_s
        self._levels: collections.deque[tuple[float, float]] = collections.deque()

    def feed(self, pcm: Pcm, end_s: float) -> None:
        samples = pcm.samples().astype(np.float32)
        rms = float(np.sqrt(np.mean(samples * samples))) if len(samples) else 0.0
        level = 20.0 * np.log10(rms / 32768.0) if rms > 0 else SILENCE_DBFS
        self._levels.append((end_s, max(level, SILENCE_DBFS)))
        while self._levels and self._levels[0][0] < end_s - self.floor_s:
            self._levels.popleft()

    def over_floor(self) -> float:
        if not self._levels:
            return 0.0
        now = self._levels[-1][0]
        room = np.array([db for _, db in self._levels if db > DIGITAL_SILENCE_DBFS])
        floor = float(np.percentile(room, 10)) if len(room) else DIGITAL_SILENCE_DBFS
        recent = np.array([db for t, db in self._levels if t >= now - self.recent_s])
        return float(np.percentile(recent, 95)) - floor
