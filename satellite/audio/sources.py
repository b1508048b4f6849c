"""Where the always-on loop's audio comes from: microphone, WAV file, or a command's stdout.

Every source yields 16 kHz mono s16le ``Pcm`` chunks through ``await read()``;
``None`` means end of input (a file played out, a mic command that exited).
The microphone's PortAudio callback runs on PortAudio's thread and only copies
the frames into a bounded queue; a full queue or an input overflow is counted in
``audio_overruns``, never dropped silently. Sources marked ``real_time`` (the
microphone, a mic command) are paced and watched by ``CaptureSupervisor``.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import shlex
import signal
import threading
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from satellite.audio.convert import PcmConverter
from satellite.audio.device_thread import DeviceThread, DeviceTimeout
from satellite.audio.pcm import SAMPLE_WIDTH, STT_RATE_HZ, Pcm
from satellite.audio.wav import read_wav
from satellite.config.schema import AudioConfig
from satellite.errors import AudioError
from satellite.runtime.metrics import Metrics

_LOGGER = logging.getLogger(__name__)
CHUNK_S = 0.02  # 320 samples at 16 kHz: the end of speech is seen within 20 ms (was 64 ms)
DEVICE_CALL_TIMEOUT_S = 10.0  # opening or closing a PortAudio stream
COMMAND_EXIT_TIMEOUT_S = 2.0  # a mic command asked to terminate, before it is killed


class AudioSource(ABC):
    """An async stream of 16 kHz mono PCM."""

    name = "source"
    live = False  # a device that can stall and be reopened (vs. a file that ends)
    # Audio captured as it happens (a microphone, a mic command): it cannot honestly arrive
    # faster than real time, so the supervisor paces it and reports a flood or a stall.
    real_time = False

    async def open(self) -> None:  # noqa: B027 - an optional hook
        """Start capturing; raises ``AudioError`` when the device is not there."""

    @abstractmethod
    async def read(self) -> Pcm | None:
        """The next chunk, or None at the end of input."""

    async def close(self) -> None:  # noqa: B027 - an optional hook
        """Stop capturing and release the device."""

    def describe(self) -> str:
        return self.name


def parse_device(value: str) -> int | str | None:
    """A sounddevice device: an index, a name (substring), or None for the default."""
    value = value.strip()
    if not value:
        return None
    return int(value) if value.isdigit() else value


class MicSource(AudioSource):
    """A sounddevice input stream at 16 kHz mono, or the device's rate converted.

    PortAudio calls ``_on_frames`` on its own thread. The frames go into a
    bounded deque under a lock; the loop is woken (one ``call_soon_threadsafe``)
    only when ``read()`` is waiting for them. When the deque is full the block
    is counted as an overrun right there and nothing is scheduled on the loop,
    so a device that delivers far faster than real time cannot flood the loop
    with callbacks. A full deque means the consumer holds the source back on
    purpose (``CaptureSupervisor`` paces a source faster than real time): the
    callback then also sleeps one block, so a device without a clock (an ALSA
    ``null`` or ``file`` plugin delivers hundreds of times real time) cannot spin
    a core either; a real device that far behind has overrun anyway. Opening and
    closing the stream run on the device's own thread, each bounded.
    """

    live = True
    real_time = True

    def __init__(self, device: str = "", metrics: Metrics | None = None, queue_chunks: int = 100,
                 call_timeout_s: float = DEVICE_CALL_TIMEOUT_S):
        self.device = parse_device(device)
        self.metrics = metrics
        self.call_timeout_s = call_timeout_s
        self.name = f"mic:{device or 'default'}"
        self._max_chunks = queue_chunks
        self._frames: collections.deque[bytes] = collections.deque()
        self._lock = threading.Lock()  # guards _frames, _wakeup and overruns (PortAudio's thread)
        self._wakeup: asyncio.Future[None] | None = None  # set while read() waits for frames
        self._loop: asyncio.AbstractEventLoop | None = None
        self._overrun_counter = (metrics.audio_overruns.labels(device="mic")
                                 if metrics is not None else None)
        self._stream: Any = None
        self._thread: DeviceThread | None = None
        self._converter: PcmConverter | None = None
        self._rate_hz = STT_RATE_HZ
        self.overruns = 0

    async def open(self) -> None:
        sd = _sounddevice("input")
        self._loop = asyncio.get_running_loop()
        with self._lock:
            self._frames.clear()
        label = self.device if self.device is not None else "default"
        thread = DeviceThread(f"mic {label}")
        abandoned = threading.Event()
        try:
            self._stream, self._rate_hz = await thread.call(self.call_timeout_s, self._start, sd,
                                                            abandoned)
        except DeviceTimeout as error:
            abandoned.set()  # should the open finish after all, the stream is closed at once
            raise AudioError(f"microphone {label} did not open within {self.call_timeout_s:g} s "
                             f"({error})") from error
        except BaseException:
            thread.stop()
            raise
        self._thread = thread
        self._converter = PcmConverter() if self._rate_hz != STT_RATE_HZ else None
        self.name = f"mic:{label}@{self._rate_hz}Hz"

    def _start(self, sd: Any, abandoned: threading.Event) -> tuple[Any, int]:
        """On the device thread: pick a rate the device takes, open and start the stream."""
        try:
            rate = STT_RATE_HZ
            try:
                sd.check_input_settings(device=self.device, channels=1, dtype="int16",
                                        samplerate=STT_RATE_HZ)
            except (sd.PortAudioError, ValueError):
                info = sd.query_devices(self.device, "input")
                rate = int(info["default_samplerate"])
            self._rate_hz = rate
            stream = sd.RawInputStream(device=self.device, samplerate=rate, channels=1,
                                       dtype="int16", blocksize=int(rate * CHUNK_S),
                                       callback=self._on_frames)
            stream.start()
        except (sd.PortAudioError, ValueError) as error:
            raise AudioError(f"cannot open microphone {self.device or 'default'}: {error}") from error
        if abandoned.is_set():
            _close_stream(stream)
            raise AudioError("microphone opened after its caller gave up; closed")
        return stream, rate

    def _on_frames(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        """PortAudio's thread: keep the block if there is room, else count it; wake a waiting read."""
        wakeup = None
        with self._lock:
            if status and status.input_overflow:
                self._count_overrun()
            full = len(self._frames) >= self._max_chunks
            if full:
                self._count_overrun()
            else:
                self._frames.append(bytes(indata))
                wakeup, self._wakeup = self._wakeup, None
        if full:
            time.sleep(frames / self._rate_hz)  # back-pressure: the block's own length
            return
        if wakeup is not None and self._loop is not None:
            try:
                self._loop.call_soon_threadsafe(_wake, wakeup)
            except RuntimeError:  # the loop closed under a stream not yet stopped
                pass

    def _count_overrun(self) -> None:
        """With ``_lock`` held; prometheus counters are thread-safe."""
        self.overruns += 1
        if self._overrun_counter is not None:
            self._overrun_counter.inc()

    async def read(self) -> Pcm | None:
        loop = asyncio.get_running_loop()
        while True:
            wakeup = loop.create_future()
            with self._lock:
                if self._frames:
                    data = self._frames.popleft()
                    break
                self._wakeup = wakeup
            await wakeup
        pcm = Pcm(data, self._rate_hz)
        return self._converter.convert(pcm) if self._converter else pcm

    async def close(self) -> None:
        stream, self._stream = self._stream, None
        thread, self._thread = self._thread, None
        if stream is not None and thread is not None:
            try:
                await thread.call(self.call_timeout_s, _close_stream, stream)
            except DeviceTimeout as error:
                _LOGGER.warning("microphone %s did not close: %s; left behind", self.name, error)
            except _sounddevice("input").PortAudioError as error:
                _LOGGER.warning("microphone %s: closing failed: %s", self.name, error)
        if thread is not None:
            thread.stop()
        with self._lock:
            self._frames.clear()
            self._wakeup = None


