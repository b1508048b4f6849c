"""Announcements from the home's other rooms, said in this one: a chime, then the words.

One at a time, in the order they came, each after whatever the speaker is playing (a reply
is not cut by another room's announcement). It is the box's voice: the capture is gated as
for a reply, and a stop word (or the wake word) over it stops it like a reply. While the
microphone is muted it is still said: the mute is the microphone's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from satellite.audio.chimes import awake_pcm
from satellite.audio.pcm import Pcm
from satellite.errors import SatelliteError
from satellite.pipeline.scheduler import Priority
from satellite.pipeline.service import TurnService
from satellite.room.playback import Playback

_LOGGER = logging.getLogger(__name__)
MAX_WAITING = 4  # announcements queued behind the one being said; more are refused
CLOSE_WAIT_S = 3.0


class Announcer:
    def __init__(self, turns: TurnService, playback: Playback, clock: Callable[[], float]):
        self.turns = turns
        self.playback = playback
        self.clock = clock
        self._queue: asyncio.Queue[str] = asyncio.Queue(MAX_WAITING)
        self._task: asyncio.Task[None] | None = None
        self._saying: asyncio.Task[None] | None = None
        self.said = 0

    def announce(self, text: str) -> bool:
        """Queue ``text`` to be said here; False when it cannot be heard (no speaker, a full
        queue): the room that asked then says so."""
        if self.playback.sink is None:
            return False
        try:
            self._queue.put_nowait(text)
        except asyncio.QueueFull:
            _LOGGER.warning("announcement %r refused: %d already waiting", text, MAX_WAITING)
            return False
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._say_all(), name="announcements")
        return True

    def stop(self) -> bool:
        """A stop word: the announcement being said ends. True if one was."""
        saying = self._saying
        if saying is None or saying.done():
            return False
        saying.cancel()
        return True

    async def _say_all(self) -> None:
        while not self._queue.empty():
            text = self._queue.get_nowait()
            self._saying = asyncio.get_running_loop().create_task(self._say(text),
                                                                  name="announcement")
            with contextlib.suppress(asyncio.CancelledError):
                await self._saying
            if self._saying.cancelled():
                await self.playback.abort()  # stopped: the speaker drops what it holds
                _LOGGER.info("announcement %r stopped", text)
            self._saying = None

    async def _say(self, text: str) -> None:
        try:
            blocks = [pcm async for pcm in self.turns.speak(text, lead=True, priority=Priority.ROOM)]
        except SatelliteError as error:
            _LOGGER.warning("could not say the announcement %r: %s", text, error)
            return
        if not blocks:
            return
        if self.playback.config.audio.chimes:
            await self.playback.tone(awake_pcm(self.playback.rate_hz))
        await self.playback.speech(Pcm(b"".join(b.audio for b in blocks), blocks[0].rate_hz),
                                   self.clock)
        self.said += 1
        _LOGGER.info("announcement said: %r", text)

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait({task}, timeout=CLOSE_WAIT_S)
