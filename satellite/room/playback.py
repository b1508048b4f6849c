"""The speaker side of the room: replies, chimes, timer rings, spoken apologies, the capture gate.

While the assistant speaks (and ``ECHO_TAIL_S`` after), the capture is gated so
it never answers its own voice; with ``audio.barge_in`` it stays open (a wake
word then tells the user from the echo). Tones (chimes, a timer's ring) do not
gate it: "stop" must be heard while a timer rings. One sound at a time: a
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
from satellite.runtime.state import RuntimeState

_LOGGER = logging.getLogger(__name__)
ECHO_TAIL_S = 0.3  # capture stays gated this long after playback (device and room latency)
WAKE_MODELS = ("micro", "openwakeword")  # the built-in chimes come with a wake word model


class Playback:
    def __init__(self, config: Config, sink: AudioSink | None, state: RuntimeState, rate_hz: int):
        self.config = config
        self.sink = sink
        self.state = state
        self.rate_hz = rate_hz  # the voice's rate: chimes are converted to it
        self.speaking = False
        self.gate_until = 0.0
        self.phrases: dict[str, Pcm] = {}  # prerendered: saying them needs no engine
        self._chimes: dict[str, Pcm | None] = {}
        self._chime_task: asyncio.Task[None] | None = None
        self.lock = asyncio.Lock()  # one sound at a time on the sink
        # Whether the capture stays open while the box speaks (barge-in with a working echo
        # canceller: the listener's to say); otherwise it is gated
        self.hears_over_replies: Callable[[], bool] = lambda: False

    def reconfigure(self, config: Config) -> None:
        self.config = config
        self._chimes.clear()

    def gated(self, now: float) -> bool:
        return (self.speaking or now < self.gate_until) and not self.hears_over_replies()

    def finished(self, now: float) -> None:
        """The reply is over: keep the capture gated a moment for the room's echo."""
        self.speaking = False
        self.gate_until = now + ECHO_TAIL_S

    # -- replies ---------------------------------------------------------------------------------

    async def play(self, pcm: Pcm) -> None:
        assert self.sink is not None
        self.speaking = True
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
            if not path and self.config.audio.chimes and self.config.wake.engine in WAKE_MODELS:
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
