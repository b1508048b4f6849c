"""Intent recognition (hassil + home-assistant-intents): the fast path before the LLM.

``recognizer_for(config)`` is the recognizer the turn service asks on every
question: a recognized command ("turn on the kitchen lights") gets a short
confirmation at once instead of an LLM round trip; anything else goes on to
the cache and the LLM. The Wyoming door answers ``recognize`` and Home
Assistant's ``transcript`` through the same service.
"""

from __future__ import annotations

import functools

from satellite.config import Config
from satellite.intents.recognizer import IntentMatch, IntentRecognizer, guess_domain, load_intents
from satellite.intents.responses import confirmation


@functools.lru_cache(maxsize=8)
def _recognizer(language: str, areas: tuple[str, ...],
                entities: tuple[str | tuple[str, str], ...]) -> IntentRecognizer:
    return IntentRecognizer(language, areas, entities)


def recognizer_for(config: Config, home_areas: tuple[str, ...] = (),
                   home_entities: tuple[tuple[str, str], ...] = ()) -> IntentRecognizer | None:
    """The recognizer for the configured language, areas and devices (plus those Home Assistant
    named, with their domains), or None when intents are off."""
    if not config.intent.enabled:
        return None
    own_room = (config.room,) if config.room else ()  # "tell the kitchen …" names it
    return _recognizer(config.intent.language, (*config.intent.areas, *own_room, *home_areas),
                       (*config.intent.entities, *home_entities))  # what HA says wins


def recognize(config: Config, text: str) -> IntentMatch | None:
    """One-shot recognition with the configured recognizer (None when intents are off)."""
    recognizer = recognizer_for(config)
    return recognizer.recognize(text) if recognizer is not None else None


__all__ = [
    "IntentMatch",
    "IntentRecognizer",
    "confirmation",
    "guess_domain",
    "load_intents",
    "recognize",
    "recognizer_for",
]
