"""The clock timers run on: wall-clock time plus "call me at that time", injectable for tests.

A timer's end is a wall-clock instant (it must survive a restart), but the event
loop sleeps on the monotonic clock. When the wall clock is stepped (NTP after a
boot without a real-time clock, someone setting the time) a single long sleep
would ring early or late, so ``LoopClock`` sleeps at most ``RECHECK_S`` at a time
and looks at the wall clock again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Protocol

RECHECK_S = 30.0


class Cancellable(Protocol):
    def cancel(self) -> None: ...


class TimerClock(Protocol):
    def now(self) -> float:
        """Wall-clock seconds (as ``time.time()``)."""
        ...

    def call_at(self, when_s: float, callback: Callable[[], None]) -> Cancellable:
        """Call ``callback`` on the event loop once ``now() >= when_s``."""
        ...


class _Alarm:
    """Sleeps on the loop in steps of at most ``recheck_s`` until the wall clock reaches ``when_s``."""

    def __init__(self, clock: LoopClock, when_s: float, callback: Callable[[], None]):
        self._clock = clock
        self._when_s = when_s
        self._callback = callback
        self._handle: asyncio.TimerHandle | None = None
        self._arm()

    def _arm(self) -> None:
        delay_s = min(max(0.0, self._when_s - self._clock.now()), self._clock.recheck_s)
        self._handle = self._clock.loop.call_later(delay_s, self._fire)

    def _fire(self) -> None:
        if self._clock.now() >= self._when_s:
            self._handle = None
            self._callback()
        else:
            self._arm()

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


class LoopClock:
    """``time.time()`` and the running event loop's timers. Create it on the loop."""

    def __init__(self, wall: Callable[[], float] = time.time, recheck_s: float = RECHECK_S):
        self._wall = wall
        self.recheck_s = recheck_s
        self.loop = asyncio.get_running_loop()

    def now(self) -> float:
        return self._wall()

    def call_at(self, when_s: float, callback: Callable[[], None]) -> Cancellable:
        """Never calls ``callback`` inside this call, even when ``when_s`` has passed."""
        return _Alarm(self, when_s, callback)
