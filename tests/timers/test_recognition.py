"""Timer sentences through the real recognizer (hassil + home-assistant-intents + our additions)
and the timer package's own phrase matcher, as tables of text → intent and slots."""

from __future__ import annotations

from typing import Any

import pytest

from satellite.intents import IntentRecognizer
from satellite.timers import STOP_RINGING, TIMER_INTENTS, TimerPhraseMatcher, duration_from_slots


@pytest.fixture(scope="module")
def recognizer() -> IntentRecognizer:
    return IntentRecognizer("en", ["kitchen", "living room", "bedroom", "office"],
                            ["kitchen lights", "bedroom lamp", "front door", "blinds"])


@pytest.fixture(scope="module")
def matcher() -> TimerPhraseMatcher:
    return TimerPhraseMatcher("en")


# (text, intent, slots that must be there, seconds the hours/minutes/seconds slots add up to)
RECOGNIZED: list[tuple[str, str, dict[str, Any], float | None]] = [
    # shipped by home-assistant-intents
    ("set a timer for five minutes", "HassStartTimer", {}, 300),
    ("Set a timer for 1 hour and 30 minutes.", "HassStartTimer", {}, 5400),
    ("set a timer for twenty five minutes", "HassStartTimer", {}, 1500),
    ("set a timer for one and a half hours", "HassStartTimer", {}, 5400),
    ("set a timer for half an hour", "HassStartTimer", {}, 1800),
    ("set a ten minute timer for pasta", "HassStartTimer", {"name": "pasta"}, 600),
    ("start a 5 minute timer", "HassStartTimer", {}, 300),
    ("how much time is left on the timer?", "HassTimerStatus", {}, None),
    ("how much time is left on the pasta timer", "HassTimerStatus", {"name": "pasta"}, None),
    ("how much time is left on the ten minute timer", "HassTimerStatus", {"start_minutes": 10}, None),
    ("add two minutes to the timer", "HassIncreaseTimer", {}, 120),
    ("add 2 minutes to the pasta timer", "HassIncreaseTimer", {"name": "pasta"}, 120),
    ("take two minutes off the timer", "HassDecreaseTimer", {}, 120),
    ("cancel the timer", "HassCancelTimer", {}, None),
    ("cancel the pasta timer", "HassCancelTimer", {"name": "pasta"}, None),
    ("cancel the ten minute timer", "HassCancelTimer", {"start_minutes": 10}, None),
    ("stop the timer", "HassCancelTimer", {}, None),
    ("cancel all timers", "HassCancelAllTimers", {}, None),
    ("pause the timer", "HassPauseTimer", {}, None),
    ("resume the timer", "HassUnpauseTimer", {}, None),
    ("continue the pasta timer", "HassUnpauseTimer", {"name": "pasta"}, None),
    # added by satellite/intents/timer_sentences.py
    ("set a ten minute pasta timer", "HassStartTimer", {"name": "pasta"}, 600),
    ("set a 10 minute pasta timer", "HassStartTimer", {"name": "pasta"}, 600),
    ("set a one hour thirty minute roast timer", "HassStartTimer", {"name": "roast"}, 5400),
    ("set a pasta timer for ten minutes", "HassStartTimer", {"name": "pasta"}, 600),
    ("set the egg timer for 7 minutes", "HassStartTimer", {"name": "egg"}, 420),
    ("set a timer for a minute", "HassStartTimer", {}, 60),
    ("set a timer for an hour", "HassStartTimer", {}, 3600),
    ("set a timer for a minute and a half", "HassStartTimer", {}, 90),
    ("set a timer for an hour and a half", "HassStartTimer", {}, 5400),
    ("add a minute to the timer", "HassIncreaseTimer", {}, 60),
    ("remove a minute from the timer", "HassDecreaseTimer", {}, 60),
    ("subtract two minutes from the egg timer", "HassDecreaseTimer", {"name": "egg"}, 120),
    ("unpause the timer", "HassUnpauseTimer", {}, None),
    ("cancel my timers", "HassCancelAllTimers", {}, None),
    ("how much longer on the pasta timer", "HassTimerStatus", {"name": "pasta"}, None),
]


