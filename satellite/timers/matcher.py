"""The timer package's own small matcher: short phrases that mean a timer only on this box.

home-assistant-intents has no sentence for "stop" while a timer rings, nor for
"add two minutes" / "how much time is left" without the word "timer": said to a
kitchen box with a timer going they are the most natural follow-ups, said to
Home Assistant in general they could mean anything. So they are matched here,
before the general recognizer, with hassil over templates of our own that reuse
the package's number lists (``timer_minutes``... so "two", "twenty five" and
"25" all work) and the ``<timer_duration>`` rule of ``satellite.intents``:

- ``STOP_RINGING`` (the stop words: "stop", "be quiet", "never mind"...): only while a
  timer rings; otherwise the sentence is left to the rest of the box.
- ``HassIncreaseTimer`` ("add two minutes", "two more minutes", "give me
  another minute"), ``HassDecreaseTimer`` ("take a minute off", "remove 30
  seconds"), ``HassTimerStatus`` ("how much time is left", "how much longer"):
  always, so with no timer the answer is the truthful "There is no timer running."
  rather than a guess by the language model.

The whole sentence must match (hassil), so "how much time is left in the year"
is not a timer question. English only; other languages match nothing here.
"""

from __future__ import annotations

import functools
from typing import Any

from hassil import Intents, recognize_best
from home_assistant_intents import get_intents

from satellite.intents.recognizer import IntentMatch
from satellite.intents.stop_words import STOP_SENTENCES
from satellite.intents.timer_sentences import EXPANSION_RULES, LANGUAGE, LISTS

STOP_RINGING = "TimerStopRinging"

_SENTENCES: dict[str, list[str]] = {
    STOP_RINGING: STOP_SENTENCES[LANGUAGE],  # the room's stop words (``stop_words``)
    "HassIncreaseTimer": [
        "(add|give me|give it) [another|an extra] <timer_duration> [more]",
        "add <timer_duration> [more] to it",
        "[add|give me|give it] {timer_hours:hours} more hour[s]",
        "[add|give me|give it] {timer_minutes:minutes} more minute[s]",
        "[add|give me|give it] {timer_seconds:seconds} more second[s]",
        "[add|give me|give it] (another|one more|an extra) minute",
    ],
    "HassDecreaseTimer": [
        "(remove|subtract) <timer_duration>",
        "take [off] <timer_duration> [off]",
    ],
    "HassTimerStatus": [
        "how (much time|long) [is] left",
        "how much time do i have [left]",
        "how much longer [is it|is left]",
    ],
}
# "another minute" has no number in it: the slot it means.
_FIXED_SLOTS: dict[str, dict[str, Any]] = {
    "[add|give me|give it] (another|one more|an extra) minute": {"minutes": 1},
}


@functools.lru_cache(maxsize=2)
def _load(language: str) -> tuple[Intents, tuple[str, ...]] | None:
    if language != LANGUAGE:
        return None
    data = get_intents(language)
    if data is None:
        return None
    intents: dict[str, Any] = {}
    for name, sentences in _SENTENCES.items():
        plain = [s for s in sentences if s not in _FIXED_SLOTS]
        entries: list[dict[str, Any]] = [{"sentences": plain}] if plain else []
        entries += [{"sentences": [s], "slots": _FIXED_SLOTS[s]} for s in sentences if s in _FIXED_SLOTS]
        intents[name] = {"data": entries}
    lists = {key: value for key, value in data["lists"].items() if key.startswith("timer_")}
    lists.update(LISTS)
    rules = {key: data["expansion_rules"][key] for key in ("timer_remove", "the")}
    rules.update(EXPANSION_RULES)
    parsed = Intents.from_dict({"language": language, "intents": intents, "lists": lists,
                                "expansion_rules": rules})
    return parsed, tuple(data.get("skip_words", ()))


class TimerPhraseMatcher:
    """Pure over text and one fact (is a timer ringing?): ``match(text, ringing=...)``."""

    def __init__(self, language: str = LANGUAGE):
        self.language = language
        self._loaded = _load(language)

    def match(self, text: str, *, ringing: bool) -> IntentMatch | None:
        text = text.strip()
        if self._loaded is None or not text:
            return None
        intents, skip_words = self._loaded
        result = recognize_best(text, intents, skip_words=skip_words, language=self.language)
        if result is None or (result.intent.name == STOP_RINGING and not ringing):
            return None
        entities = {name: entity.value for name, entity in result.entities.items()}
        return IntentMatch(result.intent.name, entities, text, None)
