"""One connection to the satellite port: Home Assistant's events, each in one branch.

Events are read with the provider's bounded reader (sizes checked first). What
the box sends goes through this connection's outbox: one writer task writes in
order, each event within ``write_timeout_s``, so the room's microphone, the
answer player and the pongs never wait on a slow peer; a peer that stops taking
events, or lets the outbox fill, is cut off.

A connection becomes the satellite's (``SatelliteLink.attach``) when it sends
``run-satellite``; Home Assistant also opens short connections that only ask
``describe`` (setting up the config entry), which must not replace it, and
which may do nothing else: audio, timers and pipeline events are taken only from
the connection that runs the satellite. A ``run-satellite`` from another host
while Home Assistant's connection lives is refused (an error, then closed):
only HA reconnecting from its own address replaces its old socket. While
it runs the satellite, HA pings every few seconds: an attached, running
connection silent for ``assist_satellite.idle_timeout_s`` is closed; a muted
one (HA sends nothing while muted) is kept.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Describe
from wyoming.ping import Ping, Pong
from wyoming.satellite import PauseSatellite, RunSatellite
from wyoming.tts import Synthesize
from wyoming.vad import VoiceStarted, VoiceStopped
from wyoming.wake import Detect, Detection

from satellite.assist.link import SatelliteLink
from satellite.assist.player import AnswerPlayer
from satellite.assist.timers import TimerMirror, is_timer_event
from satellite.audio.pcm import Pcm
from satellite.errors import InputError
from satellite.runtime.access import peer_host
from satellite.runtime.metrics import Metrics
from satellite.wyoming.handler import parse
from satellite.wyoming.limits import (
    ClientIdleError,
    ClientStalledError,
    ProtocolError,
    read_event_bounded,
    write_event_bounded,
)

_LOGGER = logging.getLogger(__name__)
OUTBOX_EVENTS = 1000  # ~20 s of 20 ms microphone chunks; a fuller outbox means a peer that does not read
CLOSE_WAIT_S = 2.0
BEFORE_RUN = frozenset({"describe", "ping", "pong", "run-satellite"})  # all a connection may do first
KNOWN = frozenset({
    "describe", "ping", "pong", "run-satellite", "pause-satellite", "transcribe", "voice-started",
    "voice-stopped", "transcript", "synthesize", "audio-start", "audio-chunk", "audio-stop", "error",
    "detect", "detection", "timer-started", "timer-updated", "timer-cancelled", "timer-finished",
})


@dataclass(frozen=True)
class SatelliteLimits:
    max_event_bytes: int
    body_timeout_s: float = 10.0
    write_timeout_s: float = 10.0
    idle_timeout_s: float = 30.0  # attached and running; see the module's docstring
    handshake_timeout_s: float = 120.0  # a connection that never runs the satellite


class SatelliteConnection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *,
                 link: SatelliteLink, player: AnswerPlayer, timers: TimerMirror, info: Event,
                 limits: SatelliteLimits, metrics: Metrics):
        self.reader = reader
        self.writer = writer
        self.link = link
        self.player = player
        self.timers = timers
        self.info = info
        self.limits = limits
        self.metrics = metrics
        peer = writer.get_extra_info("peername")
        self.peer = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else "local"
        self.host = peer_host(peer)
        self._ending = False  # refused: what is queued goes out, then the connection closes
        self._outbox: asyncio.Queue[Event] = asyncio.Queue(maxsize=OUTBOX_EVENTS)
        self._writer_task: asyncio.Task[None] | None = None
        self._closed = False

    # -- the connection's life --------------------------------------------------------------------

    async def run(self) -> None:
        self._writer_task = asyncio.get_running_loop().create_task(self._write_loop(),
                                                                   name=f"assist writer {self.peer}")
        _LOGGER.debug("assist satellite: connection from %s", self.peer)
        try:
            while not self._closed and not self._ending:
                try:
                    event = await read_event_bounded(self.reader, self.limits.max_event_bytes,
                                                     self.limits.body_timeout_s, self._idle_timeout_s())
                except ProtocolError as error:
                    _LOGGER.warning("assist satellite %s: %s; closing", self.peer, error.text)
                    self.metrics.errors.labels(kind="assist_protocol").inc()
                    break
                except ClientIdleError as error:
                    _LOGGER.warning("assist satellite %s: no event (%s); closing", self.peer, error)
                    break
                if event is None:
                    break
                self._dispatch(event)
        except (ConnectionError, OSError) as error:
            _LOGGER.info("assist satellite %s went away (%s)", self.peer, type(error).__name__)
        finally:
            self.link.detach(self)
            await self._shutdown()

    def _idle_timeout_s(self) -> float | None:
        if self.link.connection is not self:
            return self.limits.handshake_timeout_s
        return None if self.link.muted else self.limits.idle_timeout_s

    def send(self, event: Event) -> None:
        """Queue an event for Home Assistant; never blocks. A full outbox cuts the peer off."""
        if self._closed:
            return
        try:
            self._outbox.put_nowait(event)
        except asyncio.QueueFull:
            _LOGGER.warning("assist satellite %s: %d events not taken; connection aborted", self.peer,
                            OUTBOX_EVENTS)
            self.metrics.errors.labels(kind="assist_stalled").inc()
            self.close()

    def close(self) -> None:
        """End the connection now (replaced, stalled, or the server stopping)."""
        if not self._closed:
            self._closed = True
            self.writer.transport.abort()

    async def _write_loop(self) -> None:
        try:
            while True:
                event = await self._outbox.get()
                await write_event_bounded(event, self.writer, self.limits.write_timeout_s)
        except ClientStalledError as error:
            _LOGGER.warning("assist satellite %s: %s; connection aborted", self.peer, error)
            self.metrics.errors.labels(kind="assist_stalled").inc()
            self.close()
        except (ConnectionError, OSError, RuntimeError) as error:
            _LOGGER.debug("assist satellite %s: write failed (%s)", self.peer, type(error).__name__)
            self.close()

    async def _shutdown(self) -> None:
        task, self._writer_task = self._writer_task, None
        if task is not None:
            if not self._closed:  # let what is queued (a last pong, played) go out, briefly
                try:
                    async with asyncio.timeout(CLOSE_WAIT_S):
                        while not self._outbox.empty() and not task.done():
                            await asyncio.sleep(0.01)
                except TimeoutError:
                    pass
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._closed = True
        self.writer.close()
        try:
            async with asyncio.timeout(CLOSE_WAIT_S):
                await self.writer.wait_closed()
        except (TimeoutError, OSError):
            self.writer.transport.abort()

    # -- events ---------------------------------------------------------------------------------------

    def _dispatch(self, event: Event) -> None:
        self.metrics.wyoming_events.labels(type=f"assist:{event.type}" if event.type in KNOWN
                                           else "assist:unknown").inc()
        if self.link.connection is self:
            self.link.heard()
        try:
            self._handle(event)
        except InputError as error:
            _LOGGER.warning("assist satellite %s: %s", self.peer, error)
            self.metrics.errors.labels(kind="assist_input").inc()

    def _handle(self, event: Event) -> None:
        link, run = self.link, self.link.run
        if link.connection is not self and event.type not in BEFORE_RUN:
            _LOGGER.debug("assist satellite %s: %r from a connection that does not run the "
                          "satellite: ignored", self.peer, event.type[:64])
            return
        if Describe.is_type(event.type):
            self.send(self.info)
        elif Ping.is_type(event.type):
            self.send(Pong(text=parse(Ping, event).text).event())
        elif Pong.is_type(event.type):
            pass
        elif RunSatellite.is_type(event.type):
            if link.connection is not self:
                if not link.may_replace(self):
                    self._refuse_takeover()
                    return
                link.attach(self)
            link.on_run_satellite()
        elif PauseSatellite.is_type(event.type):
            if link.connection is self:
                link.on_pause_satellite()
        elif Transcribe.is_type(event.type):
            _LOGGER.debug("assist satellite: %s", event.type)
        elif VoiceStarted.is_type(event.type):
            if run is not None:
                run.on_voice_started()
        elif VoiceStopped.is_type(event.type):
            if run is not None:
                run.on_voice_stopped()
        elif Transcript.is_type(event.type):
            text = _text(parse(Transcript, event).text)
            _LOGGER.info("assist satellite: Home Assistant heard %r", text)
            if run is not None:
                run.on_transcript(text)
        elif Synthesize.is_type(event.type):
            text = _text(parse(Synthesize, event).text)
            _LOGGER.info("assist satellite: Home Assistant says %r", text)
            if run is not None and run.outcome is None:
                run.on_synthesize(text)
        elif AudioStart.is_type(event.type):
            parse(AudioStart, event)
            if run is not None and run.outcome is None:
                run.on_answer_audio()
            else:
                self.metrics.assist_announcements.inc()
                _LOGGER.info("assist satellite: Home Assistant plays an announcement")
            self.player.audio_start()
        elif AudioChunk.is_type(event.type):
            chunk = parse(AudioChunk, event)
            if chunk.width != 2 or chunk.channels not in (1, 2) or not 8000 <= chunk.rate <= 96000:
                raise InputError(f"audio-chunk format {chunk.rate} Hz/{chunk.width}/{chunk.channels} "
                                 "is not 16-bit PCM")
            self.player.audio_chunk(Pcm(chunk.audio, chunk.rate, chunk.width, chunk.channels))
        elif AudioStop.is_type(event.type):
            self.player.audio_stop()
        elif Error.is_type(event.type):
            error = parse(Error, event)
            _LOGGER.warning("assist satellite: Home Assistant's pipeline failed: %s (%s)", error.text,
                            error.code)
            if run is not None:
                run.on_error(error.code, error.text)
        elif Detect.is_type(event.type) or Detection.is_type(event.type):
            _LOGGER.debug("assist satellite: %s (the box detects its wake word itself)", event.type)
        elif is_timer_event(event.type):
            try:
                self.timers.handle(event)
            except (KeyError, TypeError, ValueError) as error:
                raise InputError(f"bad {event.type} event: {type(error).__name__} {error}") from None
        else:
            _LOGGER.debug("assist satellite %s: event %r not handled", self.peer, event.type[:64])


    def _refuse_takeover(self) -> None:
        current = self.link.connection
        holder = current.peer if current is not None else "?"
        _LOGGER.warning("assist satellite: %s asked to run the satellite while Home Assistant at %s "
                        "does: refused", self.peer, holder)
        self.metrics.connections_refused.labels(port="assist_satellite", reason="takeover").inc()
        self.send(Error(text=f"this satellite is run by Home Assistant at {holder}; another host "
                             "cannot take it over", code="busy").event())
        self._ending = True


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise InputError("'text' must be a string")
    return value.strip()
