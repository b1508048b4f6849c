"""The home's other boxes, found on the LAN: ``<box>._sarai-home._udp`` by zeroconf.

Each box advertises its UDP port with a hash of the home's name (not the name itself: the
LAN need not learn it) and browses for the others of the same home; what it finds goes
into the link's peers. Discovery is a convenience: a failure is one warning, and
``home.peers`` still works.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import socket
from typing import Any

_LOGGER = logging.getLogger(__name__)
SERVICE = "_sarai-home._udp.local."
TIMEOUT_S = 5.0


def home_tag(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:12]


class Discovery:
    def __init__(self, home: str, box: str, port: int, found: dict[str, tuple[str, int]]):
        self.tag = home_tag(home)
        self.box = box
        self.port = port
        self.found = found  # box -> (address, port), shared with the link
        self._zeroconf: Any = None
        self._browser: Any = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        try:
            from zeroconf import IPVersion
            from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

            zeroconf = AsyncZeroconf(ip_version=IPVersion.V4Only)
            info = AsyncServiceInfo(SERVICE, f"{self.box}.{SERVICE}", port=self.port,
                                    properties={"home": self.tag, "box": self.box},
                                    server=f"{socket.gethostname()}.local.")
            await asyncio.wait_for(zeroconf.async_register_service(info), TIMEOUT_S)
            self._zeroconf = zeroconf
            self._browser = AsyncServiceBrowser(zeroconf.zeroconf, SERVICE,
                                                handlers=[self._on_change])
        except Exception as error:  # advertising is a convenience: never a crash
            _LOGGER.warning("home: zeroconf discovery off (%s: %s); home.peers still work",
                            type(error).__name__, error)
            return
        _LOGGER.info("home: advertised as %s.%s", self.box, SERVICE)

    def _on_change(self, zeroconf: Any, service_type: str, name: str, state_change: Any) -> None:
        from zeroconf import ServiceStateChange

        if state_change is ServiceStateChange.Removed:
            return
        task = asyncio.get_running_loop().create_task(self._resolve(name))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _resolve(self, name: str) -> None:
        from zeroconf.asyncio import AsyncServiceInfo

        info = AsyncServiceInfo(SERVICE, name)
        if not await info.async_request(self._zeroconf.zeroconf, int(TIMEOUT_S * 1000)):
            return
        props = {k.decode(): (v or b"").decode() for k, v in (info.properties or {}).items()}
        box = props.get("box", "")
        addresses = info.parsed_addresses()
        if props.get("home") != self.tag or not box or box == self.box or not addresses:
            return
        if self.found.get(box) != (addresses[0], info.port):
            _LOGGER.info("home: found box %r at %s:%s", box, addresses[0], info.port)
        self.found[box] = (addresses[0], int(info.port or 0))

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        browser, self._browser = self._browser, None
        if browser is not None:
            await browser.async_cancel()
        zeroconf, self._zeroconf = self._zeroconf, None
        if zeroconf is not None:
            await zeroconf.async_close()