def _wake(wakeup: asyncio.Future[None]) -> None:
    if not wakeup.done():
        wakeup.set_result(None)


def _sounddevice(direction: str) -> Any:
    try:
        import sounddevice as sd
    except OSError as error:  # PortAudio missing
        raise AudioError(f"no audio {direction}: {error}") from error
    return sd


def _close_stream(stream: Any) -> None:
    try:
        stream.stop()
    finally:
        stream.close()


class WavFileSource(AudioSource):
    """A WAV file as if it were a microphone: chunked, optionally paced in real time and looped."""

    def __init__(self, path: str | Path, realtime: bool = True, loop: bool = False):
        self.path = Path(path)
        self.realtime = realtime
        self.loop = loop
        self.name = f"file:{self.path.name}"
        self._audio = b""
        self._pos = 0
        self._t0: float | None = None
        self._sent_s = 0.0

    async def open(self) -> None:
        try:
            pcm = read_wav(self.path)  # already 16 kHz mono 16-bit
        except (OSError, ValueError) as error:
            raise AudioError(f"cannot read {self.path}: {error}") from error
        self._audio = pcm.audio
        self._pos = 0

    async def read(self) -> Pcm | None:
        chunk_bytes = int(STT_RATE_HZ * CHUNK_S) * SAMPLE_WIDTH
        if self._pos >= len(self._audio):
            if not self.loop or not self._audio:
                return None
            self._pos = 0
        data = self._audio[self._pos:self._pos + chunk_bytes]
        self._pos += len(data)
        if self.realtime:
            loop = asyncio.get_running_loop()
            if self._t0 is None:
                self._t0 = loop.time()
            delay = self._t0 + self._sent_s - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
        self._sent_s += len(data) / (STT_RATE_HZ * SAMPLE_WIDTH)
        return Pcm(data, STT_RATE_HZ)


