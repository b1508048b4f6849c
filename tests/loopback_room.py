"""A room for tests: the microphone hears the person and, in real time, the box's own speaker."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import numpy as np

from satellite.audio import Pcm, to_stt_format
from satellite.audio.sinks import WavDirSink
from satellite.audio.sources import AudioSource


class LoopbackRoom(AudioSource):
    """A room: the microphone hears the question, then whatever the speaker plays (its echo)
    mixed with whatever the user says meanwhile, in real time.

    It closes (end of input) ``tail_s`` after the last sound, and not before the speaker has
    played something (however slow the reply is to come).
    """

    CHUNK = 2048  # bytes: 64 ms at 16 kHz
    ECHO_GAIN = 0.2  # the box's own speaker is heard ~14 dB below the person talking to it

    def __init__(self, question: Pcm, tail_s: float):
        self._heard_anything = False
        self.name = "loopback"
        self._voice = question.audio
        self._echo = b""
        self.echoed_s = 0.0
        self._tail_chunks = int(tail_s / 0.064)
        self._tail = self._tail_chunks
        self._t0: float | None = None
        self._sent = 0
        self._echo_end_s = 0.0

    def hear(self, pcm: Pcm) -> float:
        """The speaker played this: the microphone hears it as it plays. Returns the monotonic
        time it starts to sound, on the microphone's capture clock (what a sink's clock tells
        the echo canceller)."""
        self._heard_anything = True
        audio = to_stt_format(pcm).audio
        if self._echo:
            start_s = self._echo_end_s  # right after what is still to be heard
        else:  # from the start of the next chunk read (chunk k is captured over the 64 ms before
            # it is returned at t0 + k * 64 ms)
            assert self._t0 is not None, "the room is heard before the speaker plays"
            start_s = self._t0 + (self._sent - 1) * 0.064
        self._echo += audio
        self._echo_end_s = start_s + len(audio) / 32000
        return start_s

    def stop_echo(self) -> None:
        """The speaker stopped: what it had not played yet is never heard."""
        self._echo = b""

    def say(self, pcm: Pcm) -> None:
        """The user speaks (over the speaker, if it is playing)."""
        self._voice += to_stt_format(pcm).audio

    async def read(self) -> Pcm | None:
        loop = asyncio.get_running_loop()
        self._t0 = loop.time() if self._t0 is None else self._t0
        delay = self._t0 + self._sent * 0.064 - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        self._sent += 1
        voice, self._voice = self._voice[:self.CHUNK], self._voice[self.CHUNK:]
        echo, self._echo = self._echo[:self.CHUNK], self._echo[self.CHUNK:]
        self.echoed_s += len(echo) / 32000
        if voice or echo:
            if self._heard_anything:
                self._tail = self._tail_chunks  # the room stays open until the sound has died down
            mixed = (np.frombuffer(voice.ljust(self.CHUNK, b"\0"), np.int16).astype(np.int32)
                     + self.ECHO_GAIN * np.frombuffer(echo.ljust(self.CHUNK, b"\0"), np.int16))
            return Pcm(np.clip(mixed, -32768, 32767).astype(np.int16).tobytes(), 16000)
        if self._tail <= 0:
            return None
        if self._heard_anything:
            self._tail -= 1
        return Pcm(bytes(self.CHUNK), 16000)


class SpeakerInTheRoom(WavDirSink):
    """The box's speaker: what it plays sounds in the room, and it tells its watchers (the echo
    canceller) when each block sounds, as a real speaker's clock does."""

    audible = True

    def __init__(self, directory: Path, room: LoopbackRoom):
        super().__init__(directory, realtime=True)
        self.room = room

    async def play(self, pcm: Pcm) -> None:
        await super().play(pcm)
        self._sounds_at(pcm, self.room.hear(pcm))

    async def abort(self) -> None:
        await super().abort()
        self.room.stop_echo()


READY_WAIT_S = 6


class SpeakerThatGetsInterrupted(SpeakerInTheRoom):
    """Plays in real time into the room (its echo reaches the mic); ``after_s`` into the
    reply, the user speaks over it (``interruption``), and not before ``ready()`` (for example
    once the echo canceller has measured the echo's delay)."""

    def __init__(self, directory: Path, room: LoopbackRoom, interruption: Pcm | None,
                 after_s: float = 1.5):
        super().__init__(directory, room)
        self.interruption = interruption
        self.after_s = after_s
        self.ready: Callable[[], bool] = lambda: True
        self.said_at_s: float | None = None  # seconds into the reply when the user spoke
        self._saying: asyncio.Task[None] | None = None

    async def play(self, pcm: Pcm) -> None:
        await super().play(pcm)
        if self.interruption is not None:
            self._saying = asyncio.get_running_loop().create_task(self._say(self.interruption))
            self.interruption = None

    async def _say(self, interruption: Pcm) -> None:
        began = asyncio.get_running_loop().time()
        await asyncio.sleep(self.after_s)
        for _ in range(READY_WAIT_S * 20):  # (said anyway after that: the test's asserts tell)
            if self.ready():
                break
            await asyncio.sleep(0.05)
        self.said_at_s = asyncio.get_running_loop().time() - began
        self.room.say(interruption)
