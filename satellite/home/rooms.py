"""Rooms that know each other: announcements and timers across the home's boxes.

Over the home's signed link (``link.py``). Each box says hello with its room when it starts
and every ``HELLO_EVERY_S`` (a hello that asks is answered, so a box that starts learns the
others at once). A request (``announce``, ``timer``) carries an id and the room it is for
("*": every room but the sender's); the box of that room does it and replies with the id. The
asking box sends the request again every ``RESEND_S`` to those that have not replied, until
``ASK_TIMEOUT_S``: a lost datagram is sent again, and a request heard twice is done once (its
reply is kept and sent again). Nothing is said to have reached a room that did not reply.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from satellite.home.messages import Message

_LOGGER = logging.getLogger(__name__)
HELLO, ANNOUNCE, TIMER, REPLY = "hello", "announce", "timer", "reply"
KINDS = frozenset({HELLO, ANNOUNCE, TIMER, REPLY})
EVERY_ROOM = "*"
HELLO_EVERY_S = 30.0
RESEND_S = 0.3
ASK_TIMEOUT_S = 2.0  # a box that has not replied by then did not get it (or is down)
ALONE_WAIT_S = 0.6  # with no room known yet, how long an announcement waits for any reply
MAX_TEXT_BYTES = 600  # what one datagram carries of an announcement or an answer (MAX_BYTES 1024)
KEEP_REPLIES = 256  # requests remembered, so that one heard twice is done once


def room_key(name: str) -> str:
    return " ".join(name.lower().split())


def fits(text: str) -> bool:
    return len(text.encode()) <= MAX_TEXT_BYTES


@dataclass
class PeerRoom:
    box: str
    room: str
    heard_s: float  # monotonic


@dataclass(frozen=True)
class Reply:
    box: str
    room: str
    ok: bool
    answer: str = ""


class _Asked:
    def __init__(self) -> None:
        self.replies: dict[str, Reply] = {}
        self.changed = asyncio.Event()


Send = Callable[[str, dict[str, Any]], int]
SendTo = Callable[[str, dict[str, Any], tuple[str, int]], bool]


class Rooms:
    def __init__(self, room: str, send: Send, send_to: SendTo,
                 clock: Callable[[], float] = time.monotonic):
        self.room = room_key(room)
        self._send = send
        self._send_to = send_to
        self.clock = clock
        self.peers: dict[str, PeerRoom] = {}  # box -> its room, as last heard
        # what this box does for the others: speak an announcement (True if it will be heard),
        # and run a timer command (the answer to say)
        self.on_announce: Callable[[str, str], bool] | None = None
        self.on_timer: Callable[[str, dict[str, Any], str], Awaitable[str]] | None = None
        self._asked: dict[str, _Asked] = {}
        self._done: collections.OrderedDict[tuple[str, str], dict[str, Any] | None] = \
            collections.OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()

    def rooms(self) -> dict[str, str]:
        """The rooms of the other boxes heard since this box started: room -> box."""
        return {peer.room: peer.box for peer in self.peers.values() if peer.room}

    def hello(self, ask: bool = True) -> None:
        self._send(HELLO, {"room": self.room, "ask": ask})

    # -- asking the others ---------------------------------------------------------------------------

    async def announce(self, text: str, room: str | None = None) -> tuple[list[Reply], set[str]]:
        """Speak ``text`` in ``room`` (None: every other room). The rooms that replied, and
        those known that did not."""
        to = room_key(room) if room else EVERY_ROOM
        expected = ({to} if room else set(self.rooms())) - {self.room}
        replies = await self._ask(ANNOUNCE, {"to": to, "text": text, "from": self.room},
                                  expected)
        return replies, expected - {reply.room for reply in replies}

    async def timer(self, room: str, intent: str, slots: dict[str, Any], text: str) -> Reply | None:
        """Run a timer command in ``room``'s box; its reply, or None if it did not answer."""
        to = room_key(room)
        replies = await self._ask(TIMER, {"to": to, "intent": intent, "slots": slots,
                                          "text": text[:200], "from": self.room}, {to})
        return next((reply for reply in replies if reply.room == to), None)

    async def _ask(self, kind: str, data: dict[str, Any], rooms: set[str]) -> list[Reply]:
        """Send until every room in ``rooms`` replied (none known: whoever replies within
        ``ALONE_WAIT_S``), at most ``ASK_TIMEOUT_S``."""
        ask_id = secrets.token_hex(6)
        asked = self._asked[ask_id] = _Asked()
        deadline = self.clock() + (ASK_TIMEOUT_S if rooms else ALONE_WAIT_S)
        try:
            while True:
                if not rooms or rooms - {reply.room for reply in asked.replies.values()}:
                    self._send(kind, {**data, "id": ask_id})
                else:
                    break
                left = deadline - self.clock()
                if left <= 0:
                    break
                asked.changed.clear()
                try:
                    async with asyncio.timeout(min(RESEND_S, left)):
                        await asked.changed.wait()
                except TimeoutError:
                    pass
        finally:
            del self._asked[ask_id]
        return list(asked.replies.values())

    # -- what the others ask -------------------------------------------------------------------------

    def handle(self, message: Message, address: tuple[str, int]) -> bool:
        """Take ``message`` if it is the rooms' (False: not ours to handle)."""
        if message.kind not in KINDS:
            return False
        data = message.data
        if message.kind == HELLO:
            self._heard(message.box, str(data.get("room", "")))
            if data.get("ask"):
                self._send_to(HELLO, {"room": self.room, "ask": False}, address)
        elif message.kind == REPLY:
            self._heard(message.box, str(data.get("room", "")))
            asked = self._asked.get(str(data.get("id")))
            if asked is not None:
                asked.replies[message.box] = Reply(message.box, room_key(str(data.get("room", ""))),
                                                   bool(data.get("ok")), str(data.get("answer", "")))
                asked.changed.set()
        else:
            self._heard(message.box, str(data.get("from", "")))
            self._request(message, address)
        return True

    def _heard(self, box: str, room: str) -> None:
        peer = self.peers.get(box)
        if peer is None:
            _LOGGER.info("home: box %r is in the room %r", box, room_key(room) or "(none)")
            self.peers[box] = PeerRoom(box, room_key(room), self.clock())
        else:
            peer.room, peer.heard_s = room_key(room), self.clock()

    def _request(self, message: Message, address: tuple[str, int]) -> None:
        data = message.data
        to, key = str(data.get("to", "")), (message.box, str(data.get("id", "")))
        if to != EVERY_ROOM and (not self.room or to != self.room):
            return  # for another room
        if key in self._done:  # heard again: our reply was lost, or is still being made
            done = self._done[key]
            if done is not None:
                self._send_to(REPLY, done, address)
            return
        self._done[key] = None
        while len(self._done) > KEEP_REPLIES:
            self._done.popitem(last=False)
        if message.kind == ANNOUNCE:
            self._reply(key, address, self._announced(str(data.get("text", "")),
                                                      str(data.get("from", ""))))
            return
        task = asyncio.get_running_loop().create_task(self._timer(key, address, data),
                                                      name="a timer for another room")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _announced(self, text: str, from_room: str) -> tuple[bool, str]:
        if not text.strip() or self.on_announce is None:
            return False, ""
        return self.on_announce(text, room_key(from_room)), ""

    async def _timer(self, key: tuple[str, str], address: tuple[str, int], data: dict[str, Any]
                     ) -> None:
        slots = data.get("slots")
        if self.on_timer is None or not isinstance(slots, dict):
            self._reply(key, address, (False, ""))
            return
        try:
            answer = await self.on_timer(str(data.get("intent", "")), slots, str(data.get("text", "")))
        except Exception:  # a command that fails here is "not done" there, never a dead link
            _LOGGER.exception("home: a timer command from %s failed", key[0])
            self._reply(key, address, (False, ""))
            return
        while answer and not fits(answer):
            answer = answer.rsplit(" ", 1)[0] if " " in answer else ""
        self._reply(key, address, (True, answer))

    def _reply(self, key: tuple[str, str], address: tuple[str, int], result: tuple[bool, str]
               ) -> None:
        reply = {"id": key[1], "room": self.room, "ok": result[0], "answer": result[1]}
        self._done[key] = reply
        self._send_to(REPLY, reply, address)

    async def close(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=2.0)
