"""The hassil recognizer over home-assistant-intents' English sentences, as tables of text → intent."""

from __future__ import annotations

from pathlib import Path

import pytest

from satellite.intents import IntentRecognizer, guess_domain, recognizer_for
from satellite.intents.responses import confirmation
from tests.conftest import make_config

AREAS = ["kitchen", "living room", "bedroom", "office"]
DEVICES = ["kitchen lights", "bedroom lamp", "front door", "blinds"]


@pytest.fixture(scope="module")
def recognizer() -> IntentRecognizer:
    return IntentRecognizer("en", AREAS, DEVICES)


@pytest.mark.parametrize(("text", "intent", "entities"), [
    ("turn on the kitchen lights", "HassTurnOn", {"name": "kitchen lights"}),
    ("Turn on the kitchen lights.", "HassTurnOn", {"name": "kitchen lights"}),
    ("please turn off the bedroom lamp", "HassTurnOff", {"name": "bedroom lamp"}),
    ("turn off the lights in the bedroom", "HassTurnOff", {"area": "bedroom", "domain": "light"}),
    ("lock the front door", "HassTurnOn", {"name": "front door"}),
    ("open the blinds", "HassTurnOn", {"name": "blinds"}),
    ("set the kitchen lights to 50%", "HassLightSet", {"name": "kitchen lights", "brightness": 50}),
    ("what's the weather like", "HassGetWeather", {}),
])
def test_commands_are_recognized_with_their_entities(recognizer: IntentRecognizer, text: str,
                                                     intent: str, entities: dict[str, object]) -> None:
    match = recognizer.recognize(text)
    assert match is not None, text
    assert match.name == intent
    for key, value in entities.items():
        assert match.entities.get(key) == value, (key, match.entities)


@pytest.mark.parametrize("text", ["what is the capital of france", "tell me a joke", "", "   ",
                                  "tell me a long story about the sea", "is the front door open",
                                  "I turned on the oven", "you turned off the lights",
                                  "turn on my computer please and then go to bed"])
def test_other_sentences_are_not_recognized(recognizer: IntentRecognizer, text: str) -> None:
    assert recognizer.recognize(text) is None


@pytest.mark.parametrize(("text", "intent", "unknown", "entities"), [
    ("turn on the kitchen mites", "HassTurnOn", "mites", {"area": "kitchen"}),  # Whisper, once
    ("Turn on the spaceship.", "HassTurnOn", "spaceship", {}),
    ("switch off the telly", "HassTurnOff", "telly", {}),
    ("turn the bedroom thing off", "HassTurnOff", "thing", {"area": "bedroom"}),
])
def test_a_command_to_a_device_nobody_has_is_still_a_command(
        recognizer: IntentRecognizer, text: str, intent: str, unknown: str,
        entities: dict[str, object]) -> None:
    match = recognizer.recognize(text)
    assert match is not None and match.name == intent
    assert match.unknown == unknown and match.entities == entities
    assert match.reply is None  # nothing to confirm: it cannot be done as heard


def test_a_spanish_command_to_an_unknown_device_is_a_command() -> None:
    match = IntentRecognizer("es", ["cocina"], ["luz de la cocina"]).recognize(
        "enciende la nuez de la cocina")
    assert match is not None and match.name == "HassTurnOn" and match.unknown == "nuez"


@pytest.mark.parametrize(("text", "reply"), [
    ("turn on the kitchen lights", "Turning on the kitchen lights."),
    ("turn off the lights in the kitchen", "Turning off the lights in the kitchen."),
    ("lock the front door", "Locking the front door."),
    ("close the blinds", "Closing the blinds."),
    ("what's the weather like", None),  # a question: left to the LLM
])
def test_fast_path_replies_confirm_actions_only(recognizer: IntentRecognizer, text: str,
                                                reply: str | None) -> None:
    match = recognizer.recognize(text)
    assert match is not None
    assert match.reply == reply


def test_recognizer_follows_the_config(tmp_path: Path) -> None:
    recognizer = recognizer_for(make_config(tmp_path, intent__entities=["garage door"]))
    assert recognizer is not None
    match = recognizer.recognize("open the garage door")
    assert match is not None and match.reply == "Opening the garage door."
    assert recognizer.recognize("how tall is mount everest") is None
    assert recognizer_for(make_config(tmp_path, intent__enabled=False)) is None


@pytest.mark.parametrize(("name", "domain"), [("kitchen lights", "light"), ("front door", "lock"),
                                              ("living room blinds", "cover"), ("coffee maker", "switch")])
def test_device_domain_is_guessed_from_its_name(name: str, domain: str) -> None:
    assert guess_domain(name) == domain


def test_unknown_intent_has_no_confirmation() -> None:
    assert confirmation("HassGetState", {"name": "x"}) is None
    assert confirmation("HassTurnOn", {}) == "Turning on the device."


@pytest.mark.parametrize(
    ("text", "intent", "entities", "reply"),
    [
        ("Enciende la luz de la cocina.", "HassTurnOn", {"area": "cocina", "domain": "light"},
         "Encendiendo."),
        ("apaga las luces de la cocina", "HassTurnOff", {"name": "luces de la cocina"},
         "Apagando luces de la cocina."),
        ("abre las persianas", "HassTurnOn", {"name": "persianas"}, "Abriendo persianas."),
        ("pon un temporizador de cinco minutos", "HassStartTimer", {"minutes": 5}, None),
        ("olvídalo", "HassNevermind", {}, "Vale."),
        ("Y enciende la luz del salón.", "HassTurnOn", {"area": "salón", "domain": "light"},
         "Encendiendo."),  # Whisper base's "Y" before a command that starts its clip
        ("pues, apaga las luces de la cocina", "HassTurnOff", {"name": "luces de la cocina"},
         "Apagando luces de la cocina."),
    ],
)
def test_spanish_sentences_from_home_assistant_intents(text: str, intent: str, entities: dict,
                                                       reply: str | None) -> None:
    from satellite.config.languages import LANGUAGE_DEFAULTS

    defaults = LANGUAGE_DEFAULTS["es"]
    recognizer = IntentRecognizer("es", defaults["intent.areas"], defaults["intent.entities"])
    match = recognizer.recognize(text)
    assert match is not None
    assert (match.name, {k: v for k, v in match.entities.items() if k in entities}, match.reply) == \
        (intent, entities, reply)


@pytest.mark.parametrize(("text", "intent"), [
    ("And turn on the kitchen lights", "HassTurnOn"),
    ("so, lock the front door", "HassTurnOn"),
    ("um uh open the blinds", "HassTurnOn"),
])
def test_a_command_may_open_with_a_word_that_changes_nothing(recognizer: IntentRecognizer, text: str,
                                                             intent: str) -> None:
    match = recognizer.recognize(text)
    assert match is not None and match.name == intent


@pytest.mark.parametrize("text", ["and", "so what", "and tell me a joke", "sort the kitchen lights"])
def test_only_whole_opening_words_are_dropped(recognizer: IntentRecognizer, text: str) -> None:
    assert recognizer.recognize(text) is None
