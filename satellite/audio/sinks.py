"""Where spoken replies go: the speaker, a command's stdin, or a directory of WAV files.

A reply is a sequence of ``play(pcm)`` calls followed by ``end_reply()``, which
returns once the audio has been played out (so the listener knows when its own
voice stops). ``abort()`` stops a reply at once (barge-in, shutdown). Every wait
on a device or a command is bounded (``audio.output_timeout_s`` beyond the audio's
own length): a hung speaker fails the reply with ``AudioError``, never the daemon.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import shlex
import signal
import struct
import termios
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from satellite.audio.convert import PcmConverter
from satellite.audio.device_thread import DeviceThread, DeviceTimeout
from satellite.audio.pcm import SAMPLE_WIDTH, Pcm
from satellite.audio.sources import DEVICE_CALL_TIMEOUT_S, parse_device, signal_process_group
from satellite.audio.wav import write_wav
from satellite.config.schema import AudioConfig
from satellite.errors import AudioError

_LOGGER = logging.getLogger(__name__)
BLOCK_S = 0.1  # playback is written in blocks this long so an abort is heard quickly
OUTPUT_TIMEOUT_S = 3.0  # default of audio.output_timeout_s
CONVERT_ON_LOOP_MAX_S = 0.25  # longer blocks are resampled on a worker thread
KILL_WAIT_S = 5.0  # a killed snd command is reaped within this, or left with a warning
FIRST_READ_WAIT_S = 0.5  # a reply's player that has not read this long after is assumed playing
FIRST_READ_POLL_S = 0.005
FEED_LEAD_S = 0.2  # silence is written when less than this is left to play (a player reads ~0.1 s chunks)
FEED_BLOCK_S = 0.15  # (more than one 4096-byte read of a 16 kHz player)
T = TypeVar("T")


class AudioSink(ABC):
    name = "sink"
    audible = False  # its sound reaches the room (a speaker, a player): the echo to cancel
    # Monotonic time the current reply's first audio was handed to the device or command:
    # the end of "last voiced frame → first reply audio" as the room hears it.
    first_sound_s: float | None = None
    _watchers: tuple[Callable[[Pcm, float], None], ...] = ()
    _stop_watchers: tuple[Callable[[float], None], ...] = ()
    _player_watchers: tuple[Callable[[], None], ...] = ()

    def watch(self, watcher: Callable[[Pcm, float], None],
              stopped: Callable[[float], None] | None = None,
              player_started: Callable[[], None] | None = None) -> None:
        """Call ``watcher(pcm, start_s)`` with every block played and the monotonic time it starts
        to sound, as this sink's clock reckons it (the echo canceller's reference),
        ``stopped(at_s)`` when a reply is cut off: what was handed over to sound after ``at_s``
        never does, and ``player_started()`` when a new player takes over (a command's process:
        how late the last one sounded is not this one's)."""
        self._watchers = (*self._watchers, watcher)
        if stopped is not None:
            self._stop_watchers = (*self._stop_watchers, stopped)
        if player_started is not None:
            self._player_watchers = (*self._player_watchers, player_started)

    def _sounds_at(self, pcm: Pcm, start_s: float) -> None:
        for watcher in self._watchers:
            watcher(pcm, start_s)

    def _silent_from(self, at_s: float) -> None:
        for stopped in self._stop_watchers:
            stopped(at_s)

    def _new_player(self) -> None:
        for started in self._player_watchers:
            started()

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
    """sounddevice output; every blocking call runs on the device's own thread, each one bounded.

    A write must return within its block's length plus ``timeout_s``, the final
    ``stop`` within the audio still buffered plus ``timeout_s``. A call that does
    not is abandoned with its stream and thread (a daemon thread, which cannot
    hold the process at exit): the reply fails with ``AudioError`` and the next
    reply opens a fresh stream.
    """

    def __init__(self, device: str = "", timeout_s: float = OUTPUT_TIMEOUT_S):
        self.device = parse_device(device)
        self.timeout_s = timeout_s
        self.name = f"speaker:{device or 'default'}"
        self.audible = True
        self._stream: Any = None
        self._thread: DeviceThread | None = None
        self._rate_hz = 0
        self._aborted = False
        self._plays_until_s = 0.0  # monotonic time the audio written so far has played out

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
        if self._stream is None or self._rate_hz != pcm.rate_hz:
            await self.end_reply()
            self._aborted = False
            self._stream = await self._call(DEVICE_CALL_TIMEOUT_S, "open", self._open_stream,
                                            pcm.rate_hz)
            self._rate_hz = pcm.rate_hz
            self._plays_until_s = time.monotonic()
            self.first_sound_s = None
        for block in _blocks(pcm):
            if self._aborted or self._stream is None:
                return
            block_s = len(block) / (SAMPLE_WIDTH * pcm.rate_hz)
            starts_s = max(self._plays_until_s, time.monotonic())
            self._plays_until_s = starts_s + block_s
            self._sounds_at(Pcm(block, pcm.rate_hz), starts_s)
            await self._call(block_s + self.timeout_s, "play audio", self._write, self._stream, block)
            if self.first_sound_s is None:
                self.first_sound_s = time.monotonic()

    async def _call(self, timeout_s: float, what: str, function: Callable[..., T], *args: Any) -> T:
        if self._thread is None:
            self._thread = DeviceThread(f"speaker {self.device or 'default'}")
        try:
            return await self._thread.call(timeout_s, function, *args)
        except DeviceTimeout as error:
            self._stream, self._thread = None, None  # both left to the stuck thread
            raise AudioError(f"speaker {self.device or 'default'} did not {what} within "
                             f"{timeout_s:.1f} s; stream abandoned, the next reply reopens it"
                             ) from error

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
        if stream is None:
            return
        if self._aborted:
            await self._call(self.timeout_s, "stop", _drain, stream, True)
            return
        buffered_s = max(0.0, self._plays_until_s - time.monotonic())
        await self._call(buffered_s + self.timeout_s, "finish playing", _drain, stream, False)

    async def abort(self) -> None:
        self._aborted = True
        self._silent_from(time.monotonic())
        await self.end_reply()

    async def close(self) -> None:
        try:
            await self.abort()
        finally:
            thread, self._thread = self._thread, None
            if thread is not None:
                thread.stop()


def _drain(stream: Any, aborted: bool) -> None:
    import sounddevice as sd

    try:
        if aborted:
            stream.abort()
        else:
            stream.stop()  # returns once the buffered audio has been played
    except sd.PortAudioError as error:
        raise AudioError(f"speaker stop failed: {error}") from error
    finally:
        stream.close()


class CommandSink(AudioSink):
    """Raw s16le mono PCM to a command's stdin (e.g. ``aplay -r 22050 -c 1 -f S16_LE -t raw``).

    One process per reply; the audio is converted to ``rate_hz`` (0 = the voice's own rate),
    off the event loop when the block is long. A real-time player drains its input at
    playback speed, so a write must be taken within the block's length plus ``timeout_s``,
    and the exit at ``end_reply`` must come within the audio still to play plus
    ``timeout_s``. A command that does not is killed (with whatever it started) and the
    reply fails with ``AudioError``.
    """

    def __init__(self, command: str, rate_hz: int = 0, timeout_s: float = OUTPUT_TIMEOUT_S):
        if not command.strip():
            raise AudioError("audio.output is 'command' but audio.snd_command is empty")
        self.command = command
        self.rate_hz = rate_hz
        self.timeout_s = timeout_s
        self.name = f"command:{shlex.split(command)[0]}"
        self.audible = True
        self._process: asyncio.subprocess.Process | None = None
        self._ready: asyncio.subprocess.Process | None = None  # started ahead, for the next reply
        self._converter: PcmConverter | None = PcmConverter(rate_hz) if rate_hz else None
        self._plays_until_s = 0.0  # monotonic time the audio written so far has played out
        self._closed = False
        self._feeder: asyncio.Task[None] | None = None  # keeps the player fed between sentences

    async def open(self) -> None:
        self._closed = False
        await self._start_ahead()

    async def _spawn(self) -> asyncio.subprocess.Process:
        try:
            return await asyncio.create_subprocess_exec(
                *shlex.split(self.command), stdin=asyncio.subprocess.PIPE, start_new_session=True)
        except OSError as error:
            raise AudioError(f"cannot start snd command {self.command!r}: {error}") from error

    async def _start_ahead(self) -> None:
        """Start the next reply's command now, so a reply does not wait for a process to start
        (about 100 ms for a player on a small box: measured in docs/benchmarks.md)."""
        if not self._closed and (self._ready is None or self._ready.returncode is not None):
            self._ready = await self._spawn()

    async def _take_process(self) -> asyncio.subprocess.Process:
        ready, self._ready = self._ready, None
        if ready is not None and ready.returncode is None:
            return ready
        return await self._spawn()

    async def play(self, pcm: Pcm) -> None:
        if self._process is None:
            self._process = await self._take_process()
            self._new_player()
            self._converter = PcmConverter(self.rate_hz) if self.rate_hz else None  # per reply
            self._plays_until_s = time.monotonic()
            self.first_sound_s = None
        process = self._process
        if self._converter is not None:
            pcm = await _convert(self._converter, pcm)
        first = self.first_sound_s is None
        if not first:
            starts_s = max(self._plays_until_s, time.monotonic())  # (a pipe that ran dry: silence)
            self._plays_until_s = starts_s + pcm.seconds
            self._sounds_at(pcm, starts_s)
        bound_s = pcm.seconds + self.timeout_s
        assert process.stdin is not None
        try:
            async with asyncio.timeout(bound_s):
                process.stdin.write(pcm.audio)
                if first:
                    # The reply sounds from when its player starts reading, not from the write:
                    # a player still starting (one started cold, or a slow machine's) reads
                    # 50-300 ms later, and the echo canceller's reference would be that early.
                    starts_s = await _first_read(process.stdin.transport, len(pcm.audio))
                    self.first_sound_s = starts_s
                    self._plays_until_s = starts_s + pcm.seconds
                    self._sounds_at(pcm, starts_s)
                await process.stdin.drain()
            if self._feeder is None or self._feeder.done():
                self._feeder = asyncio.get_running_loop().create_task(
                    self._feed(process, pcm.rate_hz), name="snd feeder")
        except TimeoutError:
            await self._stop_playing(process)
            raise AudioError(f"snd command {self.command!r} did not accept audio within "
                             f"{bound_s:.1f} s; killed") from None
        except (BrokenPipeError, ConnectionResetError) as error:
            await self._stop_playing(process)
            raise AudioError(f"snd command closed its input: {error}") from error

    async def end_reply(self) -> None:
        process = self._process
        if process is None:
            return
        await self._stop_feeding()
        bound_s = max(0.0, self._plays_until_s - time.monotonic()) + self.timeout_s
        assert process.stdin is not None
        try:
            async with asyncio.timeout(bound_s):
                process.stdin.close()
                try:
                    await process.stdin.wait_closed()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the command exited early: its exit status says what happened
                code = await process.wait()
        except TimeoutError:
            await self._stop_playing(process)
            raise AudioError(f"snd command {self.command!r} did not play audio within "
                             f"{bound_s:.1f} s; killed") from None
        except asyncio.CancelledError:
            await self._stop_playing(process, next_ready=True)  # barge-in or shutdown: it stops now
            raise
        finally:
            if self._process is process:
                self._process = None
        if code != 0:
            raise AudioError(f"snd command exited with status {code}")
        await self._start_ahead()

    async def abort(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            await self._stop_playing(process, next_ready=True)

    async def close(self) -> None:
        self._closed = True  # (a reply stopped meanwhile starts no player for the next one)
        await self._stop_feeding()
        process, self._process = self._process, None
        if process is not None:
            await self._kill(process)
        ready, self._ready = self._ready, None
        if ready is not None:
            await self._kill(ready)

    async def _stop_playing(self, process: asyncio.subprocess.Process, next_ready: bool = False) -> None:
        """The reply's player is killed: what it was handed for later never sounds (the echo
        canceller's reference is cut; left on it, AEC3 subtracts an echo that never comes and
        mangles the words said over it). After a barge-in (``next_ready``) the next reply's
        player is started at once, so it starts as promptly as any other (the canceller's clock
        assumes so: one started cold sounds ~0.1 s late)."""
        self._silent_from(time.monotonic())
        await self._stop_feeding()
        await self._kill(process)
        if next_ready:
            with contextlib.suppress(AudioError):
                await self._start_ahead()

    async def _feed(self, process: asyncio.subprocess.Process, rate_hz: int) -> None:
        """Silence while the next sentence is not there yet, so the player never runs dry.

        A player reads whole periods (aplay: until its chunk is full), so when the pipe runs
        dry it holds the end of the last sentence until more comes, and everything after
        sounds up to a period later than this sink reckons: the echo canceller's reference
        jumped by ~55 ms on every streamed reply. Kept ``FEED_LEAD_S`` ahead, the player never
        waits, and what it plays is exactly what was written, at the sink's clock."""
        assert process.stdin is not None
        silence = bytes(SAMPLE_WIDTH * int(FEED_BLOCK_S * rate_hz))
        while process is self._process and not process.stdin.is_closing():
            ahead_s = self._plays_until_s - time.monotonic()
            if ahead_s > FEED_LEAD_S:
                await asyncio.sleep(ahead_s - FEED_LEAD_S)
                continue
            self._plays_until_s = max(self._plays_until_s, time.monotonic()) + FEED_BLOCK_S
            process.stdin.write(silence)

    async def _stop_feeding(self) -> None:
        feeder, self._feeder = self._feeder, None
        if feeder is not None:
            feeder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feeder

    async def _kill(self, process: asyncio.subprocess.Process) -> None:
        """SIGKILL to the command and what it started; drop unwritten audio; reap it, bounded."""
        if self._process is process:
            self._process = None
        if process.returncode is None:
            signal_process_group(process, signal.SIGKILL)
        if process.stdin is not None and not process.stdin.transport.is_closing():
            process.stdin.transport.abort()  # our end of the pipe, now, buffered audio dropped
        try:
            async with asyncio.timeout(KILL_WAIT_S):
                await process.wait()
        except TimeoutError:
            _LOGGER.warning("snd command %r (pid %d) did not exit after SIGKILL", self.command,
                            process.pid)


async def _first_read(transport: asyncio.WriteTransport, written: int) -> float:
    """The monotonic time a player began reading the ``written`` bytes just handed to it (what
    is left in its pipe and our buffer, polled), or the write's time when it cannot be told or
    the player has not read within ``FIRST_READ_WAIT_S``."""
    written_s = polled_s = time.monotonic()
    while True:
        unread = _unread(transport)
        now = time.monotonic()
        if unread is None:
            return written_s
        if unread < written:
            return (polled_s + now) / 2 if now > written_s else now  # read between two polls
        if now - written_s >= FIRST_READ_WAIT_S:
            return written_s
        polled_s = now
        await asyncio.sleep(FIRST_READ_POLL_S)


def _unread(transport: asyncio.WriteTransport) -> int | None:
    """Bytes written to a pipe transport that its reader has not read yet (Linux FIONREAD on the
    pipe, plus what the transport still holds), or None if that cannot be told."""
    pipe = transport.get_extra_info("pipe")
    if pipe is None or transport.is_closing():
        return None
    try:
        in_pipe = struct.unpack("i", fcntl.ioctl(pipe.fileno(), termios.FIONREAD, b"\0" * 4))[0]
    except (OSError, ValueError):
        return None
    return int(in_pipe) + transport.get_write_buffer_size()


async def _convert(converter: PcmConverter, pcm: Pcm) -> Pcm:
    """A long block (a whole sentence) is resampled on a worker thread, not on the event loop."""
    if pcm.seconds > CONVERT_ON_LOOP_MAX_S:
        return await asyncio.to_thread(converter.convert, pcm)
    return converter.convert(pcm)


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
            self._started = self.first_sound_s = time.monotonic()
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
        self._silent_from(time.monotonic())


def create_sink(config: AudioConfig) -> AudioSink | None:
    """The configured sink, or None when output is off."""
    if config.output == "speaker":
        return SpeakerSink(config.output_device, config.output_timeout_s)
    if config.output == "command":
        return CommandSink(config.snd_command, config.snd_rate_hz, config.output_timeout_s)
    if config.output == "dir":
        if not config.output_dir:
            raise AudioError("audio.output is 'dir' but audio.output_dir is empty")
        return WavDirSink(config.output_dir)
    return None


__all__ = ["AudioSink", "CommandSink", "SpeakerSink", "WavDirSink", "create_sink"]
