"""Text to Wyoming audio events for one connection: ``synthesize`` and the streaming variant.

Non-streaming: one ``audio-start``/``audio-stop`` pair per request (Home
Assistant stops reading at the first ``audio-stop``). Streaming: sentences are
cut from the arriving text with ``SentenceSplitter`` and spoken by one task as
soon as each is complete, under one ``audio-start`` for the whole stream (Home
Assistant builds one WAV header from it), then ``audio-stop`` and
``synthesize-stopped``. The full-text ``synthesize`` Home Assistant also sends
with a stream is not spoken twice. The turn service's ``speak(lead=True)`` says a
reply's first words on their own, so the first audio leaves sooner.

Every event goes out through ``send``, the handler's ``write_event``, which
bounds each write by the connection's write timeout: a client that stops
reading ends its connection, and closing ``TurnService.speak`` early lets go of
the TTS engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.event import Event
from wyoming.tts import Synthesize, SynthesizeStopped, SynthesizeVoice

from satellite.audio.pcm import Pcm
from satellite.errors import BusyError, InputError
from satellite.pipeline.sentences import SentenceSplitter
from satellite.pipeline.service import TurnService

_LOGGER = logging.getLogger(__name__)
SAMPLES_PER_CHUNK = 1024
Send = Callable[[Event], Awaitable[None]]


def audio_chunks(pcm: Pcm, samples_per_chunk: int = SAMPLES_PER_CHUNK) -> list[AudioChunk]:
    step = samples_per_chunk * pcm.width * pcm.channels
    return [AudioChunk(rate=pcm.rate_hz, width=pcm.width, channels=pcm.channels,
                       audio=pcm.audio[i:i + step]) for i in range(0, len(pcm.audio), step)]


@dataclass
class TtsStream:
    """A streaming synthesis: sentences queued as text arrives, spoken by one task."""

    voice: str | None
    speaker: int | None
    splitter: SentenceSplitter = field(default_factory=SentenceSplitter)
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    text: str = ""
    task: asyncio.Task[None] | None = None
    failed: bool = False
    speaking: bool = False  # a sentence's audio is being made or sent


class SpeechOut:
    def __init__(self, turns: TurnService, send: Send, on_busy: Callable[[BusyError], Awaitable[None]],
                 *, max_text_chars: int, peer: str = ""):
        self.turns = turns
        self._send = send
        self._on_busy = on_busy
        self.max_text_chars = max_text_chars
        self.peer = peer
        self._stream: TtsStream | None = None
        self._last_stream_text: str | None = None

    @property
    def streaming(self) -> bool:
        """A synthesis stream is open (between ``synthesize-start`` and its end)."""
        return self._stream is not None

    @property
    def speaking(self) -> bool:
        """The open stream has audio to make or send: the client is being answered."""
        stream = self._stream
        return stream is not None and not stream.failed and (stream.speaking or not stream.queue.empty())

    def voice(self, voice: SynthesizeVoice | None) -> tuple[str | None, int | None]:
        """(voice name, speaker id) from a request; InputError for what we do not have."""
        if voice is None:
            return None, None
        name = voice.name if isinstance(voice.name, str) and voice.name else None
        tts = self.turns.voice(name)
        speaker = voice.speaker
        if speaker is None or speaker == "":
            return name, None
        speakers = tts.voice.speakers
        if isinstance(speaker, str) and speaker in speakers:
            return name, speakers.index(speaker)
        if isinstance(speaker, int) or (isinstance(speaker, str) and speaker.isdigit()):
            number = int(speaker)
            if 0 <= number < max(1, len(speakers)):
                return name, number
        raise InputError(f"unknown speaker {speaker!r} for voice {tts.voice.name}")

    def check_text(self, text: str) -> None:
        if len(text) > self.max_text_chars:
            raise InputError(f"text longer than the limit of {self.max_text_chars} characters")

    async def synthesize(self, request: Synthesize) -> None:
        if self._stream is not None:
            _LOGGER.debug("full-text synthesize inside a stream ignored (already being spoken)")
            return
        if self._last_stream_text is not None and \
                " ".join(request.text.split()) == self._last_stream_text:
            self._last_stream_text = None
            _LOGGER.debug("full-text synthesize after a stream ignored (already spoken)")
            return
        self.check_text(request.text)
        voice, speaker = self.voice(request.voice)
        started = await self._speak(request.text, voice, speaker)
        if not started:  # nothing speakable: still one start/stop pair, as clients expect
            rate = self.turns.voice(voice).voice.sample_rate_hz
            await self._send(AudioStart(rate, 2, 1).event())
        await self._send(AudioStop().event())

    async def start(self, voice: SynthesizeVoice | None) -> None:
        await self.cancel()
        name, speaker = self.voice(voice)
        stream = TtsStream(name, speaker)
        stream.task = asyncio.create_task(self._speak_stream(stream), name="wyoming tts stream")
        self._stream = stream
        self._last_stream_text = None

    def feed(self, text: str) -> None:
        stream = self._stream
        if stream is None:
            raise InputError("synthesize-chunk before synthesize-start")
        if stream.failed:
            return
        stream.text += text
        if len(stream.text) > self.max_text_chars:
            stream.failed = True
            stream.queue.put_nowait(None)
            raise InputError(f"streamed text longer than the limit of {self.max_text_chars} characters")
        for sentence in stream.splitter.feed(text):
            stream.queue.put_nowait(sentence)

    async def stop(self) -> None:
        stream = self._stream
        if stream is None:
            raise InputError("synthesize-stop before synthesize-start")
        if not stream.failed:
            for sentence in stream.splitter.flush():
                stream.queue.put_nowait(sentence)
            stream.queue.put_nowait(None)
        assert stream.task is not None
        await stream.task
        self._stream = None
        if not stream.failed:
            self._last_stream_text = " ".join(stream.text.split())
            await self._send(SynthesizeStopped().event())

    async def cancel(self) -> None:
        """Drop an unfinished stream (client gone, or a new stream started)."""
        stream, self._stream = self._stream, None
        if stream is None or stream.task is None:
            return
        if stream.task.done():
            if not stream.task.cancelled() and stream.task.exception() is not None:
                _LOGGER.info("wyoming client %s: abandoned synthesis had failed: %s", self.peer,
                             stream.task.exception())
            return
        stream.task.cancel()
        try:
            await stream.task
        except asyncio.CancelledError:
            pass

    async def _speak_stream(self, stream: TtsStream) -> None:
        """Speak queued sentences as they come: one audio-start for the stream, one audio-stop."""
        started = False
        try:
            while (sentence := await stream.queue.get()) is not None:
                stream.speaking = True
                started = await self._speak(sentence, stream.voice, stream.speaker, started)
                stream.speaking = False
            if stream.failed:
                return
            if not started:
                rate = self.turns.voice(stream.voice).voice.sample_rate_hz
                await self._send(AudioStart(rate, 2, 1).event())
            await self._send(AudioStop().event())
        except BusyError as error:
            stream.failed = True
            await self._on_busy(error)
        except ConnectionError:
            stream.failed = True

    async def _speak(self, text: str, voice: str | None, speaker: int | None,
                     started: bool = False) -> bool:
        """Send the audio of ``text``; audio-start before the first chunk. True once started."""
        blocks = self.turns.speak(text, voice, speaker, lead=not started)
        async with contextlib.aclosing(blocks):
            async for pcm in blocks:
                if not started:
                    started = True
                    await self._send(AudioStart(pcm.rate_hz, pcm.width, pcm.channels).event())
                for chunk in audio_chunks(pcm):
                    await self._send(chunk.event())
        return started
