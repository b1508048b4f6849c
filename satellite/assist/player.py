"""``AnswerPlayer``: Home Assistant's audio (answers, announcements) played in the room, then ``played``.

The connection's read loop only queues what arrives (``audio-start``, chunks,
``audio-stop``); this player's own task plays it, so a long answer never keeps
the connection from answering HA's pings (HA drops a satellite silent for 5 s).
Chunks are played as they come (streaming TTS), converted to the room's rate;
the speaker is held (``RoomSpeaker.lock``) from ``audio-start`` to ``audio-stop``,
and the capture is gated meanwhile as for any reply. A reply whose next chunk
does not come within ``gap_timeout_s`` is ended there. What is queued is
bounded by ``max_queued_s`` of audio: beyond it chunks are dropped and counted.
``stop()`` (a stop word said in the room) ends the reply playing now: the rest of
its audio is dropped as it comes, and HA is told it was played.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from satellite.assist.speaker import RoomSpeaker
from satellite.audio.convert import PcmConverter
from satellite.audio.pcm import Pcm
from satellite.errors import AudioError

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Start:
    pass


@dataclass(frozen=True)
class _Stop:
    pass


class AnswerPlayer:
    def __init__(self, playback: RoomSpeaker, *, on_started: Callable[[], None],
                 on_played: Callable[[], None], gap_timeout_s: float = 15.0,
                 max_queued_s: float = 120.0, clock: Callable[[], float] = time.monotonic):
        """``on_started``: the first audio of a reply reached the speaker; ``on_played``: it ended
        (the link sends ``played``)."""
        self.playback = playback
        self.on_started = on_started
        self.on_played = on_played
        self.gap_timeout_s = gap_timeout_s
        self.max_queued_s = max_queued_s
        self.clock = clock
        self.first_sound_s: float | None = None  # when the last reply's first audio was handed over
        self.replies = 0
        self.dropped_s = 0.0
        self._queue: asyncio.Queue[_Start | _Stop | Pcm] = asyncio.Queue()
        self._queued_s = 0.0
        self._open = False  # an audio-start was queued without its audio-stop yet
        self._task: asyncio.Task[None] | None = None
        self._reply: asyncio.Task[None] | None = None  # the reply playing now
        self._stopping = False
        self.stopped = 0  # replies stopped in the room

    @property
    def playing(self) -> bool:
        return self._open or not self._queue.empty()

    def stop(self) -> bool:
        """Stop the reply playing now (a stop word in the room); False if none plays."""
        reply = self._reply
        if reply is None or reply.done() or self._stopping:
            return False
        self._stopping = True
        reply.cancel()
        return True

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="assist answer player")

    # -- from the connection (never blocks) ---------------------------------------------------------

    def audio_start(self) -> None:
        if self._open:  # a new reply without the end of the last (HA's streaming interrupt): end it
            self._queue.put_nowait(_Stop())
        self._open = True
        self._queue.put_nowait(_Start())

    def audio_chunk(self, pcm: Pcm) -> None:
        if not self._open:  # a chunk with no audio-start (a peer that skips it): open a reply
            self.audio_start()
        if self._queued_s + pcm.seconds > self.max_queued_s:
            self.dropped_s += pcm.seconds
            _LOGGER.warning("assist satellite: %.2f s of Home Assistant's audio dropped (%.0f s queued)",
                            pcm.seconds, self._queued_s)
            return
        self._queued_s += pcm.seconds
        self._queue.put_nowait(pcm)

    def audio_stop(self) -> None:
        if self._open:
            self._open = False
            self._queue.put_nowait(_Stop())

    # -- the player's task --------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            if isinstance(item, _Start):
                reply = asyncio.get_running_loop().create_task(self._play_reply(),
                                                               name="assist reply")
                self._reply = reply
                try:
                    await asyncio.wait({reply})
                finally:
                    if not reply.done():  # the player itself is closing
                        reply.cancel()
                    self._reply = None
                    self._stopping = False
            elif isinstance(item, Pcm):  # left over from a reply that timed out: dropped
                self._queued_s -= item.seconds

    async def _play_reply(self) -> None:
        converter = PcmConverter(self.playback.rate_hz)
        first = True
        async with self.playback.lock:
            try:
                while True:
                    try:
                        async with asyncio.timeout(self.gap_timeout_s):
                            item = await self._queue.get()
                    except TimeoutError:
                        _LOGGER.warning("assist satellite: Home Assistant's audio stopped coming for "
                                        "%.0f s; reply ended there", self.gap_timeout_s)
                        self._open = False
                        break
                    if isinstance(item, (_Stop, _Start)):
                        if isinstance(item, _Start):  # a reply began without this one's end
                            self._queue.put_nowait(item)  # not lost: played next
                        break
                    self._queued_s -= item.seconds
                    if self.playback.sink is None or not item.audio:
                        continue
                    await self.playback.play(converter.convert(item))
                    if first:
                        first = False
                        sink = self.playback.sink
                        self.first_sound_s = (sink.first_sound_s if sink.first_sound_s is not None
                                              else self.clock())
                        self.on_started()
                if self.playback.sink is not None and not first:
                    await self.playback.end_reply()
            except AudioError:
                await self.playback.abort()  # counted and logged by Playback
            except asyncio.CancelledError:
                if not self._stopping:
                    raise
                _LOGGER.info("assist satellite: Home Assistant's audio stopped in the room")
                self.stopped += 1
                await self.playback.abort()  # what follows of it is dropped as it comes
            finally:
                self.playback.finished(self.clock())
        self.replies += 1
        self.on_played()

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
