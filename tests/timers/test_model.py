"""The pure timer rules, as tables: durations from slots, names, which timer a command means, phrasing."""

from __future__ import annotations

from typing import Any

import pytest

from satellite.timers import answers
from satellite.timers.model import (
    Timer,
    TimerQuery,
    TimerState,
    choose,
    clean_name,
    duration_from_slots,
    label,
    new_timer,
)

NOW = 1_000_000.0


def running(timer_id: str, duration_s: float, *, name: str | None = None, left_s: float | None = None,
            created_s: float = NOW - 10, area: str | None = None) -> Timer:
    timer = new_timer(timer_id, duration_s, created_s, name=name, area=area)
    return timer.running(NOW, duration_s if left_s is None else left_s)


def in_state(timer: Timer, state: TimerState) -> Timer:
    return timer.paused(NOW) if state is TimerState.PAUSED else timer.with_state(state)


@pytest.mark.parametrize(("slots", "prefix", "seconds"), [
    ({"minutes": 5}, "", 300.0),
    ({"minutes": 5.0}, "", 300.0),
    ({"hours": 1.0, "minutes": 30.0}, "", 5400.0),
    ({"hours": 1, "minutes": 30, "seconds": 15}, "", 5415.0),
    ({"seconds": 90}, "", 90.0),
    ({"minutes": "10"}, "", 600.0),
    ({"name": "pasta"}, "", None),
    ({"start_minutes": 10, "minutes": 2}, "start_", 600.0),
    ({"minutes": 2}, "start_", None),
])
def test_duration_comes_from_the_hours_minutes_seconds_slots(slots: dict[str, Any], prefix: str,
                                                            seconds: float | None) -> None:
    assert duration_from_slots(slots, prefix) == seconds


@pytest.mark.parametrize(("raw", "name"), [
    ("pasta", "pasta"), ("Pasta", "pasta"), ("the pasta", "pasta"), ("my  Egg  timer", "egg"),
    ("timer", None), ("", None), (None, None), ("a pizza", "pizza"), ("banana bread", "banana bread"),
])
def test_names_are_compared_without_articles_case_or_the_word_timer(raw: str | None,
                                                                    name: str | None) -> None:
    assert clean_name(raw) == name


PASTA = running("p", 600, name="pasta", created_s=NOW - 100)
EGGS = running("e", 420, name="eggs", created_s=NOW - 50)
TEN = running("t", 600, created_s=NOW - 30)
TEN_LATER = running("t2", 600, created_s=NOW - 5)
FIVE = running("f", 300, created_s=NOW - 20)


@pytest.mark.parametrize(("timers", "query", "prefer_ringing", "chosen", "ambiguous"), [
    # the only one
    ([PASTA], TimerQuery(), False, ["p"], False),
    # by name
    ([PASTA, EGGS], TimerQuery(name="eggs"), False, ["e"], False),
    ([PASTA, EGGS], TimerQuery(name="pizza"), False, [], False),
    # by the duration it was set for ("the ten minute timer")
    ([FIVE, TEN], TimerQuery(duration_s=600), False, ["t"], False),
    ([FIVE, TEN], TimerQuery(duration_s=120), False, [], False),
    # two a person cannot tell apart by voice: the most recent
    ([TEN, TEN_LATER], TimerQuery(), False, ["t2"], False),
    ([TEN, TEN_LATER, FIVE], TimerQuery(duration_s=600), False, ["t2"], False),
    # two different ones and no hint: ask
    ([PASTA, EGGS], TimerQuery(), False, [], True),
    ([PASTA, TEN], TimerQuery(duration_s=600), False, [], True),
    # all of them
    ([PASTA, EGGS, FIVE], TimerQuery(all=True), False, ["p", "e", "f"], False),
    # "stop the timer" while one rings: that one
    ([PASTA, in_state(EGGS, TimerState.RINGING)], TimerQuery(), True, ["e"], False),
    ([PASTA, in_state(EGGS, TimerState.RINGING)], TimerQuery(), False, [], True),
    # by area
    ([running("k", 60, area="kitchen"), running("o", 60, name="x", area="office")],
     TimerQuery(area="kitchen"), False, ["k"], False),
    # a timer set where the room was not known is in any room
    ([running("n", 60)], TimerQuery(area="kitchen"), False, ["n"], False),
    ([], TimerQuery(), False, [], False),
])
def test_choose_picks_the_timer_a_command_means(timers: list[Timer], query: TimerQuery,
                                               prefer_ringing: bool, chosen: list[str],
                                               ambiguous: bool) -> None:
    choice = choose(timers, query, prefer_ringing=prefer_ringing)
    assert [t.id for t in choice.chosen] == chosen
    assert choice.ambiguous is ambiguous


def test_remaining_counts_down_while_running_and_freezes_while_paused() -> None:
    timer = running("a", 600, left_s=600)
    assert timer.remaining(NOW + 100) == 500
    paused = timer.paused(NOW + 100)
    assert paused.state is TimerState.PAUSED and paused.ends_at_s is None
    assert paused.remaining(NOW + 10_000) == 500
    assert paused.running(NOW + 200, paused.remaining(NOW + 200)).remaining(NOW + 250) == 450
    assert timer.remaining(NOW + 10_000) == 0
    assert timer.with_state(TimerState.RINGING).remaining(NOW) == 0


