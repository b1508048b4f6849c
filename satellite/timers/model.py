"""Timers as plain data and the pure rules over them: durations from slots, which timer a command means.

Times are wall-clock seconds (``time.time()``): a timer's end must mean the same
instant after a restart. Nothing here reads a clock; ``now_s`` is passed in.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


class TimerState(enum.StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    RINGING = "ringing"  # ran out; the room rings until "stop" or timers.max_ring_s
    FINISHED = "finished"  # ran out and rang (or ran out while the process was down)
    CANCELLED = "cancelled"


LIVE_STATES = frozenset({TimerState.RUNNING, TimerState.PAUSED, TimerState.RINGING})


@dataclass(frozen=True)
class Timer:
    """One timer. ``duration_s`` is what was asked for ("the ten minute timer"), not what is left."""

    id: str
    name: str | None
    duration_s: float
    area: str | None
    state: TimerState
    ends_at_s: float | None  # wall clock; set while running (and kept after it ran out)
    remaining_s: float | None  # set while paused
    created_s: float

    @property
    def live(self) -> bool:
        return self.state in LIVE_STATES

    def remaining(self, now_s: float) -> float:
        """Seconds left: counting down while running, frozen while paused, 0 once it ran out."""
        if self.state is TimerState.RUNNING and self.ends_at_s is not None:
            return max(0.0, self.ends_at_s - now_s)
        if self.state is TimerState.PAUSED and self.remaining_s is not None:
            return self.remaining_s
        return 0.0

    def paused(self, now_s: float) -> Timer:
        return dataclasses.replace(self, state=TimerState.PAUSED, remaining_s=self.remaining(now_s),
                                   ends_at_s=None)

    def running(self, now_s: float, remaining_s: float) -> Timer:
        """This timer counting down ``remaining_s`` from ``now_s``."""
        return dataclasses.replace(self, state=TimerState.RUNNING, ends_at_s=now_s + remaining_s,
                                   remaining_s=None)

    def with_state(self, state: TimerState) -> Timer:
        return dataclasses.replace(self, state=state)


def new_timer(timer_id: str, duration_s: float, now_s: float, *, name: str | None = None,
              area: str | None = None) -> Timer:
    return Timer(timer_id, clean_name(name), duration_s, area, TimerState.RUNNING, now_s + duration_s,
                 None, now_s)


_ARTICLES = ("the ", "a ", "an ", "my ", "our ")


def clean_name(name: str | None) -> str | None:
    """'The Pasta timer' → 'pasta'; empty → None. Names are compared in this form."""
    if name is None:
        return None
    text = " ".join(str(name).lower().split())
    for article in _ARTICLES:
        if text.startswith(article):
            text = text[len(article):]
    if text.endswith(" timer"):
        text = text[: -len(" timer")]
    text = text.strip()
    return text if text and text != "timer" else None


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def duration_from_slots(slots: Mapping[str, Any], prefix: str = "") -> float | None:
    """Seconds from the ``hours``/``minutes``/``seconds`` slots (``start_hours``... with
    ``prefix="start_"``); None when none is there."""
    keys = (f"{prefix}hours", f"{prefix}minutes", f"{prefix}seconds")
    if not any(key in slots for key in keys):
        return None
    hours, minutes, seconds = (_number(slots.get(key, 0)) for key in keys)
    return hours * 3600.0 + minutes * 60.0 + seconds


@dataclass(frozen=True)
class TimerQuery:
    """Which timer a command names: by name, by its asked duration, by area, or all of them."""

    name: str | None = None
    duration_s: float | None = None
    area: str | None = None
    all: bool = False

    @staticmethod
    def from_slots(slots: Mapping[str, Any], *, all_timers: bool = False) -> TimerQuery:
        area = slots.get("area")
        return TimerQuery(clean_name(slots.get("name")), duration_from_slots(slots, "start_"),
                          str(area) if area else None, all_timers)

    @property
    def specific(self) -> bool:
        return self.name is not None or self.duration_s is not None or self.area is not None

    def matches(self, timer: Timer) -> bool:
        if self.name is not None and timer.name != self.name:
            return False
        if self.duration_s is not None and not math.isclose(timer.duration_s, self.duration_s,
                                                            abs_tol=0.5):
            return False
        # A timer set where the room was not known is in any room.
        return self.area is None or timer.area is None or timer.area == self.area


@dataclass(frozen=True)
class Choice:
    """What a query picked among ``candidates``: ``chosen`` empty and ``ambiguous`` set means
    "ask which one"; both empty means there was nothing to pick."""

    chosen: tuple[Timer, ...]
    candidates: tuple[Timer, ...]

    @property
    def ambiguous(self) -> bool:
        return not self.chosen and len(self.candidates) > 1


def choose(timers: Iterable[Timer], query: TimerQuery, *, prefer_ringing: bool = False) -> Choice:
    """The timer(s) a command means, among ``timers`` (those it can apply to).

    All of them for "all"; else those the query names; one left → it; a ringing one
    when ``prefer_ringing`` ("stop the timer" while one rings); several that a person
    could not tell apart by voice (same name, or unnamed with the same duration) →
    the most recent; several distinct → ambiguous (ask which one).
    """
    candidates = tuple(t for t in timers if query.matches(t))
    if query.all or len(candidates) <= 1:
        return Choice(candidates, candidates)
    if prefer_ringing:
        ringing = [t for t in candidates if t.state is TimerState.RINGING]
        if len(ringing) == 1:
            return Choice((ringing[0],), candidates)
    if len({label(t) for t in candidates}) == 1:
        return Choice((max(candidates, key=lambda t: t.created_s),), candidates)
    return Choice((), candidates)


def label(timer: Timer) -> str:
    """What a person calls it: 'pasta timer', '10 minute timer', '1 hour 30 minute timer'."""
    if timer.name:
        return f"{timer.name} timer"
    return f"{compact_duration(timer.duration_s)} timer"


def compact_duration(seconds: float) -> str:
    """'10 minute', '1 hour 30 minute', '45 second': a duration used as an adjective."""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{value} {unit}" for value, unit in ((hours, "hour"), (minutes, "minute"), (secs, "second"))
             if value]
    return " ".join(parts) or "0 second"


def by_end(timers: Sequence[Timer], now_s: float) -> list[Timer]:
    """Ringing first, then the one that ends soonest; paused ones by what they have left."""
    order = {TimerState.RINGING: 0, TimerState.RUNNING: 1, TimerState.PAUSED: 1}
    return sorted(timers, key=lambda t: (order.get(t.state, 2), t.remaining(now_s), t.created_s))