class CommandSource(AudioSource):
    """Raw s16le mono PCM from a command's stdout (e.g. ``arecord -r 16000 -c 1 -f S16_LE -t raw``).

    Paced as a real-time source, but not ``live``: the command exiting is the end of input.
    """

    real_time = True

    def __init__(self, command: str, rate_hz: int = STT_RATE_HZ):
        self.command = command
        self.rate_hz = rate_hz
        self.name = f"command:{shlex.split(command)[0] if command.strip() else '?'}"
        self._process: asyncio.subprocess.Process | None = None
        self._converter = PcmConverter() if rate_hz != STT_RATE_HZ else None

    async def open(self) -> None:
        if not self.command.strip():
            raise AudioError("audio.input is 'command' but audio.mic_command is empty")
        try:
            self._process = await asyncio.create_subprocess_exec(
                *shlex.split(self.command), stdout=asyncio.subprocess.PIPE,
                start_new_session=True)
        except OSError as error:
            raise AudioError(f"cannot start mic command {self.command!r}: {error}") from error

    async def read(self) -> Pcm | None:
        assert self._process is not None and self._process.stdout is not None
        chunk_bytes = int(self.rate_hz * CHUNK_S) * SAMPLE_WIDTH
        try:
            data = await self._process.stdout.readexactly(chunk_bytes)
        except asyncio.IncompleteReadError as end:
            data = end.partial[: len(end.partial) // SAMPLE_WIDTH * SAMPLE_WIDTH]
            if not data:
                return None
        pcm = Pcm(data, self.rate_hz)
        return self._converter.convert(pcm) if self._converter else pcm

    async def close(self) -> None:
        """Stop the command (and anything it started) and reap it, each step bounded."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.returncode is None:
            signal_process_group(process, signal.SIGTERM)
        if not await _reap(process, COMMAND_EXIT_TIMEOUT_S):
            signal_process_group(process, signal.SIGKILL)
            if not await _reap(process, COMMAND_EXIT_TIMEOUT_S):
                _LOGGER.warning("mic command %r did not exit after SIGKILL", self.command)


async def _reap(process: asyncio.subprocess.Process, timeout_s: float) -> bool:
    """Read what is left of stdout (a paused pipe never sees its end) and wait for the exit."""
    try:
        async with asyncio.timeout(timeout_s):
            if process.stdout is not None:
                while await process.stdout.read(1 << 16):
                    pass
            await process.wait()
    except TimeoutError:
        return False
    return True


def signal_process_group(process: asyncio.subprocess.Process, sig: signal.Signals) -> None:
    """Signal a command started with ``start_new_session`` and whatever it started (``sh -c``)."""
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:  # already gone
        pass


def create_source(config: AudioConfig, metrics: Metrics | None = None) -> AudioSource | None:
    """The configured source, or None when input is off."""
    if config.input == "mic":
        return MicSource(config.input_device, metrics)
    if config.input == "file":
        if not config.input_file:
            raise AudioError("audio.input is 'file' but audio.input_file is empty")
        return WavFileSource(config.input_file, config.input_realtime, config.input_loop)
    if config.input == "command":
        return CommandSource(config.mic_command, config.mic_rate_hz)
    return None


__all__ = ["AudioSource", "CommandSource", "MicSource", "WavFileSource", "create_source",
           "parse_device", "signal_process_group"]