@pytest.mark.parametrize(("timer", "text"), [
    (PASTA, "pasta timer"), (TEN, "10 minute timer"), (running("x", 5400), "1 hour 30 minute timer"),
    (running("y", 45), "45 second timer"),
])
def test_label_is_what_a_person_calls_the_timer(timer: Timer, text: str) -> None:
    assert label(timer) == text


@pytest.mark.parametrize(("seconds", "precise", "text"), [
    (250, False, "4 minutes and 10 seconds"),
    (249.2, False, "4 minutes and 10 seconds"),  # rounded up: never less than is left
    (0.3, False, "1 second"),
    (0, False, "0 seconds"),
    (60, False, "1 minute"),
    (61, False, "1 minute and 1 second"),
    (300, False, "5 minutes"),
    (3600, False, "1 hour"),
    (4813, False, "1 hour and 20 minutes"),  # from an hour on, to the minute
    (4813, True, "1 hour, 20 minutes and 13 seconds"),
    (7170, False, "2 hours"),
    (86400, True, "24 hours"),
    (3 * 86400 + 7200, False, "3 days and 2 hours"),
])
def test_durations_are_said_plainly(seconds: float, precise: bool, text: str) -> None:
    assert answers.say_duration(seconds, precise=precise) == text


@pytest.mark.parametrize(("timers", "alone", "text"), [
    ([], True, "There is no timer running."),
    ([running("p", 600, name="pasta", left_s=250)], True,
     "Your pasta timer has 4 minutes and 10 seconds left."),
    ([running("a", 300, left_s=60)], True, "Your timer has 1 minute left."),
    ([running("a", 300, left_s=60)], False, "Your 5 minute timer has 1 minute left."),
    ([running("p", 600, name="pasta", left_s=250).paused(NOW)], True,
     "Your pasta timer is paused with 4 minutes and 10 seconds left."),
    ([running("p", 600, name="pasta").with_state(TimerState.RINGING)], True, "Your pasta timer is done."),
    ([running("e", 420, name="eggs", left_s=30), running("p", 600, name="pasta", left_s=250)], True,
     "You have two timers: the eggs timer has 30 seconds left and the pasta timer has 4 minutes and "
     "10 seconds left."),
    ([running("e", 420, name="eggs", left_s=30), running("t", 600, left_s=120).paused(NOW),
      running("r", 60, name="rice").with_state(TimerState.RINGING)], True,
     "You have three timers: the eggs timer has 30 seconds left, the 10 minute timer is paused with "
     "2 minutes left and the rice timer is done."),
])
def test_status_answers(timers: list[Timer], alone: bool, text: str) -> None:
    assert answers.status(timers, NOW, alone=alone) == text


@pytest.mark.parametrize(("make", "text"), [
    (lambda: answers.started(new_timer("a", 300, NOW)), "Timer set for 5 minutes."),
    (lambda: answers.started(new_timer("a", 600, NOW, name="Pasta")), "Pasta timer set for 10 minutes."),
    (lambda: answers.started(new_timer("a", 5430, NOW)), "Timer set for 1 hour, 30 minutes and 30 seconds."),
    (lambda: answers.which_one([PASTA, EGGS]),
     "You have two timers. Which one do you mean: the pasta timer or the eggs timer?"),
    (lambda: answers.not_found(TimerQuery(name="pizza")), "There is no pizza timer."),
    (lambda: answers.not_found(TimerQuery(duration_s=600)), "There is no 10 minute timer."),
    (lambda: answers.not_found(TimerQuery()), "There is no timer running."),
    (lambda: answers.cancelled([PASTA]), "Cancelled the pasta timer."),
    (lambda: answers.cancelled([in_state(PASTA, TimerState.RINGING)]), "Stopped the pasta timer."),
    (lambda: answers.cancelled([PASTA, EGGS]), "Cancelled both timers."),
    (lambda: answers.cancelled([PASTA, EGGS, TEN]), "Cancelled all three timers."),
    (lambda: answers.rang(PASTA), "Your pasta timer is done."),
    (lambda: answers.rang(TEN), "Your timer is done."),
    (lambda: answers.duplicate(running("e", 420, name="egg", left_s=180), NOW),
     "You already have an egg timer; it has 3 minutes left."),
    (lambda: answers.too_long(86400), "I can only set timers up to 24 hours."),
    (lambda: answers.too_many(10), "You already have ten timers. Cancel one first."),
    (lambda: answers.missed([PASTA.with_state(TimerState.FINISHED)], PASTA.ends_at_s + 720),  # type: ignore[operator]
     "While I was off, your pasta timer went off, 12 minutes ago."),
    (lambda: answers.changed(running("p", 600, name="pasta", left_s=370), 120, NOW, added=True),
     "Added 2 minutes: the pasta timer has 6 minutes and 10 seconds left."),
    (lambda: answers.changed(running("p", 600, name="pasta").with_state(TimerState.RINGING), 300, NOW,
                             added=False),
     "Took 5 minutes off: the pasta timer is done."),
])
def test_answers(make: Any, text: str) -> None:
    assert make() == text
