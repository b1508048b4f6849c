"""The timer's ring: a two-tone chime made here with numpy, repeated with pauses until stopped.

``ring_pcm(rate_hz)`` is one ring (~1.5 s: two "ding-dong"s, C6 then G5, at
-6 dBFS). ``RingSchedule`` says when the next ring starts: every
``ring_s + pause_s`` from the moment the timer ran out, until ``max_ring_s``
(``timers.max_ring_s``) has passed. The pause between rings is long enough for
a "stop" to be heard and is where the next question gets in: the room plays
one ring at a time and never holds the speaker across a pause.
``ring_until_stopped`` is that loop, with the clock and the sleep injected.
"""

from __future__ import annotations

import asyncio
import functools
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from satellite.audio.pcm import Pcm
from satellite.audio.tones import Note, render

RING_PAUSE_S = 1.5
LATE_OK_S = 0.5  # a ring this late still plays (the loop's sleep overshoots by a little)
RING_PEAK = 0.5  # -6 dBFS: heard across a kitchen, not startling
_HIGH_HZ, _LOW_HZ = 1046.5, 784.0  # C6, G5
_RING_NOTES = (
    Note(0.00, _HIGH_HZ, 0.70, 0.22), Note(0.30, _LOW_HZ, 0.45, 0.20),
    Note(0.75, _HIGH_HZ, 0.70, 0.22), Note(1.05, _LOW_HZ, 0.45, 0.20),
)


@functools.lru_cache(maxsize=8)
def ring_pcm(rate_hz: int) -> Pcm:
    """One ring at ``rate_hz`` (16-bit mono)."""
    return render(_RING_NOTES, rate_hz, RING_PEAK)


@dataclass(frozen=True)
class RingSchedule:
    started_s: float  # when the timer ran out (any clock, the same as ``now_s`` below)
    ring_s: float  # length of one ring
    max_ring_s: float
    pause_s: float = RING_PAUSE_S

    @property
    def period_s(self) -> float:
        return self.ring_s + self.pause_s

    def next_ring_s(self, now_s: float) -> float | None:
        """When the next ring starts: now, if one came due less than ``LATE_OK_S`` ago (a sleep
        always wakes a little late), else the next one; None once ``max_ring_s`` has passed."""
        elapsed = now_s - self.started_s - LATE_OK_S
        count = 0 if elapsed <= 0 else math.ceil(elapsed / self.period_s - 1e-9)
        at = self.started_s + count * self.period_s
        return at if at - self.started_s < self.max_ring_s else None


async def ring_until_stopped(play: Callable[[Pcm], Awaitable[None]], ring: Pcm,
                             still_ringing: Callable[[], bool], schedule: RingSchedule,
                             now: Callable[[], float],
                             sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                             hold: Callable[[], bool] = lambda: False) -> int:
    """Play ``ring`` on the schedule while ``still_ringing()``; return how many rings were played.

    ``still_ringing`` is asked before every ring (e.g. ``lambda: timer.id in {t.id for t in
    service.ringing}``), so "stop" or the service's own ``max_ring_s`` ends it within a pause.
    While ``hold()`` is true (the room is listening to or answering a question) a ring that
    comes due is skipped, not queued: the ring never stands in front of the next question.
    """
    played = 0
    last_at: float | None = None
    while still_ringing():
        at = schedule.next_ring_s(now())
        if at is not None and last_at is not None and at <= last_at:
            # The play returned early (a sink that does not play in real time): each ring once.
            at = schedule.next_ring_s(last_at + schedule.period_s)
        if at is None:  # max_ring_s has passed
            break
        wait_s = at - now()
        if wait_s > 0:
            await sleep(wait_s)
            continue
        if hold():
            await sleep(schedule.period_s)
            continue
        await play(ring)
        last_at = at
        played += 1
    return played
