"""What one room asks of the others, and does for them: announcements and timers.

The turn service asks ``handles(match)`` of every recognized command: an announcement
(``HassBroadcast``: "announce dinner is ready", "tell the kitchen that ...") and a timer
command that names another box's room ("how long is left on the kitchen timer?", "stop the
kitchen timer") are carried over the home's link (``rooms.py``) instead of being done here;
``answer`` says what really happened: the rooms that replied, or that a room did not. A timer
command from another room is run on this box's own timers (``run_timer``).
"""

from __future__ import annotations

import logging
from typing import Any

from satellite.home.rooms import Rooms, fits, room_key
from satellite.intents.recognizer import IntentMatch
from satellite.intents.room_sentences import BROADCAST
from satellite.timers.answers import join_words
from satellite.timers.service import TimerService

_LOGGER = logging.getLogger(__name__)

# Timer commands another room may give: not starting one there (its room would not hear it
# set), not "stop" alone (that is this room's ring).
REMOTE_TIMER_INTENTS = frozenset({
    "HassCancelTimer", "HassCancelAllTimers", "HassIncreaseTimer", "HassDecreaseTimer",
    "HassPauseTimer", "HassUnpauseTimer", "HassTimerStatus",
})

_ENGLISH = {
    "announced": "Announced in {rooms}.",
    "announced_some": "Announced in {rooms}; {missing} didn't answer, so it wasn't heard there.",
    "told": "Told {room}.",
    "nobody": "No other room answered, so nobody heard it.",
    "no_rooms": "There's no other room in this home to announce to.",
    "unknown_room": "I don't know of a box in {room}, so nobody was told.",
    "not_told": "{Room} didn't answer, so it wasn't told.",
    "here": "That's this room.",
    "too_long": "That's too long to announce.",
    "timer_answer": "In {room}: {answer}",
    "timer_unreached": "{Room} didn't answer, so I don't know about its timer and nothing was "
                       "changed.",
    "the": "the {room}",
}
REPLIES: dict[str, dict[str, str]] = {
    "en": _ENGLISH,
    "es": {
        "announced": "Anunciado en {rooms}.",
        "announced_some": "Anunciado en {rooms}; {missing} no ha respondido, así que allí no se ha oído.",
        "told": "Dicho en {room}.",
        "nobody": "Ninguna otra habitación ha respondido, así que nadie lo ha oído.",
        "no_rooms": "No hay otra habitación en esta casa a la que avisar.",
        "unknown_room": "No conozco ningún equipo en {room}, así que no se ha dicho.",
        "not_told": "{Room} no ha respondido, así que no se ha dicho.",
        "here": "Es esta habitación.",
        "too_long": "Es demasiado largo para anunciarlo.",
        "timer_answer": "En {room}: {answer}",
        "timer_unreached": "{Room} no ha respondido, así que no sé cómo va su temporizador y no se "
                           "ha cambiado nada.",
        "the": "{room}",
    },
}
ANNOUNCED_FROM = {"en": "From {room}: {text}", "es": "Desde {room}: {text}"}


class RoomCommands:
    """The turn service's ``OtherRooms``: commands for the home's other rooms."""

    def __init__(self, rooms: Rooms, timers: TimerService | None, language: str = "en"):
        self.rooms = rooms
        self.timers = timers
        self.language = language
        self._say = REPLIES.get(language, _ENGLISH)
        rooms.on_timer = self.run_timer

    def _the(self, room: str) -> str:
        return self._say["the"].format(room=room)

    def spoken(self, text: str, from_room: str) -> str:
        """What this room hears of another's announcement."""
        if not from_room:
            return text
        return ANNOUNCED_FROM.get(self.language, ANNOUNCED_FROM["en"]).format(
            room=self._the(from_room), text=text[:1].upper() + text[1:])

    def handles(self, match: IntentMatch) -> bool:
        if match.name == BROADCAST:
            return True
        return match.name in REMOTE_TIMER_INTENTS and self._timer_room(match) is not None

    async def answer(self, match: IntentMatch) -> str:
        if match.name == BROADCAST:
            return await self._announce(str(match.entities.get("message", "")).strip(),
                                        match.entities.get("area"))
        room = self._timer_room(match)
        assert room is not None
        slots = {key: value for key, value in match.entities.items() if key != "area"}
        if match.entities.get("name") is not None and room_key(str(match.entities["name"])) == room:
            slots.pop("name")  # "the hall timer", the hall not an area the recognizer knows
        reply = await self.rooms.timer(room, match.name, slots, match.text)
        _LOGGER.info("home: %s for the %s: %s", match.name, room,
                     "no reply" if reply is None else repr(reply.answer))
        if reply is None or not reply.ok:
            return self._say["timer_unreached"].format(Room=_cap(self._the(room)))
        return self._say["timer_answer"].format(room=self._the(room), answer=reply.answer)

    def _join(self, rooms: list[str]) -> str:
        return join_words(rooms, "y" if self.language == "es" else "and")

    def _timer_room(self, match: IntentMatch) -> str | None:
        """The other box's room a timer command names, or None (this room's timers)."""
        known = self.rooms.rooms()
        area = match.entities.get("area")
        if area:
            room = room_key(str(area))
            return room if room != self.rooms.room and room in known else None
        name = match.entities.get("name")
        if not name:
            return None
        room = room_key(str(name))  # "the hall timer": a room the recognizer does not list
        if room == self.rooms.room or room not in known:
            return None
        mine = self.timers.timers if self.timers is not None else []
        return None if any(timer.name and room_key(timer.name) == room for timer in mine) else room

    async def _announce(self, text: str, area: Any) -> str:
        if not text:
            return self._say["nobody"]
        if not fits(text):
            return self._say["too_long"]
        room = room_key(str(area)) if area else None
        if room is not None and room == self.rooms.room:
            return self._say["here"]
        if room is not None and room not in self.rooms.rooms():
            return self._say["unknown_room"].format(room=self._the(room))
        replies, missing = await self.rooms.announce(text, room)
        heard = sorted(reply.room or reply.box for reply in replies if reply.ok)
        missing |= {reply.room or reply.box for reply in replies if not reply.ok}
        _LOGGER.info("home: announced %r to %s: heard in %s, not in %s", text, room or "every room",
                     heard or "none", sorted(missing) or "none")
        if room is not None:
            return (self._say["told"].format(room=self._the(room)) if heard
                    else self._say["not_told"].format(Room=_cap(self._the(room))))
        if not heard:
            return self._say["nobody"] if missing else self._say["no_rooms"]
        rooms = self._join([self._the(r) for r in heard])
        if missing:
            return self._say["announced_some"].format(
                rooms=rooms, missing=self._join([self._the(r) for r in sorted(missing)]))
        return self._say["announced"].format(rooms=rooms)

    async def run_timer(self, intent: str, slots: dict[str, Any], text: str) -> str:
        """Another room's timer command, done on this box's timers."""
        if self.timers is None or intent not in REMOTE_TIMER_INTENTS:
            raise ValueError(f"not a timer command another room may give: {intent}")
        answer = await self.timers.handle(IntentMatch(intent, dict(slots), text, None),
                                          self.rooms.room or None)
        _LOGGER.info("home: %s from another room: %r", intent, answer)
        return answer


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]
