"""Keep an audio source running: open it, pace it, notice stalls and floods, reopen with backoff.

A microphone that is missing, unplugged or silent (no frames at all for
``stall_s``) does not stop the daemon: the "mic" component goes to failed or
degraded, one warning is logged, and the source is reopened with exponential
backoff until frames flow again. A mic command that stalls is reported the same
way but not restarted: its exit is the end of input, as a file's end is. A
source whose ``read()`` raises is reported failed (the traceback logged once)
and, when live, reopened.

Real-time sources (``AudioSource.real_time``: the microphone, a mic command)
are paced: their audio may run ahead of wall time by ``burst_s`` at most, beyond
that the pump sleeps and the source's own bounded buffer fills (a microphone
counts overruns, a command blocks on its pipe). A source that delivers audio
much faster than real time — an ALSA plugin with no clock, a file piped through
``cat`` — is reported degraded with its speed, so it can neither starve the
engines nor go unnoticed. The pump yields to the loop after every chunk, so it
is cancelled at once whatever the source does.

Muted (the privacy mute, ``set_muted``), a live device is closed until unmuted; a mic
command or a file is read on and every chunk dropped (closing it would end the input).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Callable

from satellite.audio.pcm import Pcm
from satellite.audio.sources import AudioSource
from satellite.errors import AudioError
from satellite.runtime.state import RuntimeState

_LOGGER = logging.getLogger(__name__)

BURST_S = 1.0  # how far a real-time source's audio may run ahead of wall time
CATCH_UP_S = 10.0  # how far behind it may fall and still be taken at full speed (queued frames)
CLOCK_TOLERANCE = 1.01  # wall time counts 1 % faster: a device clock a little fast never lags
FLOOD_RATIO = 1.5  # audio arriving faster than this (times real time) while paced is a flood
FLOOD_WINDOW_S = 2.0  # the speed is measured over windows this long
MAX_SPEED_RATIO = 1000.0  # reported speeds are capped here (a source read from a full buffer)
CLOSE_TIMEOUT_S = 10.0  # a source's close() beyond this is abandoned
REPEAT_WARNING_S = 600.0  # a flood or a traceback is logged at WARNING at most this often


class Outcome(enum.Enum):
    ENDED = "end of input"
    STALLED = "stalled"
    FAILED = "failed"
    MUTED = "muted"


class RealTimePacer:
    """How long to hold a real-time source so its audio runs at most ``burst_s`` ahead of wall time.

    ``lead_s`` is the audio received minus the wall time elapsed. Wall time is
    counted ``tolerance`` times faster, so a device whose clock is a little fast
    is never held back (its lead falls slowly instead of piling up over days).
    The lead falls to ``-catch_up_s`` at most: a microphone whose frames queued
    up while the loop was busy catches up at full speed, but a source that was
    silent for an hour earns no hour of flooding.
    """

    def __init__(self, burst_s: float = BURST_S, catch_up_s: float = CATCH_UP_S,
                 tolerance: float = CLOCK_TOLERANCE):
        self.burst_s = burst_s
        self.catch_up_s = catch_up_s
        self.tolerance = tolerance
        self.lead_s = 0.0
        self._last_s: float | None = None

    def admit(self, now_s: float, audio_s: float) -> float:
        """Record ``audio_s`` received at ``now_s``; the seconds to wait before the next read."""
        elapsed_s = 0.0 if self._last_s is None else max(0.0, now_s - self._last_s)
        self._last_s = now_s
        self.lead_s = max(self.lead_s - elapsed_s * self.tolerance, -self.catch_up_s) + audio_s
        return max(0.0, self.lead_s - self.burst_s)


class SpeedMeter:
    """A source's speed over windows of ``window_s``: audio seconds per second not spent held back.

    Time the pump spends holding the source (pacing) is left out, so a source
    that is paced to real time still shows how fast it delivers when asked.
    """

    def __init__(self, window_s: float = FLOOD_WINDOW_S):
        self.window_s = window_s
        self._start_s: float | None = None
        self._audio_s = 0.0
        self._held_s = 0.0

    def add(self, now_s: float, audio_s: float, held_s: float) -> tuple[float, bool] | None:
        """Record a chunk; at the end of a window, (speed ratio, whether the source was held)."""
        if self._start_s is None:
            self._start_s = now_s
        self._audio_s += audio_s
        self._held_s += held_s
        wall_s = now_s - self._start_s
        if wall_s < self.window_s:
            return None
        free_s = max(wall_s - self._held_s, self._audio_s / MAX_SPEED_RATIO)
        result = (min(self._audio_s / free_s, MAX_SPEED_RATIO), self._held_s > 0.0)
        self._start_s, self._audio_s, self._held_s = now_s, 0.0, 0.0
        return result


class CaptureSupervisor:
    def __init__(self, source: AudioSource, state: RuntimeState, on_audio: Callable[[Pcm], None],
                 stall_s: float = 5.0, backoff_s: float = 1.0, max_backoff_s: float = 30.0, *,
                 burst_s: float = BURST_S, flood_ratio: float = FLOOD_RATIO,
                 flood_window_s: float = FLOOD_WINDOW_S,
                 clock: Callable[[], float] = time.monotonic):
        self.source = source
        self.state = state
        self.on_audio = on_audio
        self.stall_s = stall_s
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.burst_s = burst_s
        self.flood_ratio = flood_ratio
        self.flood_window_s = flood_window_s
        self.clock = clock
        self.reopens = 0
        self.floods = 0
        self.stalls = 0
        self.speed_ratio: float | None = None
        self._trouble = "starting"  # "" | starting | stalled | failed | flood
        self._warned = False
        self._last_warning_s: dict[str, float] = {}
        self._chunks = 0  # since the last open
        self.muted = False
        self._unmuted = asyncio.Event()
        self._unmuted.set()
        self.dropped_s = 0.0  # audio read and dropped while muted (a mic command, a file)

    def set_muted(self, muted: bool) -> None:
        """The privacy mute: no audio is handed on from now until unmuted."""
        self.muted = muted
        if muted:
            self._unmuted.clear()
            self.state.set_component("mic", "off", "muted: the microphone is off")
        else:
            self._unmuted.set()
            self._trouble = "starting"  # the first frames say "listening" and "ready" again

    async def run(self) -> None:
        """Capture until the end of input (files, commands); live devices run until cancelled."""
        delay = self.backoff_s
        while True:
            if self.muted and self.source.live:
                await self._unmuted.wait()  # the device stays closed while muted
            if await self._open():
                try:
                    outcome = await self._pump()
                finally:
                    await self._close()
                if outcome is Outcome.ENDED:
                    self.state.set_component("mic", "off", "end of input")
                    return
                if outcome is Outcome.MUTED:
                    _LOGGER.info("audio input %s closed: muted", self.source.describe())
                    continue
                if self._chunks:
                    delay = self.backoff_s  # it worked for a while: start the backoff afresh
                self.reopens += 1
            if not self.source.live:
                return  # a command or file that failed: the end of input, reported "failed"
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_backoff_s)

    async def _open(self) -> bool:
        try:
            await self.source.open()
        except AudioError as error:
            self._report_failure("failed", str(error))
            return False
        except Exception as error:  # noqa: BLE001 - an unexpected bug in a driver: logged, retried
            self._unexpected("cannot open", error)
            return False
        return True

    async def _close(self) -> None:
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                await self.source.close()
        except TimeoutError:
            _LOGGER.warning("audio input %s did not close within %g s; left behind",
                            self.source.describe(), CLOSE_TIMEOUT_S)
        except Exception as error:  # noqa: BLE001 - logged with its traceback; capture goes on
            _LOGGER.warning("audio input %s: closing failed: %r", self.source.describe(), error,
                            exc_info=True)

    async def _pump(self) -> Outcome:
        """Read, hand on and pace frames until the end of input, a stall (live) or a failure."""
        watched = self.source.live or self.source.real_time
        pacer = RealTimePacer(self.burst_s) if self.source.real_time else None
        meter = SpeedMeter(self.flood_window_s)
        self._chunks = 0
        while True:
            try:
                pcm = await self._read(watched)
            except TimeoutError:
                self._stalled()
                if self.source.live:
                    return Outcome.STALLED
                continue  # a mic command: its exit, not its silence, ends the input
            except AudioError as error:
                self._report_failure("failed", f"read failed: {error}")
                return Outcome.FAILED
            except Exception as error:  # noqa: BLE001 - a driver bug must not end the capture
                self._unexpected("read failed", error)
                return Outcome.FAILED
            if pcm is None:
                _LOGGER.info("end of audio input from %s", self.source.describe())
                return Outcome.ENDED
            if self.muted:
                if self.source.live:
                    return Outcome.MUTED
                self.dropped_s += pcm.seconds
                await self._pace(pacer, meter, pcm.seconds)
                continue
            self._chunks += 1
            if self._trouble in ("starting", "stalled", "failed"):
                self._frames_flow()
            self.state.last_mic_frame_s = self.state.clock()
            self.on_audio(pcm)
            await self._pace(pacer, meter, pcm.seconds)

    async def _read(self, watched: bool) -> Pcm | None:
        if not watched:
            return await self.source.read()
        async with asyncio.timeout(self.stall_s):
            return await self.source.read()

    async def _pace(self, pacer: RealTimePacer | None, meter: SpeedMeter, audio_s: float) -> None:
        """Yield to the loop after every chunk; hold a real-time source that runs ahead."""
        if pacer is None:
            await asyncio.sleep(0)  # files pace themselves (audio.input_realtime)
            return
        start_s = self.clock()
        delay_s = pacer.admit(start_s, audio_s)
        await asyncio.sleep(delay_s)
        now_s = self.clock()
        measured = meter.add(now_s, audio_s, now_s - start_s if delay_s > 0 else 0.0)
        if measured is not None:
            self._speed_measured(*measured)

    # -- reporting -----------------------------------------------------------------------------

    def _frames_flow(self) -> None:
        if self._warned:
            _LOGGER.warning("audio input %s is back", self.source.describe())
        else:
            _LOGGER.info("listening on %s", self.source.describe())
        self._warned = False
        self._trouble = ""
        self.state.set_component("mic", "ready", self.source.describe())
        self.state.audio_devices["input"] = self.source.describe()

    def _speed_measured(self, ratio: float, held: bool) -> None:
        self.speed_ratio = ratio
        self.state.metrics.audio_source_speed_ratio.set(ratio)
        flooding = held and ratio > self.flood_ratio
        if flooding and self._trouble == "":
            self._trouble = "flood"
            self.floods += 1
            self.state.metrics.audio_source_floods.inc()
            speed = f"{ratio:.0f}x" if ratio >= 10 else f"{ratio:.1f}x"
            self.state.set_component("mic", "degraded",
                                     f"audio source delivers {speed} real time (no clock?); pacing it")
            self._log_repeatable("flood", "audio input %s delivers %s real time (no clock?); pacing it "
                                 "to real time, the excess is dropped or held", self.source.describe(),
                                 speed)
        elif not flooding and self._trouble == "flood":
            self._trouble = ""
            self.state.set_component("mic", "ready", self.source.describe())
            _LOGGER.info("audio input %s is back to real time (%.1fx)", self.source.describe(), ratio)

    def _stalled(self) -> None:
        detail = f"no frames for {self.stall_s:g} s"
        if self._trouble != "stalled":
            self._trouble = "stalled"
            self.stalls += 1
            self.state.metrics.audio_source_stalls.inc()
        self._report_failure("degraded", detail + ("; reopening" if self.source.live else ""))

    def _unexpected(self, what: str, error: Exception) -> None:
        """A bug rather than a device condition: its traceback is logged, not on every retry."""
        self.state.metrics.errors.labels(kind="audio_input").inc()
        self._log_repeatable("traceback", "audio input %s: %s: %r (capture goes on)",
                             self.source.describe(), what, error, exc_info=error)
        self._warned = True
        self._report_failure("failed", f"{what}: {error!r}")

    def _report_failure(self, state: str, detail: str) -> None:
        if state == "failed":
            self._trouble = "failed"
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

    def _log_repeatable(self, key: str, message: str, *args: object,
                        exc_info: BaseException | None = None) -> None:
        """At WARNING the first time and then at most every ``REPEAT_WARNING_S``, else at DEBUG."""
        now_s = self.clock()
        last_s = self._last_warning_s.get(key)
        if last_s is None or now_s - last_s >= REPEAT_WARNING_S:
            self._last_warning_s[key] = now_s
            _LOGGER.warning(message, *args, exc_info=exc_info)
        else:
            _LOGGER.debug(message, *args)
