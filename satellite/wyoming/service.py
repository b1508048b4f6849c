"""The Wyoming door: the library's server on ``config.wyoming.uri``, zeroconf, and the runtime state."""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import Any
from urllib.parse import urlparse

from wyoming.server import AsyncServer, AsyncTcpServer

from satellite.config.schema import Config
from satellite.errors import SatelliteError
from satellite.pipeline.service import TurnService
from satellite.runtime.access import AllowList
from satellite.runtime.state import RuntimeState
from satellite.wyoming.handler import ConnectionLimits, RefusalLog, WyomingHandler
from satellite.wyoming.info import build_info
from satellite.wyoming.zeroconf import ALL_INTERFACES, Advertisement

_LOGGER = logging.getLogger(__name__)
COMPONENT = "wyoming"
CANCEL_WAIT_S = 2.0  # a cancelled connection unwinds (closes its socket) within this


class WyomingService:
    def __init__(self, config: Config, turns: TurnService, state: RuntimeState, *,
                 body_timeout_s: float = 10.0):
        self.config = config
        self.turns = turns
        self.state = state
        wyoming = config.wyoming
        self.limits = ConnectionLimits(wyoming.max_audio_s, wyoming.max_text_chars, wyoming.max_event_bytes,
                                       body_timeout_s, write_timeout_s=wyoming.write_timeout_s,
                                       idle_timeout_s=wyoming.idle_timeout_s,
                                       max_connections=wyoming.max_connections)
        self.allow = AllowList(wyoming.allow_from, "wyoming.allow_from")
        self._server: AsyncServer | None = None
        self._advertisement: Advertisement | None = None
        self._port: int | None = None

    @property
    def port(self) -> int | None:
        """The real bound TCP port (None for a Unix socket or before start)."""
        return self._port

    async def start(self) -> None:
        uri = self.config.wyoming.uri
        info = build_info(self.config, self.turns.engines, self.turns.recognizer is not None).event()
        factory = partial(WyomingHandler, turns=self.turns, state=self.state, info=info,
                          limits=self.limits, refusals=RefusalLog(), allow=self.allow)
        try:
            server = AsyncServer.from_uri(uri)
            if not isinstance(server, AsyncTcpServer) and urlparse(uri).scheme != "unix":
                raise ValueError("only tcp:// and unix:// are served")
            await server.start(factory)
        except (OSError, ValueError) as error:
            self.state.set_component(COMPONENT, "failed", f"{uri}: {error}")
            raise SatelliteError(f"Wyoming server cannot listen on {uri}: {error}") from None
        self._server = server
        address, host = uri, None
        if isinstance(server, AsyncTcpServer):
            # The library keeps the asyncio server private; its sockets hold the real port.
            listening: Any = server._server  # noqa: SLF001
            sockets = listening.sockets if listening is not None else ()
            self._port = sockets[0].getsockname()[1] if sockets else None
            host = server.host
            address = f"tcp://{host}:{self._port}"
            if not self.allow.everyone:
                address += f" (only {self.allow.describe()})"
            if host in ALL_INTERFACES:
                _LOGGER.info("Wyoming server listening on %s (all interfaces: reachable from "
                             "the LAN, e.g. by Home Assistant)", address)
            else:
                _LOGGER.info("Wyoming server listening on %s", address)
        else:
            _LOGGER.info("Wyoming server listening on %s", address)
        self.state.set_component(COMPONENT, "ready", address)
        if self.config.wyoming.zeroconf and host is not None and self._port is not None:
            self._advertisement = Advertisement(self.config.wyoming.zeroconf_name, host, self._port,
                                                "Wyoming server")
            await self._advertisement.start()

    async def stop(self, grace_s: float = 3.0) -> None:
        advertisement, self._advertisement = self._advertisement, None
        if advertisement is not None:
            await advertisement.stop()
        server, self._server = self._server, None
        if server is not None:
            # The library keeps its connections' tasks private; they are what must end.
            connections = list(server._handlers)  # noqa: SLF001
            await server.stop()  # no new connections; idle ones close, busy ones finish
            if connections:
                done, running = await asyncio.wait(connections, timeout=grace_s)
                if running:
                    _LOGGER.info("Wyoming: %d request(s) still running after %.1f s: cancelled",
                                 len(running), grace_s)
                    for task in running:
                        task.cancel()
                    await asyncio.wait(running, timeout=CANCEL_WAIT_S)
            _LOGGER.info("Wyoming server stopped")
        self.state.set_component(COMPONENT, "off", "stopped")
