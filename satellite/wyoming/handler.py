"""One Wyoming connection: each event type in one branch, each branch a call into the pipeline.

Events are read with ``read_event_bounded`` (sizes checked before reading).
Expected failures become an ``error`` event on the same connection: a full
engine queue (code ``busy``), bad input (``bad-request``), a bad frame
(``bad-frame``/``too-large``, then the connection closes). Streaming TTS runs
in its own task, so text chunks keep being read while earlier sentences are
spoken; Home Assistant's duplicate full-text ``synthesize`` is not spoken twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from wyoming.asr import Transcribe, Transcript, TranscriptChunk, TranscriptStart, TranscriptStop
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event, Eventable
from wyoming.handle import Handled, HandledChunk, HandledStart, HandledStop
from wyoming.info import Describe, SelectProgram
from wyoming.intent import Entity, Intent, NotRecognized, Recognize
from wyoming.ping import Ping, Pong
from wyoming.server import AsyncEventHandler
from wyoming.tts import (
    Synthesize,
    SynthesizeChunk,
    SynthesizeStart,
    SynthesizeStop,
    SynthesizeStopped,
    SynthesizeVoice,
)

from satellite.audio.pcm import Pcm
from satellite.errors import BusyError, InputError
from satellite.intents import IntentMatch, IntentRecognizer
from satellite.pipeline.sentences import SentenceSplitter
from satellite.pipeline.turn import TurnTimings, VoicePipeline
from satellite.runtime.state import RuntimeState
from satellite.wyoming.audio_in import AudioCollector, check_format
from satellite.wyoming.info import HANDLE_PROGRAM, INTENT_PROGRAM
from satellite.wyoming.lead import split_lead
from satellite.wyoming.limits import ProtocolError, read_event_bounded

_LOGGER = logging.getLogger(__name__)
E = TypeVar("E", bound=Eventable)
SAMPLES_PER_CHUNK = 1024
KNOWN_TYPES = frozenset({
    "describe", "select-program", "ping", "transcribe", "audio-start", "audio-chunk", "audio-stop",
    "synthesize", "synthesize-start", "synthesize-chunk", "synthesize-stop", "recognize",
    "transcript",
})


@dataclass(frozen=True)
class ConnectionLimits:
    max_audio_s: float
    max_text_chars: int
    max_event_bytes: int
    body_timeout_s: float = 10.0
    lead_words: int = 0


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


def parse(cls: type[E], event: Event) -> E:
    """``cls.from_event`` with a wrong or missing field turned into InputError."""
    for name in ("voice", "context"):
        value = event.data.get(name)
        if value is not None and not isinstance(value, dict):
            raise InputError(f"bad {event.type} event: '{name}' must be an object")
    try:
        parsed = cls.from_event(event)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise InputError(f"bad {event.type} event: {type(error).__name__} {error}") from None
    for name in ("text",):
        value = getattr(parsed, name, None)
        if value is not None and not isinstance(value, str):
            raise InputError(f"bad {event.type} event: '{name}' must be a string")
    return parsed  # type: ignore[return-value]


def audio_chunks(pcm: Pcm, samples_per_chunk: int = SAMPLES_PER_CHUNK) -> list[AudioChunk]:
    step = samples_per_chunk * pcm.width * pcm.channels
    return [AudioChunk(rate=pcm.rate_hz, width=pcm.width, channels=pcm.channels,
                       audio=pcm.audio[i:i + step]) for i in range(0, len(pcm.audio), step)]


class WyomingHandler(AsyncEventHandler):
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *,
                 pipeline: VoicePipeline, state: RuntimeState, info: Event,
                 recognizer: IntentRecognizer | None, limits: ConnectionLimits,
                 clock: Callable[[], float] = time.perf_counter):
        super().__init__(reader, writer)
        self.pipeline = pipeline
        self.state = state
        self.info = info
        self.recognizer = recognizer
        self.limits = limits
        self._clock = clock
        peer = writer.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else "local"
        self.program: str | None = None
        self._language: str | None = None
        self._audio: AudioCollector | None = None
        self._stray_audio = False
        self._stream: TtsStream | None = None
        self._last_stream_text: str | None = None

    # -- the connection --------------------------------------------------------------------------

    async def run(self) -> None:
        """Like the library's loop, but reading with bounds and answering bad frames."""
        self._is_running = True
        self.state.metrics.wyoming_connections.inc()
        _LOGGER.debug("wyoming client %s connected", self.peer)
        try:
            while self._is_running:
                try:
                    event = await read_event_bounded(self.reader, self.limits.max_event_bytes,
                                                     self.limits.body_timeout_s)
                except ProtocolError as error:
                    _LOGGER.warning("wyoming client %s: %s; closing", self.peer, error.text)
                    self.state.metrics.errors.labels(kind="wyoming_protocol").inc()
                    await self._send_error(error.text, error.code)
                    break
                if event is None or not await self.handle_event(event):
                    break
        except ConnectionError as error:
            _LOGGER.info("wyoming client %s went away (%s)", self.peer, type(error).__name__)
        finally:
            self.state.metrics.wyoming_connections.dec()
            await self.disconnect()
            self.writer.close()

    async def disconnect(self) -> None:
        """Free what an unfinished request holds: buffered audio, a running synthesis."""
        if self._audio is not None:
            _LOGGER.info("wyoming client %s left mid-transcription (%.1f s of audio dropped)",
                         self.peer, self._audio.seconds)
            self._audio = None
        await self._cancel_stream()

    async def handle_event(self, event: Event) -> bool:
        label = event.type if event.type in KNOWN_TYPES else "unknown"
        self.state.metrics.wyoming_events.labels(type=label).inc()
        try:
            return await self._dispatch(event)
        except BusyError as error:
            _LOGGER.info("wyoming client %s: %s", self.peer, error)
            self.state.metrics.errors.labels(kind="wyoming_busy").inc()
            await self._send_error(f"busy: {error}", "busy")
        except InputError as error:
            _LOGGER.info("wyoming client %s: %s", self.peer, error)
            self.state.metrics.errors.labels(kind="wyoming_input").inc()
            await self._send_error(str(error), "bad-request")
        except ConnectionError:
            raise
        except Exception:  # unexpected: logged with its traceback, answered, connection kept
            _LOGGER.exception("wyoming client %s: %s event failed", self.peer, event.type)
            self.state.metrics.errors.labels(kind="wyoming_internal").inc()
            await self._send_error(f"internal error handling {event.type}", "internal")
        return True

    async def _dispatch(self, event: Event) -> bool:
        if Describe.is_type(event.type):
            await self.write_event(self.info)  # built once at start: never waits for an engine
        elif SelectProgram.is_type(event.type):
            self.program = parse(SelectProgram, event).name
        elif Ping.is_type(event.type):
            await self.write_event(Pong(text=parse(Ping, event).text).event())
        elif Transcribe.is_type(event.type):
            self._language = parse(Transcribe, event).language
        elif AudioStart.is_type(event.type):
            self._audio_start(parse(AudioStart, event))
        elif AudioChunk.is_type(event.type):
            self._audio_chunk(parse(AudioChunk, event))
        elif AudioStop.is_type(event.type):
            await self._transcribe()
        elif Synthesize.is_type(event.type):
            await self._synthesize(parse(Synthesize, event))
        elif SynthesizeStart.is_type(event.type):
            await self._stream_start(parse(SynthesizeStart, event))
        elif SynthesizeChunk.is_type(event.type):
            self._stream_text(parse(SynthesizeChunk, event).text)
        elif SynthesizeStop.is_type(event.type):
            await self._stream_stop()
        elif Recognize.is_type(event.type):
            recognize = parse(Recognize, event)
            await self._send_intent(recognize.text, recognize.context)
        elif Transcript.is_type(event.type):
            await self._transcript(parse(Transcript, event))
        else:
            _LOGGER.info("wyoming client %s sent an unknown event type %r", self.peer, event.type[:64])
            await self._send_error(f"unknown event type '{event.type}'", "unknown-event")
        return True

    # -- asr ---------------------------------------------------------------------------------------

    def _audio_start(self, start: AudioStart) -> None:
        check_format(start.rate, start.width, start.channels)  # chunks carry their own format too
        self._audio = AudioCollector(self.limits.max_audio_s)
        self._stray_audio = False

    def _audio_chunk(self, chunk: AudioChunk) -> None:
        if self._audio is None:
            if self._stray_audio:
                return  # said once for this run of stray chunks
            self._stray_audio = True
            raise InputError("audio-chunk before audio-start")
        try:
            self._audio.add(chunk.audio, chunk.rate, chunk.width, chunk.channels)
        except InputError:
            self._audio = None
            self._stray_audio = True  # the rest of this utterance is dropped quietly
            raise

    async def _transcribe(self) -> None:
        if self._audio is None:
            if self._stray_audio:
                self._stray_audio = False
                return
            raise InputError("audio-stop without audio-start")
        pcm, self._audio = self._audio.pcm(), None
        language = self._language or self.pipeline.config.stt.language or None
        self._language = None
        transcript = await self.pipeline.transcribe(pcm)
        text = transcript.text.strip()
        language = transcript.language or language
        _LOGGER.info("wyoming %s transcribed %.1f s: %r", self.peer, pcm.seconds, text)
        await self.write_event(TranscriptStart(language=language).event())
        if text:
            await self.write_event(TranscriptChunk(text=text).event())
        await self.write_event(Transcript(text=text, language=language).event())
        await self.write_event(TranscriptStop().event())

    # -- tts ---------------------------------------------------------------------------------------

    def _voice(self, voice: SynthesizeVoice | None) -> tuple[str | None, int | None]:
        """(voice name, speaker id) from a request; InputError for what we do not have."""
        if voice is None:
            return None, None
        name = voice.name if isinstance(voice.name, str) and voice.name else None
        tts = self.pipeline.voice(name)
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

    def _check_text(self, text: str) -> None:
        if len(text) > self.limits.max_text_chars:
            raise InputError(f"text longer than the limit of {self.limits.max_text_chars} characters")

    async def _synthesize(self, request: Synthesize) -> None:
        if self._stream is not None:
            _LOGGER.debug("full-text synthesize inside a stream ignored (already being spoken)")
            return
        if self._last_stream_text is not None and \
                " ".join(request.text.split()) == self._last_stream_text:
            self._last_stream_text = None
            _LOGGER.debug("full-text synthesize after a stream ignored (already spoken)")
            return
        self._check_text(request.text)
        voice, speaker = self._voice(request.voice)
        started = await self._speak(split_lead(request.text, self.limits.lead_words), voice, speaker)
        if not started:  # nothing speakable: still one start/stop pair, as clients expect
            rate = self.pipeline.voice(voice).voice.sample_rate_hz
            await self.write_event(AudioStart(rate, 2, 1).event())
        await self.write_event(AudioStop().event())

    async def _stream_start(self, start: SynthesizeStart) -> None:
        await self._cancel_stream()
        voice, speaker = self._voice(start.voice)
        stream = TtsStream(voice, speaker)
        stream.task = asyncio.create_task(self._speak_stream(stream), name="wyoming tts stream")
        self._stream = stream
        self._last_stream_text = None

    def _stream_text(self, text: str) -> None:
        stream = self._stream
        if stream is None:
            raise InputError("synthesize-chunk before synthesize-start")
        if stream.failed:
            return
        stream.text += text
        if len(stream.text) > self.limits.max_text_chars:
            stream.failed = True
            stream.queue.put_nowait(None)
            raise InputError(f"streamed text longer than the limit of "
                             f"{self.limits.max_text_chars} characters")
        for sentence in stream.splitter.feed(text):
            stream.queue.put_nowait(sentence)

    async def _stream_stop(self) -> None:
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
            await self.write_event(SynthesizeStopped().event())

    async def _speak_stream(self, stream: TtsStream) -> None:
        """Speak queued sentences as they come: one audio-start for the stream, one audio-stop."""
        started = False
        try:
            while (sentence := await stream.queue.get()) is not None:
                parts = [sentence] if started else split_lead(sentence, self.limits.lead_words)
                started = await self._speak(parts, stream.voice, stream.speaker, started)
            if stream.failed:
                return
            if not started:
                rate = self.pipeline.voice(stream.voice).voice.sample_rate_hz
                await self.write_event(AudioStart(rate, 2, 1).event())
            await self.write_event(AudioStop().event())
        except BusyError as error:
            stream.failed = True
            self.state.metrics.errors.labels(kind="wyoming_busy").inc()
            _LOGGER.info("wyoming client %s: %s", self.peer, error)
            await self._send_error(f"busy: {error}", "busy")
        except ConnectionError:
            stream.failed = True

    async def _speak(self, parts: list[str], voice: str | None, speaker: int | None,
                     started: bool = False) -> bool:
        """Send the audio of ``parts`` in order; audio-start before the first chunk. True once started."""
        for part in parts:
            async for pcm in self.pipeline.speak(part, voice, speaker):
                if not started:
                    started = True
                    await self.write_event(AudioStart(pcm.rate_hz, pcm.width, pcm.channels).event())
                for chunk in audio_chunks(pcm):
                    await self.write_event(chunk.event())
        return started

    async def _cancel_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None and stream.task is not None and not stream.task.done():
            stream.task.cancel()
            try:
                await stream.task
            except asyncio.CancelledError:
                pass

    # -- intent and handle ------------------------------------------------------------------------

    def _recognize(self, text: str) -> IntentMatch | None:
        if self.recognizer is None:
            return None
        self._check_text(text)
        return self.recognizer.recognize(text)

    async def _send_intent(self, text: str, context: dict[str, Any] | None) -> None:
        match = self._recognize(text)
        if match is None:
            await self.write_event(NotRecognized(text=text, context=context).event())
            return
        entities = [Entity(name=name, value=value) for name, value in match.entities.items()]
        await self.write_event(Intent(name=match.name, entities=entities,
                                      text=match.reply or None, context=context).event())

    async def _transcript(self, transcript: Transcript) -> None:
        """Home Assistant's question: a home command → ``intent`` (HA acts on it); else the LLM."""
        text = transcript.text
        self._check_text(text)
        if self.program == INTENT_PROGRAM:
            await self._send_intent(text, transcript.context)
            return
        if self.program != HANDLE_PROGRAM:
            match = self._recognize(text)
            if match is not None:
                await self._send_intent(text, transcript.context)
                self.state.record_turn("wyoming", text, match.reply or match.name, "intent", {})
                return
        await self._handle(transcript)

    async def _handle(self, transcript: Transcript) -> None:
        context = transcript.context if isinstance(transcript.context, dict) else {}
        conversation_id = context.get("conversation_id")
        conversation = f"wyoming:{conversation_id}" if isinstance(conversation_id, str) else ""
        timings = TurnTimings()
        t0 = self._clock()
        sentences: list[str] = []
        await self.write_event(HandledStart(context=transcript.context).event())
        async for sentence in self.pipeline.reply(transcript.text, conversation,
                                                  timings=timings, t0=t0):
            sentences.append(sentence.text)
            await self.write_event(HandledChunk(text=sentence.text + " ").event())
        timings.total_ms = (self._clock() - t0) * 1000.0
        reply = " ".join(sentences)
        await self.write_event(Handled(text=reply, context=transcript.context).event())
        await self.write_event(HandledStop().event())
        self.state.record_turn("wyoming", transcript.text, reply, timings.source, timings.as_dict())
        _LOGGER.info("wyoming %s handled %r → %r (%s, %.0f ms)", self.peer, transcript.text, reply,
                     timings.source, timings.total_ms)

    # -- writing -----------------------------------------------------------------------------------

    async def _send_error(self, text: str, code: str) -> None:
        try:
            await self.write_event(Error(text=text, code=code).event())
        except ConnectionError:
            _LOGGER.debug("could not tell %s about the error: connection gone", self.peer)
