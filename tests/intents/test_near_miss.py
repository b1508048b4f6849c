"""Near misses (#18, part 8): a transcript one word off a command reaches it; questions and
statements that look like commands never become one. Every line of the shipped set is a case."""

from __future__ import annotations

import pytest

from satellite.benchdata.near_misses import HOME, KINDS, NearMissLine, evaluate, load_lines
from satellite.intents import IntentRecognizer
from satellite.intents.near_miss import NearMissCorrector

LINES = load_lines()


@pytest.fixture(scope="module")
def recognizers() -> dict[str, IntentRecognizer]:
    return {language: IntentRecognizer(language, *HOME[language]) for language in HOME}


def test_the_shipped_set_has_enough_of_each_kind_in_both_languages() -> None:
    for language in HOME:
        counts = {kind: sum(1 for line in LINES if (line.language, line.kind) == (language, kind))
                  for kind in KINDS}
        assert counts["near_miss"] >= 15, (language, counts)
        assert counts["not_command"] >= 15, (language, counts)
        assert counts["declined"] >= 1, (language, counts)


@pytest.mark.parametrize("line", [line for line in LINES if line.kind == "near_miss"],
                         ids=lambda line: f"{line.language}:{line.heard}")
def test_a_near_miss_reaches_the_command_that_was_said(
        recognizers: dict[str, IntentRecognizer], line: NearMissLine) -> None:
    outcome = evaluate(line, recognizers[line.language].recognize)
    assert outcome.ok, outcome.why
    assert outcome.got is not None and outcome.got.heard == line.heard.strip()


@pytest.mark.parametrize("line", [line for line in LINES if line.kind != "near_miss"],
                         ids=lambda line: f"{line.language}:{line.kind}:{line.heard}")
def test_a_question_or_statement_or_declined_miss_is_left_alone(
        recognizers: dict[str, IntentRecognizer], line: NearMissLine) -> None:
    outcome = evaluate(line, recognizers[line.language].recognize)
    assert outcome.ok, outcome.why


def test_a_near_miss_is_recognized_as_the_corrected_sentence(
        recognizers: dict[str, IntentRecognizer]) -> None:
    match = recognizers["es"].recognize("Por un temporizador de 10 minutos.")
    assert match is not None
    assert match.name == "HassStartTimer" and match.entities == {"minutes": 10}
    assert match.text.lower() == "pon un temporizador de 10 minutos"
    assert match.heard == "Por un temporizador de 10 minutos."


def test_an_exact_match_says_nothing_was_corrected(recognizers: dict[str, IntentRecognizer]) -> None:
    match = recognizers["en"].recognize("turn off the kitchen light")
    assert match is not None and match.heard is None


def test_a_name_heard_one_sound_off_reaches_the_device_home_assistant_named() -> None:
    recognizer = IntentRecognizer("en", ["study"], [("reading lamp", "light")])
    match = recognizer.recognize("turn on the reeding lamp")
    assert match is not None
    assert (match.name, match.entities["name"]) == ("HassTurnOn", "reading lamp")


def test_two_commands_one_word_away_is_a_guess_and_not_taken() -> None:
    # "lamp" is one letter from both "camp" and "damp": two devices, two different commands
    recognizer = IntentRecognizer("en", [], ["camp light", "damp light"])
    assert recognizer.recognize("turn on the lamp light") is None
    assert recognizer.recognize("turn on the camp light") is not None


@pytest.mark.parametrize("text", ["¡Qué es!", "qué es", "Time."])
def test_a_missing_word_is_never_supplied(recognizers: dict[str, IntentRecognizer], text: str) -> None:
    language = "en" if text == "Time." else "es"
    assert recognizers[language].recognize(text) is None


WORDS = ["turn", "off", "on", "the", "light", "in"]


def test_the_corrector_proposes_a_word_of_the_same_sound() -> None:
    corrector = NearMissCorrector("en", WORDS, verbs=["turn"])
    assert [c.text for c in corrector.corrections("turn of the light")] == ["turn off the light"]


def test_the_corrector_never_puts_a_verb_in_for_another_form_of_it() -> None:
    corrector = NearMissCorrector("en", WORDS, verbs=["turn"])
    assert corrector.corrections("turns off the light") == []  # a report, not a request


def test_the_corrector_never_replaces_a_negation() -> None:
    corrector = NearMissCorrector("en", WORDS, verbs=["turn"])
    proposals = corrector.corrections("don't turn of the light")
    assert proposals and all(c.text.startswith("don't ") for c in proposals)


@pytest.mark.parametrize("heard", ["turn of the light in paris yesterday",  # two unknown words
                                   "of the",  # too short
                                   "turn of the light " + "and the light " * 4])  # too long
def test_the_corrector_leaves_alone_what_is_far_from_every_command(heard: str) -> None:
    corrector = NearMissCorrector("en", WORDS + ["and"], verbs=["turn"])
    assert corrector.corrections(heard) == []
