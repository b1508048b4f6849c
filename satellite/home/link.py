"""The home's UDP link: signed datagrams to every peer box, and what they send us.

Peers are the static ``home.peers`` ("host:port", where multicast does not reach, and in
tests) and the boxes zeroconf finds (``discovery.py``). Every datagram is bounded and
signed (``messages.py``); a sender that floods is cut to ``RATE_PER_S`` datagrams a
second, the rest dropped and counted. Sending never blocks: UDP, one datagram per peer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from satellite.home.messages import MAX_BYTES, Codec, Message, Rejected
from satellite.runtime.metrics import Metrics

_LOGGER = logging.getLogger(__name__)
RATE_PER_S = 20.0  # datagrams a second one address may send (a burst of as many)


def parse_peer(entry: str) -> tuple[str, int]:
    """ "host:port" (or "[v6]:port") as (host, port); ValueError if it is not."""
    host, sep, port = entry.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{entry!r} is not host:port")
    return host.strip("[]"), int(port)


class _Bucket:
    def __init__(self, now: float):
        self.tokens, self.at = RATE_PER_S, now

    def take(self, now: float) -> bool:
        self.tokens = min(RATE_PER_S, self.tokens + (now - self.at) * RATE_PER_S)
        self.at = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


class HomeLink(asyncio.DatagramProtocol):
    def __init__(self, codec: Codec, peers: list[tuple[str, int]], metrics: Metrics,
                 on_message: Callable[[Message, tuple[str, int]], None],
                 clock: Callable[[], float] = time.monotonic):
        self.codec = codec
        self.static_peers = list(peers)
        self.found: dict[str, tuple[str, int]] = {}  # zeroconf: box id -> address
        self.metrics = metrics
        self.on_message = on_message
        self.clock = clock
        self.seen: dict[str, tuple[tuple[str, int], float]] = {}  # box -> (address, wall time)
        self.rejected: dict[str, int] = {}
        self._buckets: dict[str, _Bucket] = {}
        self._transport: asyncio.DatagramTransport | None = None
        self.port: int | None = None

    async def start(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: self, local_addr=(host, port))
        self._transport = transport  # type: ignore[assignment]
        sockname = transport.get_extra_info("sockname")
        self.port = sockname[1] if sockname else None

    def close(self) -> None:
        transport, self._transport = self._transport, None
        if transport is not None:
            transport.close()

    @property
    def peers(self) -> list[tuple[str, int]]:
        addresses = list(dict.fromkeys([*self.static_peers, *self.found.values()]))
        return addresses

    def send(self, kind: str, data: dict[str, Any]) -> int:
        """To every peer; the number of datagrams sent."""
        transport = self._transport
        if transport is None:
            return 0
        datagram = self.codec.encode(kind, data)
        sent = 0
        for address in self.peers:
            try:
                transport.sendto(datagram, address)
                sent += 1
            except OSError as error:  # a peer's name that does not resolve, a down interface
                _LOGGER.debug("home: cannot send to %s: %s", address, error)
        return sent

    def send_to(self, kind: str, data: dict[str, Any], address: tuple[str, int]) -> bool:
        """To one peer (a reply to where its request came from)."""
        transport = self._transport
        if transport is None:
            return False
        try:
            transport.sendto(self.codec.encode(kind, data), address)
        except OSError as error:
            _LOGGER.debug("home: cannot send to %s: %s", address, error)
            return False
        return True

    # -- asyncio's side ----------------------------------------------------------------------------

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:  # type: ignore[override]
        bucket = self._buckets.setdefault(addr[0], _Bucket(self.clock()))
        if not bucket.take(self.clock()):
            self._reject("rate", addr)
            return
        try:
            message = self.codec.decode(data[:MAX_BYTES + 1])
        except Rejected as error:
            if error.reason != "self":
                self._reject(error.reason, addr)
            return
        self.seen[message.box] = ((addr[0], addr[1]), time.time())
        try:
            self.on_message(message, (addr[0], addr[1]))
        except Exception:  # a bad message of a peer's never ends the link
            _LOGGER.exception("home: a %s message from %s could not be handled", message.kind,
                              message.box)

    def error_received(self, exc: Exception) -> None:
        _LOGGER.debug("home: %s", exc)

    def _reject(self, reason: str, addr: tuple[str, int]) -> None:
        self.rejected[reason] = self.rejected.get(reason, 0) + 1
        self.metrics.home_rejected.labels(reason=reason).inc()
        if self.rejected[reason] == 1:
            _LOGGER.warning("home: a datagram from %s rejected (%s); later ones are counted only",
                            addr[0], reason)
