"""Adaptive endpointing's judgement of a speculative transcript."""

from __future__ import annotations

import pytest

from satellite.room.endpointing import Ending, judge


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


@pytest.mark.parametrize("text", [
    "Set a timer.", "Okay, set a timer.", "Set an alarm.", "Remind me.", "Turn on.", "Start a timer",
])
def test_a_request_without_its_object_waits_for_it(text: str) -> None:
    assert judge(text) is Ending.TRAILING


@pytest.mark.parametrize("text", [
    "Set a timer for ten minutes.", "Set a timer for 10 minutes.", "Set an alarm for seven thirty.",
    "Cancel the timer.", "How long is left on the timer?", "Stop.", "Thank you.", "Good night.",
    "Is it raining", "Could you turn on the lights.", "Tell me a joke.", "What's the weather",
])
def test_a_question_a_whole_request_or_a_reply_ends_at_once(text: str) -> None:
    assert judge(text) is Ending.COMPLETE


@pytest.mark.parametrize("text", [
    "Roses are red.", "My sister is visiting.", "He was not an ill disposed young man.",
    "Had he married a more amiable woman, he might have been made still more respectable.",
    "It's cold in here.", "For ten minutes.",
])
def test_a_sentence_that_asks_nothing_waits_a_little_for_more(text: str) -> None:
    assert judge(text) is Ending.SENTENCE


@pytest.mark.parametrize(("text", "ending"), [
    ("¿Qué hora es?", Ending.COMPLETE), ("Enciende la luz del salón.", Ending.COMPLETE),
    ("Para.", Ending.COMPLETE), ("Pon un temporizador.", Ending.TRAILING),
    ("Pon un temporizador de diez minutos.", Ending.COMPLETE), ("Enciende la luz y", Ending.TRAILING),
    ("Hace frío.", Ending.SENTENCE),
])
def test_spanish_has_its_own_words(text: str, ending: Ending) -> None:
    assert judge(text, "es") is ending


def test_a_language_without_words_ends_every_whole_sentence_at_once() -> None:
    assert judge("Il fait froid.", "fr") is Ending.COMPLETE
    assert judge("Allume la lumière...", "fr") is Ending.TRAILING


def test_each_ending_waits_its_own_silence() -> None:
    from satellite.config.schema import VadConfig
    from satellite.room.endpointing import silence_to_wait_ms

    vad = VadConfig()
    waits = [silence_to_wait_ms(e, vad) for e in (Ending.COMPLETE, Ending.SENTENCE, Ending.TRAILING)]
    assert waits == [vad.min_hangover_ms, vad.sentence_hangover_ms, vad.trailing_hangover_ms]
    assert waits == sorted(waits)
