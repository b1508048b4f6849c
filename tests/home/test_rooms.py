"""Rooms that know each other: three boxes' home services over real UDP on loopback.

Announcements to every room and to one, a timer asked about and stopped from another room
on a real TimerService, a lost reply, a room that does not answer, a stranger's request.
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
import pytest_asyncio

from satellite.config.schema import HomeConfig, TimersConfig
from satellite.home.room_commands import RoomCommands
from satellite.home.service import HomeService
from satellite.intents import IntentRecognizer
from satellite.intents.recognizer import IntentMatch
from satellite.runtime.metrics import Metrics
from satellite.timers import TimerService, TimerState

TIMEOUT_S = 10.0


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def recognizer() -> IntentRecognizer:
    # the office is a room people name but that has no box
    return IntentRecognizer("en", ["kitchen", "living room", "bedroom", "office"], ["kitchen lights"])


class Box:
    def __init__(self, room: str, service: HomeService):
        self.room = room
        self.service = service
        self.heard: list[str] = []
        self.timers = TimerService(TimersConfig(), None)
        self.commands = RoomCommands(service.rooms, self.timers)
        service.rooms.on_announce = self._announce

    def _announce(self, text: str, from_room: str) -> bool:
        self.heard.append(self.commands.spoken(text, from_room))
        return True

    async def say(self, recognizer: IntentRecognizer, text: str) -> str:
        """What the box answers to ``text`` when it is for another room."""
        match = recognizer.recognize(text)
        assert match is not None and self.commands.handles(match), text
        return await asyncio.wait_for(self.commands.answer(match), TIMEOUT_S)


async def start_home(stack: AsyncExitStack, rooms: dict[str, str], down: list[str] = ()
                     ) -> dict[str, Box]:
    """One running home service per room (room: secret), each told of every other."""
    ports = {room: free_udp_port() for room in [*rooms, *down]}
    boxes: dict[str, Box] = {}
    for room, secret in rooms.items():
        peers = [f"127.0.0.1:{port}" for other, port in ports.items() if other != room]
        config = HomeConfig(enabled=True, secret=secret, box=room.replace(" ", "-"),
                            host="127.0.0.1", port=ports[room], peers=peers, zeroconf=False)
        service = HomeService(config, Metrics(), room)
        await service.start()
        stack.push_async_callback(service.stop)
        boxes[room] = Box(room, service)
    return boxes


async def know_each_other(boxes: dict[str, Box]) -> None:
    """Every box has heard every other's hello."""
    async with asyncio.timeout(TIMEOUT_S):
        while any(len(box.service.rooms.rooms()) < len(boxes) - 1 for box in boxes.values()):
            await asyncio.sleep(0.02)


@pytest_asyncio.fixture(loop_scope="function")  # the test's loop: the sockets live on it
async def home() -> AsyncIterator[dict[str, Box]]:
    async with AsyncExitStack() as stack:
        boxes = await start_home(stack, {"kitchen": "s3cret", "living room": "s3cret",
                                         "bedroom": "s3cret"})
        await know_each_other(boxes)
        yield boxes


async def test_an_announcement_is_said_in_every_other_room_and_the_reply_names_them(
        home: dict[str, Box], recognizer: IntentRecognizer) -> None:
    reply = await home["kitchen"].say(recognizer, "Announce dinner is ready")
    assert reply == "Announced in the bedroom and the living room."
    assert home["living room"].heard == ["From the kitchen: Dinner is ready"]
    assert home["bedroom"].heard == ["From the kitchen: Dinner is ready"]
    assert home["kitchen"].heard == []
    status = home["kitchen"].service.status()
    assert status["room"] == "kitchen"
    assert {(p["box"], p["room"]) for p in status["peers"]} == {("living-room", "living room"),
                                                               ("bedroom", "bedroom")}


async def test_tell_one_room_is_said_in_that_room_only(home: dict[str, Box],
                                                        recognizer: IntentRecognizer) -> None:
    reply = await home["kitchen"].say(recognizer, "tell the living room that the film starts")
    assert reply == "Told the living room."
    assert home["living room"].heard == ["From the kitchen: The film starts"]
    assert home["bedroom"].heard == []
    assert await home["kitchen"].say(recognizer, "tell the office that it's late") == \
        "I don't know of a box in the office, so nobody was told."
    assert await home["kitchen"].say(recognizer, "tell the kitchen that it's late") == \
        "That's this room."


async def test_a_timer_is_asked_about_and_stopped_from_another_room(
        home: dict[str, Box], recognizer: IntentRecognizer) -> None:
    kitchen = home["kitchen"]
    start = recognizer.recognize("set a pasta timer for ten minutes")
    assert start is not None
    await kitchen.timers.handle(start, "kitchen")
    status = await home["bedroom"].say(recognizer, "how much time is left on the kitchen timer?")
    assert re.match(r"In the kitchen: Your pasta timer has (10 minutes|9 minutes and \d+ seconds) "
                    r"left\.$", status), status
    # a timer of the bedroom's own is not the kitchen's
    assert home["bedroom"].timers.timers == []
    cancelled = await home["living room"].say(recognizer, "cancel the kitchen timer")
    assert cancelled == "In the kitchen: Cancelled the pasta timer."
    assert kitchen.timers.timers == []
    again = await home["living room"].say(recognizer, "cancel the kitchen timer")
    assert again == "In the kitchen: There is no timer running."


