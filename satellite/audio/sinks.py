"""Where spoken replies go: the speaker, a command's stdin, or a directory of WAV files.

A reply is a sequence of ``play(pcm)`` calls followed by ``end_reply()``, which
returns once the audio has been played out (so the listener knows when its own
voice stops). ``abort()`` stops a reply at once (barge-in, shutdown).
"""

from __future__ import annotations

import asyncio
import logging
import shlex
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from satellite.audio.convert import PcmConverter
from satellite.audio.pcm import SAMPLE_WIDTH, Pcm
from satellite.audio.sources import parse_device
from satellite.audio.wav import write_wav
from satellite.config.schema import AudioConfig
from satellite.errors import AudioError

_LOGGER = logging.getLogger(__name__)
BLOCK_S = 0.1  # playback is written in blocks this long so an abort is heard quickly


class AudioSink(ABC):
    name = "sink"

    async def open(self) -> None:  # noqa: B027 - an optional hook
        """Check the output can be used; raises ``AudioError``."""

    @abstractmethod
    async def play(self, pcm: Pcm) -> None:
        """Queue or play one block of the current reply."""

    @abstractmethod
    async def end_reply(self) -> None:
        """The current reply is complete: wait until it has been played out."""

    async def abort(self) -> None:  # noqa: B027 - an optional hook
        """Stop the current reply now."""

    async def close(self) -> None:
        await self.abort()


def _blocks(pcm: Pcm) -> list[bytes]:
    step = max(1, int(pcm.rate_hz * BLOCK_S)) * SAMPLE_WIDTH
    return [pcm.audio[i:i + step] for i in range(0, len(pcm.audio), step)]


