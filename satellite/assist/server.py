"""``AssistSatelliteServer``: the satellite port (``assist_satellite.uri``), its zeroconf name, its parts.

It owns the ``SatelliteLink`` (shared with the room), the ``AnswerPlayer`` on the
room's ``Playback``, and the ``TimerMirror`` on the box's ``TimerService``; each
connection is a ``SatelliteConnection``. The "assist_satellite" component on
/status says whether Home Assistant runs the satellite.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from wyoming.error import Error
from wyoming.snd import Played

from satellite.assist.handler import SatelliteConnection, SatelliteLimits
from satellite.assist.info import build_satellite_info, satellite_name
from satellite.assist.link import SatelliteLink
from satellite.assist.player import AnswerPlayer
from satellite.assist.speaker import RoomSpeaker
from satellite.assist.timers import TimerMirror
from satellite.config.schema import Config
from satellite.errors import SatelliteError
from satellite.runtime.access import AllowList, peer_host
from satellite.runtime.state import RuntimeState
from satellite.timers import TimerService
from satellite.wyoming.handler import RefusalLog
from satellite.wyoming.limits import ClientStalledError, write_event_bounded
from satellite.wyoming.zeroconf import Advertisement

_LOGGER = logging.getLogger(__name__)
COMPONENT = "assist_satellite"
STOP_WAIT_S = 3.0


class AssistSatelliteServer:
    def __init__(self, config: Config, state: RuntimeState, playback: RoomSpeaker,
                 timers: TimerService | None, wake_model: str | None):
        self.config = config
        self.state = state
        section = config.assist_satellite
        self.link = SatelliteLink(section, state.metrics)
        self.player = AnswerPlayer(playback, on_started=self._answer_started, on_played=self._played,
                                   gap_timeout_s=section.answer_timeout_s,
                                   max_queued_s=config.wyoming.max_audio_s)
        self.timers = TimerMirror(timers, state.metrics, section.area or None)
        self.info = build_satellite_info(config, wake_model).event()
        self.limits = SatelliteLimits(config.wyoming.max_event_bytes,
                                      write_timeout_s=config.wyoming.write_timeout_s,
                                      idle_timeout_s=section.idle_timeout_s)
        self.allow = AllowList(section.allow_from, "assist_satellite.allow_from")
        self._refusals = RefusalLog()
        self.port: int | None = None
        self._address = config.assist_satellite.uri
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._advertisement: Advertisement | None = None

    # -- what the player reports ----------------------------------------------------------------------

    def _answer_started(self) -> None:
        _LOGGER.debug("assist satellite: Home Assistant's audio is playing")

    def _played(self) -> None:
        """A reply or an announcement from Home Assistant has been played: tell HA."""
        connection = self.link.connection
        if connection is not None:
            connection.send(Played().event())
        run = self.link.run
        if run is not None and run.answer_began.is_set() and run.outcome is None:
            run.on_played()
        _LOGGER.info("assist satellite: played; 'played' sent to Home Assistant")

    # -- lifecycle --------------------------------------------------------------------------------

    async def start(self) -> None:
        uri = self.config.assist_satellite.uri
        host, port = _tcp_address(uri)
        self.state.set_component(COMPONENT, "starting")
        try:
            self._server = await asyncio.start_server(self._serve, host, port,
                                                      limit=64 * 1024)
        except OSError as error:
            self.state.set_component(COMPONENT, "failed", f"{uri}: {error}")
            raise SatelliteError(f"Assist satellite cannot listen on {uri}: {error}") from None
        sockets = self._server.sockets
        self.port = sockets[0].getsockname()[1] if sockets else None
        self.player.start()
        self.state.assist_satellite = self.link.status
        self._address = f"tcp://{host}:{self.port}"
        if not self.allow.everyone:
            self._address += f" (only {self.allow.describe()})"
        self.link.on_change = self._show_link
        self._show_link()
        _LOGGER.info("Assist satellite %r (%s mode) listening on tcp://%s:%s; add it in Home Assistant "
                     "(Wyoming Protocol, this host, port %s)", satellite_name(self.config),
                     self.config.assist_satellite.mode, host, self.port, self.port)
        if self.config.assist_satellite.zeroconf and self.port is not None:
            self._advertisement = Advertisement(self.config.assist_satellite.zeroconf_name, host,
                                                self.port, "assist satellite")
            await self._advertisement.start()

    def _show_link(self) -> None:
        """The component's detail says what Home Assistant is doing with the satellite."""
        link = self.link
        if link.connection is None:
            what = "waiting for Home Assistant"
        elif link.muted:
            what = f"muted by Home Assistant ({link.connection.peer})"
        elif link.running:
            what = f"run by Home Assistant ({link.connection.peer})"
        else:
            what = f"Home Assistant connected ({link.connection.peer})"
        self.state.set_component(COMPONENT, "ready", f"{self._address}, {what}")

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        if not self.allow.allows(peer_host(peer)):
            await self._refuse(writer, peer)
            return
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        connection = SatelliteConnection(reader, writer, link=self.link, player=self.player,
                                         timers=self.timers, info=self.info, limits=self.limits,
                                         metrics=self.state.metrics)
        try:
            await connection.run()
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            # stop() ended this connection: the task ends quietly (Python 3.11's start_server
            # logs a handler task that ends cancelled as "Exception in callback")
        finally:
            self._connections.discard(task)

    async def _refuse(self, writer: asyncio.StreamWriter, peer: object) -> None:
        """A host outside ``assist_satellite.allow_from``: one error, then closed."""
        unsaid = self._refusals.note(time.monotonic())
        if unsaid is not None:
            _LOGGER.warning("assist satellite: connection from %s refused: not in "
                            "assist_satellite.allow_from (%s); %d more refused since the last "
                            "warning", peer, self.allow.describe(), unsaid)
        self.state.metrics.connections_refused.labels(port="assist_satellite", reason="address").inc()
        try:
            await write_event_bounded(
                Error(text="this address may not connect (assist_satellite.allow_from)",
                      code="forbidden").event(), writer, self.limits.write_timeout_s)
        except (ClientStalledError, ConnectionError, OSError):
            pass  # gone or not reading: closed all the same
        writer.close()
        with contextlib.suppress(TimeoutError, OSError):
            async with asyncio.timeout(STOP_WAIT_S):
                await writer.wait_closed()

    async def stop(self) -> None:
        self._stopping = True
        advertisement, self._advertisement = self._advertisement, None
        if advertisement is not None:
            await advertisement.stop()
        server, self._server = self._server, None
        if server is not None:
            server.close()
        if self.link.connection is not None:
            self.link.connection.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.wait(list(self._connections), timeout=STOP_WAIT_S)
        await self.player.close()
        self.link.on_change = None
        self.state.set_component(COMPONENT, "off", "stopped")


def _tcp_address(uri: str) -> tuple[str, int]:
    """(host, port) of a ``tcp://host:port`` uri; the satellite role is served over TCP only."""
    from urllib.parse import urlparse

    parsed = urlparse(uri)
    if parsed.scheme != "tcp" or parsed.port is None:
        raise SatelliteError(f"assist_satellite.uri {uri!r}: expected tcp://host:port")
    return parsed.hostname or "0.0.0.0", parsed.port