async def test_a_ringing_timer_is_stopped_from_another_room(
        home: dict[str, Box], recognizer: IntentRecognizer) -> None:
    kitchen = home["kitchen"]
    start = recognizer.recognize("set a timer for 1 second")
    assert start is not None
    await kitchen.timers.handle(start, "kitchen")
    async with asyncio.timeout(TIMEOUT_S):
        while not kitchen.timers.ringing:
            await asyncio.sleep(0.05)
    reply = await home["bedroom"].say(recognizer, "stop the kitchen timer")
    assert reply == "In the kitchen: Stopped the 1 second timer.", reply
    assert kitchen.timers.ringing == []
    assert kitchen.timers.timers == []


async def test_this_rooms_timers_stay_here(home: dict[str, Box], recognizer: IntentRecognizer
                                           ) -> None:
    match = recognizer.recognize("how much time is left on the timer")
    assert match is not None and not home["kitchen"].commands.handles(match)
    own = recognizer.recognize("cancel the kitchen timer")
    assert own is not None and not home["kitchen"].commands.handles(own)


async def test_a_lost_reply_is_sent_again_and_the_announcement_said_once(
        home: dict[str, Box], recognizer: IntentRecognizer, monkeypatch: pytest.MonkeyPatch) -> None:
    link = home["bedroom"].service.link
    send_to, lost = link.send_to, []

    def lossy(kind: str, data: dict[str, Any], address: tuple[str, int]) -> bool:
        if kind == "reply" and not lost:
            lost.append(data)
            return True  # "sent": the network lost it
        return send_to(kind, data, address)

    monkeypatch.setattr(link, "send_to", lossy)
    monkeypatch.setattr(home["bedroom"].service.rooms, "_send_to", lossy)
    reply = await home["kitchen"].say(recognizer, "tell the bedroom that the bath is ready")
    assert lost and reply == "Told the bedroom."
    assert home["bedroom"].heard == ["From the kitchen: The bath is ready"]


async def test_a_room_that_does_not_answer_is_named_and_never_claimed(
        recognizer: IntentRecognizer) -> None:
    async with AsyncExitStack() as stack:
        boxes = await start_home(stack, {"kitchen": "s3cret", "living room": "s3cret",
                                         "bedroom": "s3cret"})
        await know_each_other(boxes)
        await boxes["bedroom"].service.stop()  # the bedroom's box goes down after its hello
        reply = await boxes["kitchen"].say(recognizer, "announce dinner is ready")
        assert reply == ("Announced in the living room; the bedroom didn't answer, so it wasn't "
                         "heard there.")
        assert await boxes["kitchen"].say(recognizer, "tell the bedroom that it's late") == \
            "The bedroom didn't answer, so it wasn't told."
        assert await boxes["living room"].say(recognizer, "how long is left on the bedroom timer") \
            == ("The bedroom didn't answer, so I don't know about its timer and nothing was "
                "changed.")


async def test_a_box_outside_the_home_cannot_speak_in_it(recognizer: IntentRecognizer) -> None:
    async with AsyncExitStack() as stack:
        boxes = await start_home(stack, {"kitchen": "s3cret", "living room": "guess"})
        await asyncio.sleep(0.3)  # hellos both ways, all rejected
        assert boxes["kitchen"].service.rooms.rooms() == {}
        reply = await boxes["living room"].say(recognizer, "announce dinner is ready")
        assert reply == "There's no other room in this home to announce to."
        assert boxes["kitchen"].heard == []
        assert boxes["kitchen"].service.link.rejected.get("signature", 0) >= 2


async def test_an_announcement_too_long_for_one_datagram_is_refused(
        home: dict[str, Box]) -> None:
    match = IntentMatch("HassBroadcast", {"message": "dinner is ready " * 50}, "", None)
    assert await home["kitchen"].commands.answer(match) == "That's too long to announce."
    assert home["living room"].heard == []


def test_the_room_sentences_in_spanish() -> None:
    spanish = IntentRecognizer("es", ["cocina", "salón"], [])
    match = spanish.recognize("dile a la cocina que la cena está lista")
    assert match is not None and match.name == "HassBroadcast"
    assert match.entities == {"area": "cocina", "message": "la cena está lista"}
    everyone = spanish.recognize("avisa a todos que nos vamos")
    assert everyone is not None and everyone.entities == {"message": "nos vamos"}


async def test_timer_states_after_a_remote_pause(home: dict[str, Box], recognizer: IntentRecognizer
                                                 ) -> None:
    kitchen = home["kitchen"]
    start = recognizer.recognize("set a timer for five minutes")
    assert start is not None
    await kitchen.timers.handle(start, "kitchen")
    reply = await home["bedroom"].say(recognizer, "pause the kitchen timer")
    assert reply.startswith("In the kitchen: Paused the 5 minute timer")
    assert [t.state for t in kitchen.timers.timers] == [TimerState.PAUSED]
