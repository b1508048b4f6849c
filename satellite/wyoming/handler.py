"""One Wyoming connection: each event type in one branch, each branch a call into the turn service.

Events are read with ``read_event_bounded`` (sizes checked before reading).
Expected failures become an ``error`` event on the same connection: a full
engine queue (code ``busy``), bad input (``bad-request``), a bad frame
(``bad-frame``/``too-large``, then the connection closes). Speech out
(``synthesize`` and its streaming variant) lives in ``SpeechOut``.

What one client can hold is bounded: a connection beyond ``max_connections``
gets ``error`` (code ``busy``) and is closed; one that sends nothing for
``idle_timeout_s`` while nothing of its own is being answered is closed; an
event it does not take within ``write_timeout_s`` aborts the connection, which
cancels its synthesis (freeing the TTS engine) and drops its buffered audio.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any, TypeVar

from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event, Eventable
from wyoming.handle import Handled, HandledChunk, HandledStart, HandledStop
from wyoming.info import Describe, SelectProgram
from wyoming.intent import Entity, Intent, NotRecognized, Recognize
from wyoming.ping import Ping, Pong
from wyoming.server import AsyncEventHandler
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop

from satellite.errors import BusyError, InputError, SatelliteError
from satellite.intents import IntentMatch
from satellite.pipeline.service import TurnService
from satellite.pipeline.turn import ReplySentence, TurnRequest, TurnResult, TurnTimings
from satellite.runtime.access import AllowList, peer_host
from satellite.runtime.state import RuntimeState, WyomingConnection
from satellite.wyoming.audio_in import AudioCollector, check_format
from satellite.wyoming.info import HANDLE_PROGRAM, INTENT_PROGRAM
from satellite.wyoming.limits import (
    ClientIdleError,
    ClientStalledError,
    ProtocolError,
    read_event_bounded,
    write_event_bounded,
)
from satellite.wyoming.speech_out import SpeechOut

_LOGGER = logging.getLogger(__name__)
LINGER_S = 1.0  # a refused client's request is read and dropped this long, so it sees the error
E = TypeVar("E", bound=Eventable)
KNOWN_TYPES = frozenset({
    "describe", "select-program", "ping", "transcribe", "audio-start", "audio-chunk", "audio-stop",
    "synthesize", "synthesize-start", "synthesize-chunk", "synthesize-stop", "recognize",
    "transcript",
})
# The request an event belongs to, as /status shows it; other events leave it as it is.
REQUEST_OF = {
    "describe": "describe", "transcribe": "transcribe", "audio-start": "transcribe",
    "audio-chunk": "transcribe", "audio-stop": "transcribe", "synthesize": "synthesize",
    "synthesize-start": "synthesize-stream", "synthesize-chunk": "synthesize-stream",
    "synthesize-stop": "synthesize-stream", "recognize": "recognize", "transcript": "transcript",
}


@dataclass(frozen=True)
class ConnectionLimits:
    max_audio_s: float
    max_text_chars: int
    max_event_bytes: int
    body_timeout_s: float = 10.0
    write_timeout_s: float = 10.0
    idle_timeout_s: float = 120.0
    max_connections: int = 16


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


class RefusalLog:
    """Refused connections are logged once per ``every_s``, with how many went unsaid."""

    def __init__(self, every_s: float = 60.0):
        self.every_s = every_s
        self._last_s: float | None = None
        self._unsaid = 0

    def note(self, now_s: float) -> int | None:
        """The count to log now, or None to stay quiet."""
        if self._last_s is not None and now_s - self._last_s < self.every_s:
            self._unsaid += 1
            return None
        unsaid, self._unsaid, self._last_s = self._unsaid, 0, now_s
        return unsaid


class WyomingHandler(AsyncEventHandler):
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *,
                 turns: TurnService, state: RuntimeState, info: Event, limits: ConnectionLimits,
                 refusals: RefusalLog | None = None, allow: AllowList | None = None):
        super().__init__(reader, writer)
        self.allow = allow
        self.turns = turns
        self.state = state
        self.info = info
        self.limits = limits
        self.refusals = refusals or RefusalLog()
        peer = writer.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else "local"
        self.host = peer_host(peer)
        self.program: str | None = None
        self._language: str | None = None
        self._audio: AudioCollector | None = None
        self.connection: WyomingConnection | None = None  # registered in the state once admitted
        self._task: asyncio.Task[None] | None = None
        self._waiting_for_client = False
        self._writes_pending = 0
        self._stalled = False
        self.speech = SpeechOut(turns, self.write_event, self._busy_in_stream, peer=self.peer,
                                max_text_chars=limits.max_text_chars)

    # -- the connection --------------------------------------------------------------------------

    async def run(self) -> None:
        """Like the library's loop, but bounded: a connection cap, idle and write timeouts, checked frames."""
        if self.allow is not None and not self.allow.allows(self.host):
            await self._refuse_address()
            return
        if len(self.state.wyoming_connections) >= self.limits.max_connections:
            await self._refuse()
            return
        self._is_running = True
        self._task = asyncio.current_task()
        connection = self.connection = self.state.open_wyoming_connection(self.peer)
        _LOGGER.debug("wyoming client %s connected", self.peer)
        try:
            while self._is_running:
                try:
                    event = await self._next_event()
                except ProtocolError as error:
                    _LOGGER.warning("wyoming client %s: %s; closing", self.peer, error.text)
                    self.state.metrics.errors.labels(kind="wyoming_protocol").inc()
                    await self._send_error(error.text, error.code)
                    break
                except ClientIdleError as error:
                    _LOGGER.info("wyoming client %s idle (%s); closing", self.peer, error)
                    break
                if event is None or not await self.handle_event(event):
                    break
        except ClientStalledError:
            _LOGGER.debug("wyoming client %s: request ended by the write timeout", self.peer)
        except ConnectionError as error:
            _LOGGER.info("wyoming client %s went away (%s)", self.peer, type(error).__name__)
        finally:
            self.state.close_wyoming_connection(connection)
            await self.disconnect()
            await self._close()

    async def _next_event(self) -> Event | None:
        """The next event. While a synthesis stream is still speaking, a silent client is not idle."""
        self._waiting_for_client = True
        try:
            while True:
                try:
                    return await read_event_bounded(
                        self.reader, self.limits.max_event_bytes, self.limits.body_timeout_s,
                        self.limits.idle_timeout_s)
                except ClientIdleError:
                    if not self.speech.speaking:
                        raise
        finally:
            self._waiting_for_client = False

    async def stop(self) -> None:
        """Shutdown: a connection between requests closes now; one answering a request finishes
        it (the service gives it a grace, then cancels it)."""
        self._is_running = False
        if self._waiting_for_client and not self.speech.speaking and self._task is not None:
            self._task.cancel()

    async def _refuse(self) -> None:
        """One connection too many: one ``busy`` error, then closed; the others are not touched."""
        limit = self.limits.max_connections
        unsaid = self.refusals.note(time.monotonic())
        if unsaid is not None:  # a flood of clients is not a flood of log lines
            _LOGGER.warning("wyoming client %s refused: %d connections open (limit %d); %d more "
                            "refused since the last warning", self.peer,
                            len(self.state.wyoming_connections), limit, unsaid)
        self.state.metrics.errors.labels(kind="wyoming_refused").inc()
        await self._send_error(f"busy: too many connections (limit {limit}), try again later", "busy")
        await self._close(linger=True)

    async def _refuse_address(self) -> None:
        """A host outside ``wyoming.allow_from``: one error, then closed."""
        unsaid = self.refusals.note(time.monotonic())
        if unsaid is not None:
            _LOGGER.warning("wyoming client %s refused: not in wyoming.allow_from (%s); %d more "
                            "refused since the last warning", self.peer, self.allow.describe()
                            if self.allow is not None else "", unsaid)
        self.state.metrics.connections_refused.labels(port="wyoming", reason="address").inc()
        await self._send_error("this address may not connect (wyoming.allow_from)", "forbidden")
        await self._close(linger=True)

    async def _close(self, linger: bool = False) -> None:
        """Close after what is buffered is sent; a peer that does not take it in time is cut off.

        ``linger``: the peer may still be sending (a refused client's request). Closing a
        socket with unread data resets the connection, and the peer would lose the error
        just sent; so shut our side first and read and drop what it sends for a moment.
        """
        if linger and self.writer.can_write_eof():
            try:
                self.writer.write_eof()
                async with asyncio.timeout(LINGER_S):
                    while await self.reader.read(65536):
                        pass
            except (TimeoutError, OSError, RuntimeError):
                pass  # it did not finish sending in time, or is gone: close all the same
        self.writer.close()
        try:
            async with asyncio.timeout(self.limits.write_timeout_s):
                await self.writer.wait_closed()
        except TimeoutError:
            self.writer.transport.abort()
        except OSError as error:  # the peer reset the connection: it is closed all the same
            _LOGGER.debug("wyoming client %s: %s while closing", self.peer, type(error).__name__)

    async def disconnect(self) -> None:
        """Free what an unfinished request holds: buffered audio, a running synthesis."""
        if self._audio is not None:
            _LOGGER.info("wyoming client %s left mid-transcription (%.1f s of audio dropped)",
                         self.peer, self._audio.seconds)
            self._audio = None
        await self.speech.cancel()

    async def handle_event(self, event: Event) -> bool:
        """Dispatch one event. A failed request is answered with ``error`` and the connection closed:

        Home Assistant's readers wait for a transcript or audio-stop and skip ``error``
        events, so only a close ends their wait at once.
        """
        label = event.type if event.type in KNOWN_TYPES else "unknown"
        self.state.metrics.wyoming_events.labels(type=label).inc()
        connection = self.connection
        if connection is not None:
            connection.request = REQUEST_OF.get(event.type, connection.request)
        try:
            return await self._answer(event)
        finally:
            if connection is not None:
                connection.request = self._ongoing_request()

    def _ongoing_request(self) -> str | None:
        """The request still open between events: audio being received, or a synthesis stream."""
        if self._audio is not None:
            return "transcribe"
        return "synthesize-stream" if self.speech.streaming else None

    async def _answer(self, event: Event) -> bool:
        try:
            return await self._dispatch(event)
        except BusyError as error:
            await self._busy(error)
        except InputError as error:
            _LOGGER.info("wyoming client %s: %s", self.peer, error)
            self.state.metrics.errors.labels(kind="wyoming_input").inc()
            await self._send_error(str(error), "bad-request")
        except ConnectionError:
            raise
        except SatelliteError as error:  # expected: a remote down, an engine broken on this machine
            failure = self.turns.record_failure("wyoming", error)
            await self._send_error(str(error), failure.code)
        except Exception:  # unexpected: logged with its traceback once, answered, this client closed
            _LOGGER.exception("wyoming client %s: %s event failed", self.peer, event.type)
            self.state.metrics.errors.labels(kind="wyoming_internal").inc()
            await self._send_error(f"internal error handling {event.type}", "internal")
        return False

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
            await self.speech.synthesize(parse(Synthesize, event))
        elif SynthesizeStart.is_type(event.type):
            await self.speech.start(parse(SynthesizeStart, event).voice)
        elif SynthesizeChunk.is_type(event.type):
            self.speech.feed(parse(SynthesizeChunk, event).text)
        elif SynthesizeStop.is_type(event.type):
            await self.speech.stop()
        elif Recognize.is_type(event.type):
            recognize = parse(Recognize, event)
            await self._send_intent(recognize.text, recognize.context,
                                    await self._recognize(recognize.text))
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

    def _audio_chunk(self, chunk: AudioChunk) -> None:
        if self._audio is None:
            raise InputError("audio-chunk before audio-start")
        try:
            self._audio.add(chunk.audio, chunk.rate, chunk.width, chunk.channels)
        except InputError:
            self._audio = None  # the utterance is dropped, its memory freed
            raise

    async def _transcribe(self) -> None:
        if self._audio is None:
            raise InputError("audio-stop without audio-start")
        pcm, self._audio = self._audio.pcm(), None
        language = self._language or self.turns.config.stt.language or None
        self._language = None
        transcript = await self.turns.transcribe(pcm)
        text = transcript.text.strip()
        doubt = self.turns.doubt(transcript)
        if doubt:  # words nobody said are not handed on: the client hears nothing was understood
            _LOGGER.info("wyoming %s: speech to text doubts %r (%s); empty transcript", self.peer,
                         text, doubt)
            text = ""
        language = transcript.language or language
        _LOGGER.info("wyoming %s transcribed %.1f s: %r", self.peer, pcm.seconds, text)
        # One final transcript: Whisper has no partial results to stream (info.py does not
        # advertise transcript streaming), and Home Assistant reads up to this event.
        await self.write_event(Transcript(text=text, language=language).event())

    # -- intent and handle ------------------------------------------------------------------------

    async def _recognize(self, text: str) -> IntentMatch | None:
        self.speech.check_text(text)
        return await self.turns.recognize(text)

    async def _send_intent(self, text: str, context: dict[str, Any] | None,
                           match: IntentMatch | None) -> None:
        if match is None or match.unknown is not None:  # no device by that name: nothing to do
            await self.write_event(NotRecognized(text=text, context=context).event())
            return
        entities = [Entity(name=name, value=value) for name, value in match.entities.items()]
        await self.write_event(Intent(name=match.name, entities=entities,
                                      text=match.reply or None, context=context).event())

    async def _transcript(self, transcript: Transcript) -> None:
        """Home Assistant's question: a home command → ``intent`` (HA acts on it); else the LLM."""
        text = transcript.text
        self.speech.check_text(text)
        if self.program == INTENT_PROGRAM:
            await self._send_intent(text, transcript.context, await self._recognize(text))
            return
        if self.program != HANDLE_PROGRAM:
            match = await self._recognize(text)
            if match is not None and match.unknown is None:  # (an unknown device: the turn
                # service says why it cannot be switched)
                await self._send_intent(text, transcript.context, match)
                self.turns.record(TurnRequest(text, door="wyoming"), TurnResult(
                    text, match.reply or match.name, TurnTimings(source="intent")))
                return
        await self._handle(transcript)

    async def _handle(self, transcript: Transcript) -> None:
        """The conversation agent: the turn service's reply, sentence by sentence."""
        context = transcript.context if isinstance(transcript.context, dict) else {}
        conversation_id = context.get("conversation_id")
        request = TurnRequest(
            transcript.text, door="wyoming", speak=False,
            conversation=f"wyoming:{conversation_id}" if isinstance(conversation_id, str) else "",
            intents=self.program == HANDLE_PROGRAM)  # otherwise _transcript() asked hassil already
        await self.write_event(HandledStart(context=transcript.context).event())
        result: TurnResult | None = None
        async with contextlib.aclosing(self.turns.answer(request)) as answer:
            async for event in answer:
                if isinstance(event, ReplySentence):
                    await self.write_event(HandledChunk(text=event.text + " ").event())
                elif isinstance(event, TurnResult):
                    result = event
        assert result is not None
        await self.write_event(Handled(text=result.reply, context=transcript.context).event())
        await self.write_event(HandledStop().event())

    # -- writing -----------------------------------------------------------------------------------

    async def write_event(self, event: Event) -> None:
        """Write one event to the client (SpeechOut's too), bounded by ``write_timeout_s``.

        A client that has not taken it in time is cut off: the connection is aborted and
        ClientStalledError raised, here and in any other write still waiting.
        """
        if self._stalled:
            raise ClientStalledError("connection aborted: the client stopped reading")
        connection = self.connection
        self._writes_pending += 1
        if connection is not None and connection.write_pending_since_s is None:
            connection.write_pending_since_s = self.state.clock()
        try:
            await write_event_bounded(event, self.writer, self.limits.write_timeout_s)
        except ClientStalledError as error:
            self._abort_stalled(error)
            raise
        finally:
            self._writes_pending -= 1
            if connection is not None and self._writes_pending == 0:
                connection.write_pending_since_s = None

    def _abort_stalled(self, error: ClientStalledError) -> None:
        """Cut off a client that stopped reading: abort (no goodbye it would not read either).

        The read loop then sees the end of the stream, and ``disconnect`` cancels the
        synthesis and drops the audio this connection held.
        """
        if self._stalled:
            return
        self._stalled = True
        request = self.connection.request if self.connection is not None else None
        released = (f", its {request} request cancelled" if request else "") + (
            f", {self._audio.seconds:.1f} s of its audio dropped" if self._audio is not None else "")
        _LOGGER.warning("wyoming client %s stopped reading (%s); connection aborted%s", self.peer, error,
                        released)
        self.state.metrics.errors.labels(kind="wyoming_client_stalled").inc()
        self.writer.transport.abort()

    async def _busy(self, error: BusyError) -> None:
        _LOGGER.info("wyoming client %s: %s", self.peer, error)
        self.state.metrics.errors.labels(kind="wyoming_busy").inc()
        await self._send_error(f"busy: {error}", "busy")

    async def _busy_in_stream(self, error: BusyError) -> None:
        await self._busy(error)
        await self.stop()  # the stream's request has failed: end it as handle_event does

    async def _send_error(self, text: str, code: str) -> None:
        try:
            await self.write_event(Error(text=text, code=code).event())
        except ConnectionError:
            _LOGGER.debug("could not tell %s about the error: connection gone", self.peer)
