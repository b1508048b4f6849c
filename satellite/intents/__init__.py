"""Intent recognition (hassil + home-assistant-intents): the fast path before the LLM.

``intent_answer_for(config)`` is what the pipeline calls on every question: a
recognized command ("turn on the kitchen lights") gets a short confirmation
at once instead of an LLM round trip; anything else returns None and goes on
to the cache and the LLM. The Wyoming door uses ``recognizer_for(config)``
directly to answer ``recognize`` and Home Assistant's ``transcript``.
"""

from __future__ import annotations

import functools

from satellite.config import Config
from satellite.intents.recognizer import IntentMatch, IntentRecognizer, guess_domain, load_intents
from satellite.intents.responses import confirmation
from satellite.pipeline.turn import IntentAnswer


@functools.lru_cache(maxsize=8)
def _recognizer(language: str, areas: tuple[str, ...], entities: tuple[str, ...]) -> IntentRecognizer:
    return IntentRecognizer(language, areas, entities)


def recognizer_for(config: Config) -> IntentRecognizer | None:
    """The recognizer for the configured language, areas and devices, or None when intents are off."""
    if not config.intent.enabled:
        return None
    return _recognizer(config.intent.language, tuple(config.intent.areas),
                       tuple(config.intent.entities))


def intent_answer_for(config: Config) -> IntentAnswer | None:
    """The fast-path answerer for the pipeline, or None when intents are off."""
    recognizer = recognizer_for(config)
    if recognizer is None:
        return None

    def answer(text: str) -> str | None:
        match = recognizer.recognize(text)
        return match.reply if match is not None else None

    return answer


def recognize(config: Config, text: str) -> IntentMatch | None:
    """One-shot recognition with the configured recognizer (None when intents are off)."""
    recognizer = recognizer_for(config)
    return recognizer.recognize(text) if recognizer is not None else None


__all__ = [
    "IntentMatch",
    "IntentRecognizer",
    "confirmation",
    "guess_domain",
    "intent_answer_for",
    "load_intents",
    "recognize",
    "recognizer_for",
]