@pytest.mark.parametrize(("text", "intent", "slots", "seconds"), RECOGNIZED)
def test_timer_sentences_are_recognized(recognizer: IntentRecognizer, text: str, intent: str,
                                        slots: dict[str, Any], seconds: float | None) -> None:
    match = recognizer.recognize(text)
    assert match is not None, text
    assert match.name == intent
    for key, value in slots.items():
        assert match.entities.get(key) == value, match.entities
    assert duration_from_slots(match.entities) == seconds
    assert match.reply is None  # the timer service says what it really did
    assert match.name in TIMER_INTENTS


@pytest.mark.parametrize("text", ["set a timer", "add two minutes", "stop", "how much time is left",
                                  "what time is it in paris"])
def test_recognizer_leaves_state_dependent_phrases_alone(recognizer: IntentRecognizer, text: str) -> None:
    match = recognizer.recognize(text)
    assert match is None or match.name not in TIMER_INTENTS, match


def test_home_commands_still_win(recognizer: IntentRecognizer) -> None:
    match = recognizer.recognize("turn on the kitchen lights")
    assert match is not None and match.name == "HassTurnOn" and match.reply is not None


# (text, intent while ringing, intent while nothing rings, seconds)
PHRASES: list[tuple[str, str | None, str | None, float | None]] = [
    ("stop", STOP_RINGING, None, None),
    ("Stop!", STOP_RINGING, None, None),
    ("okay, stop", STOP_RINGING, None, None),
    ("stop the alarm", STOP_RINGING, None, None),
    ("be quiet", STOP_RINGING, None, None),
    ("add two minutes", "HassIncreaseTimer", "HassIncreaseTimer", 120),
    ("add 2 minutes", "HassIncreaseTimer", "HassIncreaseTimer", 120),
    ("add a minute", "HassIncreaseTimer", "HassIncreaseTimer", 60),
    ("add another minute", "HassIncreaseTimer", "HassIncreaseTimer", 60),
    ("give me two more minutes", "HassIncreaseTimer", "HassIncreaseTimer", 120),
    ("five more minutes", "HassIncreaseTimer", "HassIncreaseTimer", 300),
    ("add 1 minute and 30 seconds", "HassIncreaseTimer", "HassIncreaseTimer", 90),
    ("take a minute off", "HassDecreaseTimer", "HassDecreaseTimer", 60),
    ("take off 30 seconds", "HassDecreaseTimer", "HassDecreaseTimer", 30),
    ("how much time is left", "HassTimerStatus", "HassTimerStatus", None),
    ("How long is left?", "HassTimerStatus", "HassTimerStatus", None),
    ("how much longer", "HassTimerStatus", "HassTimerStatus", None),
    ("stop the music", None, None, None),
    ("how much time is left in the year", None, None, None),
    ("add milk to the shopping list", None, None, None),
    ("turn off the lights", None, None, None),
]


@pytest.mark.parametrize(("text", "ringing_intent", "quiet_intent", "seconds"), PHRASES)
def test_the_timer_phrase_matcher(matcher: TimerPhraseMatcher, text: str, ringing_intent: str | None,
                                  quiet_intent: str | None, seconds: float | None) -> None:
    for ringing, intent in ((True, ringing_intent), (False, quiet_intent)):
        match = matcher.match(text, ringing=ringing)
        assert (match.name if match else None) == intent, (text, ringing)
        if match is not None:
            assert match.reply is None
            assert duration_from_slots(match.entities) == seconds


def test_other_languages_match_nothing_here() -> None:
    assert TimerPhraseMatcher("de").match("stop", ringing=True) is None
