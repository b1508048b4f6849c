"""The box's place in its home: the link to the other boxes, the wake word's arbitration, and
the rooms that speak to each other.

``claim(level_db, score)`` is sent when this box's wake word model fires, while Whisper
checks the phrase; the check's outcome follows (``decide``, or ``withdraw``), and ``decide``
says, after ``home.window_ms``, whether this box answers. A peer's claim that arrives
meanwhile is weighed; none (a box alone, its peers down) and this box answers. ``rooms``
carries announcements and timer commands between the rooms (``rooms.py``). ``/status`` shows
the peers, their rooms and the last decision.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from typing import Any

from satellite.config.schema import HomeConfig
from satellite.home.arbiter import Arbiter, Claim, Decision
from satellite.home.link import HomeLink, parse_peer
from satellite.home.messages import Codec, Message
from satellite.home.rooms import HELLO_EVERY_S, Rooms
from satellite.runtime.metrics import Metrics

_LOGGER = logging.getLogger(__name__)
CLAIM = "claim"
VERDICT = "verdict"
VERDICT_POLL_S = 0.25  # how often a decision waiting for a peer's check looks at the clock


class HomeService:
    def __init__(self, config: HomeConfig, metrics: Metrics, room: str = ""):
        """``room``: this box's room (``Config.room``)."""
        self.config = config
        self.metrics = metrics
        self.box = config.box or socket.gethostname()
        self.codec = Codec(config.name, config.secret.encode(), self.box)
        self.arbiter = Arbiter(self.box, config.window_ms / 1000.0)
        self.link = HomeLink(self.codec, [parse_peer(p) for p in config.peers], metrics,
                             self._on_message)
        self.rooms = Rooms(room, self.link.send, self.link.send_to)
        self._discovery: Any = None
        self._hello: asyncio.Task[None] | None = None
        self.decisions = 0
        self._decide_at = 0.0
        self._sent = 0
        self._news = asyncio.Event()  # a peer's claim or verdict came

    async def start(self) -> None:
        await self.link.start(self.config.host, self.config.port)
        _LOGGER.info("home %r: box %r on udp %s:%s; peers %s", self.config.name, self.box,
                     self.config.host, self.link.port,
                     ", ".join(f"{h}:{p}" for h, p in self.link.peers) or "none configured")
        if self.config.zeroconf and self.link.port is not None:
            from satellite.home.discovery import Discovery

            self._discovery = Discovery(self.config.name, self.box, self.link.port, self.link.found)
            await self._discovery.start()
        self._hello = asyncio.get_running_loop().create_task(self._say_hello(), name="home hello")

    async def _say_hello(self) -> None:
        """Our room to the peers, now and every ``HELLO_EVERY_S`` (zeroconf finds peers later)."""
        while True:
            self.rooms.hello()
            await asyncio.sleep(HELLO_EVERY_S if self.rooms.peers else 2.0)

    async def stop(self) -> None:
        hello, self._hello = self._hello, None
        if hello is not None:
            hello.cancel()
        await self.rooms.close()
        discovery, self._discovery = self._discovery, None
        if discovery is not None:
            await discovery.stop()
        self.link.close()

    def claim(self, level_db: float, score: float, heard: bool | None = None) -> None:
        """Our wake word model fired: tell the peers now. ``heard=None``: Whisper checks the
        phrase, and ``verdict`` or ``withdraw`` follows."""
        loop = asyncio.get_running_loop()
        ours = Claim(self.box, round(level_db, 1), round(score, 3))
        self._decide_at = self.arbiter.our_claim(ours, loop.time())
        self._sent = self.link.send(CLAIM, {"level_db": ours.level_db, "score": ours.score,
                                            "heard": heard})

    def withdraw(self) -> None:
        """Our check did not hear the wake word we claimed: the peers weigh it no more."""
        if self.arbiter.claiming:
            self.arbiter.withdraw()
            self.link.send(VERDICT, {"heard": False})

    async def decide(self) -> Decision:
        """Our check heard the wake word we claimed: tell the peers, wait out the window (and a
        better peer's check), and say who answers."""
        self.link.send(VERDICT, {"heard": True})
        loop = asyncio.get_running_loop()
        await asyncio.sleep(max(0.0, self._decide_at - loop.time()))
        while (decision := self.arbiter.decide(loop.time())) is None:
            self._news.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._news.wait(), VERDICT_POLL_S)
        self.decisions += 1
        outcome = ("answered" if len(decision.claims) > 1 else "alone") if decision.answer \
            else "yielded"
        self.metrics.home_decisions.labels(outcome=outcome).inc()
        _LOGGER.info("home: the wake word, claimed to %d peer(s): %s", self._sent,
                     decision.describe())
        return decision

    async def claim_and_decide(self, level_db: float, score: float) -> Decision:
        """A wake word heard with no check to follow: claim it and decide after the window."""
        self.claim(level_db, score, heard=True)
        return await self.decide()

    def _on_message(self, message: Message, address: tuple[str, int]) -> None:
        if self.rooms.handle(message, address):
            return
        data = message.data
        now = asyncio.get_running_loop().time()
        if message.kind == CLAIM:
            heard = data.get("heard", True)  # (a box that sends no verdicts: heard)
            self.arbiter.peer_claim(
                Claim(message.box, float(data["level_db"]), float(data["score"])), now,
                None if heard is None else bool(heard))
        elif message.kind == VERDICT:
            self.arbiter.peer_verdict(message.box, bool(data.get("heard")))
            _LOGGER.debug("home: %s's check %s the wake word", message.box,
                          "heard" if data.get("heard") else "did not hear")
        else:
            _LOGGER.debug("home: %s from %s not handled", message.kind, message.box)
            return
        self._news.set()

    def status(self) -> dict[str, Any]:
        last = self.arbiter.last
        now = time.time()
        return {
            "name": self.config.name, "box": self.box, "port": self.link.port,
            "room": self.rooms.room,
            "peers": [{"box": box, "address": f"{addr[0]}:{addr[1]}", "last_heard_s": round(now - t, 1),
                       "room": peer.room if (peer := self.rooms.peers.get(box)) else ""}
                      for box, (addr, t) in sorted(self.link.seen.items())],
            "configured_peers": [f"{h}:{p}" for h, p in self.link.peers],
            "rejected": dict(self.link.rejected),
            "last_decision": None if last is None else {
                "answered": last.answer, "winner": last.winner,
                "claims": [{"box": c.box, "level_db": c.level_db, "score": c.score}
                           for c in last.claims]},
        }
