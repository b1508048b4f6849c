"""The room's side of the timers: a timer that runs out is announced, then rings until "stop".

The ring repeats on its schedule until "stop" (or any command that ends the
timer) or ``timers.max_ring_s``; a ring that comes due while the room is busy
with a question (someone speaking, or a turn running) is skipped, never queued
in front of it. Timers that ran out
while the box was down are announced once, when it is back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from satellite.audio.pcm import Pcm
from satellite.errors import SatelliteError
from satellite.pipeline.scheduler import Priority
from satellite.pipeline.service import TurnService
from satellite.room.playback import Playback
from satellite.timers import RingSchedule, Timer, TimerService, ring_pcm, ring_until_stopped

_LOGGER = logging.getLogger(__name__)
CLOSE_WAIT_S = 3.0


class TimerBell:
    def __init__(self, timers: TimerService, turns: TurnService, playback: Playback,
                 busy: Callable[[], bool], clock: Callable[[], float]):
        self.timers = timers
        self.turns = turns
        self.playback = playback
        self.busy = busy  # a question is being listened to or answered
        self.clock = clock
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def ringing(self) -> bool:
        return bool(self.timers.ringing)

    def attach(self) -> None:
        self.timers.on_ring = self.ring

    def ring(self, timer: Timer) -> None:
        """Called on the loop when ``timer`` runs out."""
        self._spawn(self._ring(timer), f"ring {timer.id}")

    def announce_missed(self) -> None:
        missed, self.turns.missed_timers = self.turns.missed_timers, []
        if missed:
            self._spawn(self._say(self.timers.answers.missed(missed, self.timers.now())), "missed timers")

    async def _ring(self, timer: Timer) -> None:
        await self._say(self.timers.answers.rang(timer))
        ring = ring_pcm(self.playback.rate_hz)
        schedule = RingSchedule(self.clock(), ring.seconds, self.timers.config.max_ring_s)
        played = await ring_until_stopped(
            self.playback.tone, ring, lambda: timer.id in {t.id for t in self.timers.ringing},
            schedule, self.clock, hold=self.busy)
        _LOGGER.info("timer %s rang %d time(s)", timer.name or timer.id, played)

    async def _say(self, text: str) -> None:
        if self.playback.sink is None:
            _LOGGER.info("timers (no speaker): %s", text)
            return
        try:
            blocks = [pcm async for pcm in self.turns.speak(text, lead=True, priority=Priority.ROOM)]
        except SatelliteError as error:
            _LOGGER.warning("could not say %r: %s", text, error)
            return
        if blocks:
            await self.playback.speech(Pcm(b"".join(b.audio for b in blocks), blocks[0].rate_hz),
                                       self.clock)

    def _spawn(self, coroutine: object, name: str) -> None:
        task = asyncio.get_running_loop().create_task(coroutine, name=name)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _LOGGER.error("timer bell failed", exc_info=task.exception())

    async def close(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=CLOSE_WAIT_S)
