"""Silence at the edges of synthesized speech: where the speech begins and ends, and trimming to a kept margin.

A voice such as Piper adds a few tens of milliseconds of silence before the
first sound of every piece it speaks and a decaying tail of 100–250 ms after
the last; where a reply is spoken in pieces these edges add up to pauses a
whole sentence would not have (see docs/benchmarks.md, #18 part 7).
"""

from __future__ import annotations

import numpy as np

FRAME_MS = 5
FLOOR_DB = -50.0  # a frame this far below the loudest one is silence (soft onsets such as /h/ stay above)


def speech_bounds(samples: np.ndarray, rate_hz: int, floor_db: float = FLOOR_DB) -> tuple[int, int] | None:
    """``(start, end)`` sample indexes of the sound in ``samples``, framed in ``FRAME_MS`` frames;
    None when all of it is silence."""
    frame = max(1, rate_hz * FRAME_MS // 1000)
    count = len(samples) // frame
    if count == 0:
        return None
    frames = samples[:count * frame].astype(np.float64).reshape(count, frame)
    power = (frames ** 2).mean(axis=1)
    loudest = power.max()
    if loudest <= 0.0:
        return None
    loud = np.flatnonzero(power > loudest * 10.0 ** (floor_db / 10.0))
    return int(loud[0]) * frame, min(len(samples), (int(loud[-1]) + 1) * frame)


def trim_silence(samples: np.ndarray, rate_hz: int, *, keep_start_ms: float | None,
                 keep_end_ms: float | None, floor_db: float = FLOOR_DB) -> np.ndarray:
    """``samples`` with the silence before the sound cut to ``keep_start_ms`` and the silence
    after it set to ``keep_end_ms`` (padded with zeros where the voice left less); None keeps
    that edge as it is. All silence stays as it is."""
    bounds = speech_bounds(samples, rate_hz, floor_db)
    if bounds is None:
        return samples
    start, end = bounds
    if keep_start_ms is not None:
        start = max(0, start - round(keep_start_ms * rate_hz / 1000))
    else:
        start = 0
    if keep_end_ms is None:
        return samples[start:]
    tail = round(keep_end_ms * rate_hz / 1000)
    kept = samples[start:min(len(samples), end + tail)]
    missing = end + tail - len(samples)
    return np.concatenate([kept, np.zeros(missing, dtype=samples.dtype)]) if missing > 0 else kept