class SpeakerSink(AudioSink):
    """sounddevice output; the blocking writes run in a thread, never on the loop."""

    def __init__(self, device: str = ""):
        self.device = parse_device(device)
        self.name = f"speaker:{device or 'default'}"
        self._stream: Any = None
        self._rate_hz = 0
        self._aborted = False

    async def open(self) -> None:
        try:
            import sounddevice as sd
        except OSError as error:  # PortAudio missing
            raise AudioError(f"no audio output: {error}") from error
        try:
            sd.query_devices(self.device, "output")
        except (sd.PortAudioError, ValueError) as error:
            raise AudioError(f"no audio output {self.device or 'default'}: {error}") from error

    async def play(self, pcm: Pcm) -> None:
        loop = asyncio.get_running_loop()
        if self._stream is None or self._rate_hz != pcm.rate_hz:
            await self.end_reply()
            self._aborted = False
            self._stream = await loop.run_in_executor(None, self._open_stream, pcm.rate_hz)
            self._rate_hz = pcm.rate_hz
        for block in _blocks(pcm):
            if self._aborted or self._stream is None:
                return
            await loop.run_in_executor(None, self._write, self._stream, block)

    def _open_stream(self, rate_hz: int) -> Any:
        import sounddevice as sd

        try:
            stream = sd.RawOutputStream(device=self.device, samplerate=rate_hz, channels=1,
                                        dtype="int16")
            stream.start()
        except (sd.PortAudioError, ValueError) as error:
            raise AudioError(f"cannot open speaker {self.device or 'default'}: {error}") from error
        return stream

    @staticmethod
    def _write(stream: Any, block: bytes) -> None:
        import sounddevice as sd

        try:
            underflow = stream.write(block)
        except sd.PortAudioError as error:
            raise AudioError(f"speaker write failed: {error}") from error
        if underflow:
            _LOGGER.debug("speaker underflow")

    async def end_reply(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            await asyncio.get_running_loop().run_in_executor(None, _drain, stream, self._aborted)

    async def abort(self) -> None:
        self._aborted = True
        await self.end_reply()


def _drain(stream: Any, aborted: bool) -> None:
    try:
        if aborted:
            stream.abort()
        else:
            stream.stop()  # returns once the buffered audio has been played
    finally:
        stream.close()


class CommandSink(AudioSink):
    """Raw s16le mono PCM to a command's stdin (e.g. ``aplay -r 22050 -c 1 -f S16_LE -t raw``).

    One process per reply; the audio is converted to ``rate_hz`` (0 = the voice's own rate).
    """

    def __init__(self, command: str, rate_hz: int = 0):
        if not command.strip():
            raise AudioError("audio.output is 'command' but audio.snd_command is empty")
        self.command = command
        self.rate_hz = rate_hz
        self.name = f"command:{shlex.split(command)[0]}"
        self._process: asyncio.subprocess.Process | None = None
        self._converter: PcmConverter | None = None

    async def play(self, pcm: Pcm) -> None:
        if self._process is None:
            try:
                self._process = await asyncio.create_subprocess_exec(
                    *shlex.split(self.command), stdin=asyncio.subprocess.PIPE)
            except OSError as error:
                raise AudioError(f"cannot start snd command {self.command!r}: {error}") from error
            self._converter = PcmConverter(self.rate_hz) if self.rate_hz else None
        if self._converter is not None:
            pcm = self._converter.convert(pcm)
        assert self._process.stdin is not None
        try:
            self._process.stdin.write(pcm.audio)
            await self._process.stdin.drain()
        except (BrokenPipeError, ConnectionResetError) as error:
            raise AudioError(f"snd command closed its input: {error}") from error

    async def end_reply(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        assert process.stdin is not None
        process.stdin.close()
        try:
            await process.stdin.wait_closed()
        except (BrokenPipeError, ConnectionResetError):
            pass  # the command exited early: its exit status says what happened
        code = await process.wait()
        if code != 0:
            raise AudioError(f"snd command exited with status {code}")

    async def abort(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            process.kill()
            await process.wait()


class WavDirSink(AudioSink):
    """Each reply becomes ``reply-0001.wav``, ... in a directory (demos, tests, headless boxes).

    With ``realtime`` the reply takes as long to "play" as it lasts, like a speaker would.
    """

    def __init__(self, directory: str | Path, realtime: bool = False):
        self.directory = Path(directory)
        self.realtime = realtime
        self.name = f"dir:{self.directory}"
        self.written: list[Path] = []
        self._blocks: list[Pcm] = []
        self._started: float | None = None

    async def open(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise AudioError(f"cannot create output dir {self.directory}: {error}") from error
        self.written = sorted(self.directory.glob("reply-*.wav"))

    async def play(self, pcm: Pcm) -> None:
        if self._started is None:
            self._started = time.monotonic()
        self._blocks.append(pcm)

    async def end_reply(self) -> None:
        blocks, self._blocks = self._blocks, []
        started, self._started = self._started, None
        if not blocks:
            return
        if self.realtime and started is not None:
            remaining = started + sum(b.seconds for b in blocks) - time.monotonic()
            if remaining > 0:
                await asyncio.sleep(remaining)
        path = self.directory / f"reply-{len(self.written) + 1:04d}.wav"
        audio = Pcm(b"".join(b.audio for b in blocks), blocks[0].rate_hz)
        try:
            write_wav(path, audio)
        except OSError as error:
            raise AudioError(f"cannot write {path}: {error}") from error
        self.written.append(path)

    async def abort(self) -> None:
        self._blocks = []
        self._started = None


def create_sink(config: AudioConfig) -> AudioSink | None:
    """The configured sink, or None when output is off."""
    if config.output == "speaker":
        return SpeakerSink(config.output_device)
    if config.output == "command":
        return CommandSink(config.snd_command, config.snd_rate_hz)
    if config.output == "dir":
        if not config.output_dir:
            raise AudioError("audio.output is 'dir' but audio.output_dir is empty")
        return WavDirSink(config.output_dir)
    return None


__all__ = ["AudioSink", "CommandSink", "SpeakerSink", "WavDirSink", "create_sink"]
