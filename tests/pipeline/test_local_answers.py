from __future__ import annotations

import datetime as dt

import pytest

from satellite.pipeline.local_answers import is_time_sensitive, local_answer

NOW = dt.datetime(2026, 3, 3, 19, 5)


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("What time is it?", "It's 7:05 PM."),
        ("what's the time", "It's 7:05 PM."),
        ("What is the date today?", "Today is Tuesday, March 3, 2026."),
        ("what day is it", "Today is Tuesday, March 3, 2026."),
        ("what year is it", "It's 2026."),
        ("What's the weather like?", "I'm offline, so I can't check that for you."),
        ("who wrote pride and prejudice", None),
    ],
)
def test_clock_questions_are_answered_locally(question: str, answer: str | None) -> None:
    assert local_answer(question, now=lambda: NOW) == answer


@pytest.mark.parametrize(
    ("question", "sensitive"),
    [
        ("what time is it", True),
        ("what is on my calendar for friday", True),
        ("will it rain tomorrow", True),
        ("what's the weather", True),
        ("who wrote pride and prejudice", False),
        ("tell me a joke", False),
        ("what is the square root of one hundred forty four", False),
    ],
)
def test_time_sensitive_questions(question: str, sensitive: bool) -> None:
    assert is_time_sensitive(question) is sensitive
