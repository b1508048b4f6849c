"""Where the always-on loop's audio comes from: microphone, WAV file, or a command's stdout.

Every source yields 16 kHz mono s16le ``Pcm`` chunks through ``await read()``;
``None`` means end of input (a file played out, a mic command that exited).
The microphone's PortAudio callback runs on PortAudio's thread and only copies
the frames into the loop with ``call_soon_threadsafe``; a full queue or an
input overflow is counted in ``audio_overruns``, never dropped silently.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from satellite.audio.convert import PcmConverter
from satellite.audio.pcm import SAMPLE_WIDTH, STT_RATE_HZ, Pcm
from satellite.audio.wav import read_wav
from satellite.config.schema import AudioConfig
from satellite.errors import AudioError
from satellite.runtime.metrics import Metrics

_LOGGER = logging.getLogger(__name__)
CHUNK_S = 0.064  # 1024 samples at 16 kHz: small enough for VAD latency, large enough for Python


class AudioSource(ABC):
    """An async stream of 16 kHz mono PCM."""

    name = "source"
    live = False  # a device that can stall and be reopened (vs. a file that ends)

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
    """A sounddevice input stream at 16 kHz mono, or the device's rate converted."""

    live = True

    def __init__(self, device: str = "", metrics: Metrics | None = None, queue_chunks: int = 100):
        self.device = parse_device(device)
        self.metrics = metrics
        self.name = f"mic:{device or 'default'}"
        self._queue: asyncio.Queue[bytes] = asyncio.Queue(maxsize=queue_chunks)
        self._stream: Any = None
        self._converter: PcmConverter | None = None
        self._rate_hz = STT_RATE_HZ
        self.overruns = 0
        self.frames_in = 0

    async def open(self) -> None:
        try:
            import sounddevice as sd
        except OSError as error:  # PortAudio missing
            raise AudioError(f"no audio input: {error}") from error
        loop = asyncio.get_running_loop()

        def callback(indata: Any, frames: int, time_info: Any, status: Any) -> None:
            data = bytes(indata)
            overflow = bool(status.input_overflow) if status else False
            loop.call_soon_threadsafe(self._put, data, overflow)

        try:
            rate = STT_RATE_HZ
            try:
                sd.check_input_settings(device=self.device, channels=1, dtype="int16",
                                        samplerate=STT_RATE_HZ)
            except (sd.PortAudioError, ValueError):
                info = sd.query_devices(self.device, "input")
                rate = int(info["default_samplerate"])
            stream = sd.RawInputStream(device=self.device, samplerate=rate, channels=1,
                                       dtype="int16", blocksize=int(rate * CHUNK_S),
                                       callback=callback)
            stream.start()
        except (sd.PortAudioError, ValueError) as error:
            raise AudioError(f"cannot open microphone {self.device or 'default'}: {error}") from error
        self._stream = stream
        self._rate_hz = rate
        self._converter = PcmConverter() if rate != STT_RATE_HZ else None
        name = self.device if self.device is not None else "default"
        self.name = f"mic:{name}@{rate}Hz"

    def _put(self, data: bytes, overflow: bool) -> None:
        if overflow:
            self._overrun()
        try:
            self._queue.put_nowait(data)
        except asyncio.QueueFull:
            self._overrun()

    def _overrun(self) -> None:
        self.overruns += 1
        if self.metrics is not None:
            self.metrics.audio_overruns.labels(device="mic").inc()

    async def read(self) -> Pcm | None:
        data = await self._queue.get()
        self.frames_in += len(data) // SAMPLE_WIDTH
        pcm = Pcm(data, self._rate_hz)
        return self._converter.convert(pcm) if self._converter else pcm

    async def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            await asyncio.get_running_loop().run_in_executor(None, _close_stream, stream)
        while not self._queue.empty():
            self._queue.get_nowait()


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
    """Raw s16le mono PCM from a command's stdout (e.g. ``arecord -r 16000 -c 1 -f S16_LE -t raw``)."""

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
                *shlex.split(self.command), stdout=asyncio.subprocess.PIPE)
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
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 2.0)
        except TimeoutError:
            process.kill()
            await process.wait()


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
           "parse_device"]
