"""Stop words: what a person says to silence the box ("stop", "cancel", "never mind", "be quiet",
"para", "cállate", "olvídalo"), without the wake word, over a reply or a ringing timer.

Said over the box's own sound they need no wake word, so they must be short and whole: the
utterance is matched as a whole sentence (hassil, with the skip words of home-assistant-intents:
"please", "por favor"), so "stop the car before the bridge" or "don't stop" is no stop, and what
the box says itself never reaches this (the echo canceller takes it out first). English and
Spanish; other languages have none (a reply is then stopped by the wake word only).
"""

from __future__ import annotations

import functools

from hassil import Intents, recognize_best
from home_assistant_intents import get_intents

STOP = "SatelliteStop"

STOP_SENTENCES: dict[str, list[str]] = {
    "en": [
        "stop [it|that|this|talking|now]",
        "stop [the|my] (timer|timers|alarm|ringing|ring|sound|noise|beeping)",
        "(ok|okay|alright|all right) [just] stop [it|that|talking]",
        "(turn|switch|shut) it off",
        "(be quiet|quiet|silence|shut up|hush|enough|that's enough|dismiss)",
        "(cancel|cancel that|never mind|nevermind|forget it)",
    ],
    "es": [
        "(para|pare|parar|detente|detén|alto|basta|stop) [ya|eso|de hablar]",
        "(ok|okay|vale|bueno) (para|basta|cállate|calla)",
        "para (el temporizador|la alarma|el sonido)",
        "(cállate|calla|silencio|apágalo|ya está|ya basta|es suficiente)",
        "(cancela|cancelar|cancélalo|olvídalo|olvida eso|déjalo|da igual|no importa)",
    ],
}


@functools.lru_cache(maxsize=4)
def _load(language: str) -> tuple[Intents, tuple[str, ...]] | None:
    sentences = STOP_SENTENCES.get(language)
    if sentences is None:
        return None
    data = get_intents(language) or {}
    intents = Intents.from_dict({"language": language,
                                 "intents": {STOP: {"data": [{"sentences": sentences}]}}})
    return intents, tuple(data.get("skip_words", ()))


def is_stop(text: str, language: str) -> bool:
    """Whether ``text`` as a whole asks the box to stop (pure; a few ms)."""
    loaded = _load(language)
    text = text.strip()
    if loaded is None or not text:
        return False
    intents, skip_words = loaded
    return recognize_best(text, intents, skip_words=skip_words, language=language) is not None


__all__ = ["STOP", "STOP_SENTENCES", "is_stop"]
