"""What the box says about timers: durations and answers in plain spoken English (pure).

``answers_es`` has the same functions in Spanish; ``answers_for(language)`` picks the module.

Numbers of minutes and seconds are digits ("4 minutes and 10 seconds"): Piper
reads them well and they stay exact; counts of timers are words ("two timers").
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from types import ModuleType

from satellite.timers.model import Timer, TimerQuery, TimerState, compact_duration, label

NO_TIMER = "There is no timer running."
NO_DURATION = "I didn't catch how long the timer should be."
LATER_COMMAND = "I can't do things later yet; I can only set timers."
TOO_SHORT = "A timer needs at least one second."

_COUNT_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def count_words(count: int) -> str:
    return _COUNT_WORDS[count] if 0 <= count < len(_COUNT_WORDS) else str(count)


def _unit(value: int, unit: str) -> str:
    return f"{value} {unit}" if value == 1 else f"{value} {unit}s"


def join_words(items: Sequence[str], last: str = "and") -> str:
    """'a', 'a and b', 'a, b and c'."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {last} {items[-1]}"


def say_duration(seconds: float, *, precise: bool = False) -> str:
    """'4 minutes and 10 seconds', '1 hour and 20 minutes', '45 seconds'.

    A time left is rounded up to a whole second (0.3 s left is '1 second', never
    '0 seconds'); from an hour on, to the minute, unless ``precise`` (a duration
    someone asked for is said back exactly).
    """
    total = max(0, math.ceil(seconds - 1e-6))
    if total >= 86400 and not precise:
        days, rest = divmod(total, 86400)
        hours = round(rest / 3600)
        return join_words([_unit(days, "day")] + ([_unit(hours, "hour")] if hours else []))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours and not precise:
        minutes = round((rest) / 60)
        if minutes == 60:
            hours, minutes = hours + 1, 0
        secs = 0
    parts = [_unit(v, u) for v, u in ((hours, "hour"), (minutes, "minute"), (secs, "second")) if v]
    return join_words(parts) if parts else "0 seconds"


def _the(timer: Timer) -> str:
    return f"the {label(timer)}"


def _your(timer: Timer, alone: bool) -> str:
    return "your timer" if alone and not timer.name else f"your {label(timer)}"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def started(timer: Timer) -> str:
    what = f"{timer.name} timer" if timer.name else "timer"
    return _cap(f"{what} set for {say_duration(timer.duration_s, precise=True)}.")


def _state_clause(timer: Timer, now_s: float) -> str:
    """'has 4 minutes left', 'is paused with 4 minutes left', 'is done'."""
    if timer.state is TimerState.RINGING:
        return "is done"
    left = say_duration(timer.remaining(now_s))
    return f"is paused with {left} left" if timer.state is TimerState.PAUSED else f"has {left} left"


def status(timers: Sequence[Timer], now_s: float, *, alone: bool = True) -> str:
    """'Your pasta timer has 4 minutes and 10 seconds left.' or 'You have two timers: ...'.

    ``alone``: the timer is the only one there is, so an unnamed one is just 'your timer'.
    """
    if not timers:
        return NO_TIMER
    if len(timers) == 1:
        return _cap(f"{_your(timers[0], alone)} {_state_clause(timers[0], now_s)}.")
    items = [f"{_the(t)} {_state_clause(t, now_s)}" for t in timers]
    return f"You have {count_words(len(timers))} timers: {join_words(items)}."


def not_found(query: TimerQuery) -> str:
    """'There is no pasta timer.', 'There is no 10 minute timer.', or no timer at all."""
    if query.name:
        return f"There is no {query.name} timer."
    if query.duration_s is not None:
        return f"There is no {compact_duration(query.duration_s)} timer."
    if query.area:
        return f"There is no timer in the {query.area}."
    return NO_TIMER


def which_one(candidates: Sequence[Timer]) -> str:
    names = [_the(t) for t in candidates]
    return (f"You have {count_words(len(candidates))} timers. "
            f"Which one do you mean: {join_words(names, 'or')}?")


def cancelled(timers: Sequence[Timer]) -> str:
    if len(timers) == 1:
        verb = "Stopped" if timers[0].state is TimerState.RINGING else "Cancelled"
        return f"{verb} {_the(timers[0])}."
    if len(timers) == 2:
        return "Cancelled both timers."
    return f"Cancelled all {count_words(len(timers))} timers."


def paused(timer: Timer, now_s: float) -> str:
    return f"Paused {_the(timer)} with {say_duration(timer.remaining(now_s))} left."


def already(timer: Timer) -> str:
    return f"The {label(timer)} is already {timer.state.value}."


def already_all(state: TimerState) -> str:
    return f"Your timers are already {state.value}."


def resumed(timer: Timer, now_s: float) -> str:
    return f"Resumed {_the(timer)}: {say_duration(timer.remaining(now_s))} left."


def changed(timer: Timer, amount_s: float, now_s: float, *, added: bool) -> str:
    """'Added 2 minutes: the pasta timer has 6 minutes left.' / 'Took 5 minutes off: ... is done.'"""
    amount = say_duration(amount_s, precise=True)
    head = f"Added {amount}" if added else f"Took {amount} off"
    return f"{head}: {_the(timer)} {_state_clause(timer, now_s)}."


def rang(timer: Timer) -> str:
    """The announcement when a timer runs out: 'Your pasta timer is done.'"""
    return _cap(f"your {label(timer) if timer.name else 'timer'} is done.")


def missed(timers: Sequence[Timer], now_s: float) -> str:
    """Timers that ran out while the box was off, said once it is back."""
    if not timers:
        return ""

    def ago(timer: Timer) -> str:
        ended = timer.ends_at_s if timer.ends_at_s is not None else now_s
        return f"{say_duration(max(1.0, now_s - ended))} ago"

    if len(timers) == 1:
        return f"While I was off, your {label(timers[0])} went off, {ago(timers[0])}."
    items = [f"the {label(t)} {ago(t)}" for t in timers]
    return f"While I was off, {count_words(len(timers))} timers went off: {join_words(items)}."


def too_long(max_duration_s: float) -> str:
    return f"I can only set timers up to {say_duration(max_duration_s, precise=True)}."


def too_many(max_timers: int) -> str:
    return f"You already have {count_words(max_timers)} timers. Cancel one first."


def _a(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def duplicate(timer: Timer, now_s: float) -> str:
    """'You already have an egg timer; it has 3 minutes left.'"""
    name = label(timer)
    return f"You already have {_a(name)} {name}; it {_state_clause(timer, now_s)}."


def answers_for(language: str) -> ModuleType:
    """This module, or the one with the same functions in ``language`` (Spanish: ``answers_es``)."""
    if language == "es":
        from satellite.timers import answers_es

        return answers_es
    return sys.modules[__name__]
