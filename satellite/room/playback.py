"""The speaker side of the room: replies, chimes, timer rings, spoken apologies.

The box's voice (a reply, an apology, an announcement) is reported to the
room's state machine as it begins and ends: the machine closes the capture
while it sounds and ``ECHO_TAIL_S`` after, so the box never answers its own
voice, unless the room is heard over it (barge-in with a working echo
canceller). Tones (chimes, a timer's ring) are not the box's voice: "stop"
must be heard while a timer rings. One sound at a time: a
reply, a ring or a chime holds ``lock`` while it plays. A failing or hung
speaker is one warning, the "speaker" component degraded and an error count;
the sink's own timeouts bound every wait on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from satellite.audio.chimes import awake_pcm, done_pcm
from satellite.audio.convert import PcmConverter
from satellite.audio.pcm import Pcm
from satellite.audio.sinks import AudioSink
from satellite.audio.wav import read_wav
from satellite.config.schema import Config
from satellite.errors import AudioError, SatelliteError
from satellite.room.machine import MODEL_MODES, RoomMachine
from satellite.runtime.state import RuntimeState

_LOGGER = logging.getLogger(__name__)


class Playback:
    def __init__(self, config: Config, sink: AudioSink | None, state: RuntimeState, rate_hz: int,
                 room: RoomMachine):
        self.config = config
        self.sink = sink
        self.state = state
        self.rate_hz = rate_hz  # the voice's rate: chimes are converted to it
        self.room = room
        self.phrases: dict[str, Pcm] = {}  # prerendered: saying them needs no engine
        self._chimes: dict[str, Pcm | None] = {}
        self._chime_task: asyncio.Task[None] | None = None
        self.lock = asyncio.Lock()  # one sound at a time on the sink

    def reconfigure(self, config: Config) -> None:
        self.config = config
        self._chimes.clear()

    @property
    def speaking(self) -> bool:
        return self.room.sounding

    def finished(self, now: float) -> None:
        """The box's voice is over (the room's echo still closes the capture a moment)."""
        self.room.voice_ended(now)

    # -- replies ---------------------------------------------------------------------------------

    async def play(self, pcm: Pcm) -> None:
        assert self.sink is not None
        if not self.room.sounding:
            self.room.voice_began()
        try:
            await self.sink.play(pcm)
        except AudioError as error:
            self._failed(error)
            raise

    async def end_reply(self) -> None:
        assert self.sink is not None
        try:
            await self.sink.end_reply()
        except AudioError as error:
            self._failed(error)
            raise
        self.state.set_component("speaker", "ready", self.sink.name)

    async def abort(self) -> None:
        if self.sink is not None:
            with contextlib.suppress(AudioError):
                await self.sink.abort()

    async def say(self, text: str) -> bool:
        """A prerendered phrase (an apology when a turn failed); False if it cannot be played."""
        pcm = self.phrases.get(text)
        if pcm is None or self.sink is None:
            return False
        async with self.lock:
            try:
                await self.play(pcm)
                await self.end_reply()
            except AudioError:
                return False
        return True

    async def speech(self, pcm: Pcm, clock: Callable[[], float]) -> None:
        """Something the box says on its own (a timer is done): gated like a reply."""
        if self.sink is None:
            return
        async with self.lock:
            try:
                await self.play(pcm)
                await self.end_reply()
            except AudioError:
                pass  # counted and logged by play/end_reply; the speaker is marked degraded
            finally:
                self.finished(clock())

    async def tone(self, pcm: Pcm) -> None:
        """A tone (a timer's ring): played whole, without gating the capture."""
        if self.sink is None:
            return
        async with self.lock:
            try:
                await self.sink.play(pcm)
                await self.end_reply()
            except AudioError as error:
                self._failed(error)

    # -- chimes ----------------------------------------------------------------------------------

    def start_awake_chime(self) -> None:
        """The wake word chime, in the background: the capture stays open (the question often
        follows the wake word without a pause; a short chime is below vad.min_speech_ms)."""
        self.start_chime("awake")

    def start_chime(self, which: str) -> None:
        """A chime in the background (awake; done when the question never came)."""
        pcm = self.chime(which)
        if pcm is not None and self.sink is not None and (
                self._chime_task is None or self._chime_task.done()):
            self._chime_task = asyncio.get_running_loop().create_task(self._play_chime(pcm))

    async def _play_chime(self, pcm: Pcm) -> None:
        await self.tone(pcm)

    def start_mute_chime(self, muted: bool) -> None:
        """The microphone goes off (falling) or on (rising): a privacy change is always heard,
        with or without a wake word model, unless ``audio.chimes`` is off."""
        if self.sink is None or not self.config.audio.chimes:
            return
        pcm = (done_pcm if muted else awake_pcm)(self.rate_hz)
        self._chime_task = asyncio.get_running_loop().create_task(self._play_chime(pcm))

    async def awake_chime_done(self) -> None:
        """The awake chime finishes before the reply starts."""
        task, self._chime_task = self._chime_task, None
        if task is not None:
            await task

    async def done_chime(self) -> None:
        pcm = self.chime("done")
        if pcm is not None and self.sink is not None:
            await self.play(pcm)

    def chime(self, which: str) -> Pcm | None:
        if which not in self._chimes:
            path = self.config.audio.awake_wav if which == "awake" else self.config.audio.done_wav
            pcm = None
            if not path and self.config.audio.chimes and self.config.wake.engine in MODEL_MODES:
                pcm = (awake_pcm if which == "awake" else done_pcm)(self.rate_hz)  # built in
            if path:
                try:
                    pcm = PcmConverter(self.rate_hz).convert(read_wav(path, convert=False))
                except (OSError, ValueError, SatelliteError) as error:
                    _LOGGER.warning("cannot use %s chime %s: %s", which, path, error)
            self._chimes[which] = pcm
        return self._chimes[which]

    def _failed(self, error: AudioError) -> None:
        _LOGGER.warning("audio output %s failed: %s", getattr(self.sink, "name", "?"), error)
        self.state.set_component("speaker", "degraded", str(error))
        self.state.metrics.errors.labels(kind="audio_output").inc()

    async def close(self) -> None:
        task, self._chime_task = self._chime_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.abort()
