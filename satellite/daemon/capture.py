"""Keep an audio source running: open it, notice stalls, reopen with backoff, report its health.

A microphone that is missing, unplugged or silent (no frames at all for
``stall_s``) does not stop the daemon: the "mic" component goes to failed or
degraded, one warning is logged, and the source is reopened with exponential
backoff until frames flow again. A file or command source that ends is the end
of input.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from satellite.audio.pcm import Pcm
from satellite.audio.sources import AudioSource
from satellite.errors import AudioError
from satellite.runtime.state import RuntimeState

_LOGGER = logging.getLogger(__name__)


class CaptureSupervisor:
    def __init__(self, source: AudioSource, state: RuntimeState, on_audio: Callable[[Pcm], None],
                 stall_s: float = 5.0, backoff_s: float = 1.0, max_backoff_s: float = 30.0):
        self.source = source
        self.state = state
        self.on_audio = on_audio
        self.stall_s = stall_s
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.reopens = 0
        self._warned = False

    async def run(self) -> None:
        """Capture until the end of input (files, commands); live devices run until cancelled."""
        delay = self.backoff_s
        while True:
            try:
                await self.source.open()
            except AudioError as error:
                self._report_failure("failed", str(error))
                if not self.source.live:
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.max_backoff_s)
                continue
            try:
                ended = await self._pump()
            finally:
                await self.source.close()
            if ended:
                self.state.set_component("mic", "off", "end of input")
                return
            self.reopens += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_backoff_s)

    async def _pump(self) -> bool:
        """Read frames; True at the end of input, False when a live device stalled."""
        first = True
        while True:
            try:
                if self.source.live:
                    pcm = await asyncio.wait_for(self.source.read(), self.stall_s)
                else:
                    pcm = await self.source.read()
            except TimeoutError:
                self._report_failure("degraded", f"no frames for {self.stall_s:g} s; reopening")
                return False
            if pcm is None:
                _LOGGER.info("end of audio input from %s", self.source.describe())
                return True
            if first:
                first = False
                if self._warned:
                    _LOGGER.warning("audio input %s is back", self.source.describe())
                else:
                    _LOGGER.info("listening on %s", self.source.describe())
                self._warned = False
                self.state.set_component("mic", "ready", self.source.describe())
                self.state.audio_devices["input"] = self.source.describe()
            self.state.last_mic_frame_s = self.state.clock()
            self.on_audio(pcm)

    def _report_failure(self, state: str, detail: str) -> None:
        current = self.state.components.get("mic")
        if current is None or current.state not in ("failed", "degraded"):
            self.state.set_component("mic", state, detail)
        else:
            self.state.set_component("mic", current.state, detail)
        if not self._warned:
            _LOGGER.warning("audio input %s: %s (other services keep running)",
                            self.source.describe(), detail)
            self._warned = True
        else:
            _LOGGER.debug("audio input %s: %s", self.source.describe(), detail)
