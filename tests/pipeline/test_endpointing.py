"""Adaptive endpointing's judgement of a speculative transcript."""

from __future__ import annotations

import pytest

from satellite.pipeline.endpointing import Ending, judge


@pytest.mark.parametrize("text", [
    "Turn on the kitchen lights and...", "turn on the kitchen light and", "Set a timer for.",
    "What is the weather like in", "Add milk and eggs to the", "So, um...", "Remind me to -",
    "Tell me a joke about", "Turn on the lights,",
])
def test_a_question_that_trails_off_waits(text: str) -> None:
    assert judge(text) is Ending.TRAILING


@pytest.mark.parametrize("text", [
    "Turn on the kitchen lights.", "turn on the kitchen lights", "What time is it?",
    "Turn the light on", "Switch it off.", "Remind me to call my mother.", "",
])
def test_a_finished_question_ends(text: str) -> None:
    assert judge(text) is Ending.COMPLETE
