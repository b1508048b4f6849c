"""A Wyoming port advertised as ``_wyoming._tcp`` so Home Assistant discovers it.

Both of the box's ports (the provider and the Assist satellite) advertise the
same way. Advertising is a convenience: a failure is one warning, never a crash,
and a port only this machine can reach is not advertised at all.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

_LOGGER = logging.getLogger(__name__)
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
ALL_INTERFACES = ("0.0.0.0", "::", "")
REGISTER_TIMEOUT_S = 10.0


class Advertisement:
    """``name._wyoming._tcp`` on ``host:port``, registered by ``start`` and withdrawn by ``stop``."""

    def __init__(self, name: str, host: str, port: int, what: str):
        self.name = name
        self.host = host
        self.port = port
        self.what = what  # which port, for the log: "Wyoming server", "assist satellite"
        self._zeroconf: Any = None

    async def start(self) -> bool:
        """Register; False (and one log line) if it was not."""
        if self.host in LOOPBACK_HOSTS:
            _LOGGER.info("%s: zeroconf not registered (%s is only reachable from this machine)",
                         self.what, self.host)
            return False
        try:
            from wyoming.zeroconf import HomeAssistantZeroconf

            zeroconf = HomeAssistantZeroconf(
                port=self.port, name=self.name,
                host=None if self.host in ALL_INTERFACES else self.host)
            await asyncio.wait_for(zeroconf.register_server(), timeout=REGISTER_TIMEOUT_S)
        except Exception as error:  # any failure to advertise is one warning, never a crash
            _LOGGER.warning("%s: zeroconf _wyoming._tcp not registered (%s: %s); add it in Home "
                            "Assistant by hand", self.what, type(error).__name__, error)
            return False
        self._zeroconf = zeroconf
        _LOGGER.info("zeroconf: %s advertised as %s._wyoming._tcp on %s:%s", self.what, self.name,
                     zeroconf.host, self.port)
        return True

    async def stop(self) -> None:
        zeroconf, self._zeroconf = self._zeroconf, None
        if zeroconf is None:
            return
        # The library has no unregister; its AsyncZeroconf withdraws the service on close.
        aiozc = getattr(zeroconf, "_aiozc", None)
        if aiozc is not None:
            await aiozc.async_close()
