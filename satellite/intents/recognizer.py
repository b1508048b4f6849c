"""Text → Home Assistant intent, with hassil and the sentences home-assistant-intents ships.

The sentence templates are parsed once per language and cached (about 0.1 s for
English, 0.25 s for Spanish on the 2-core box, so no background loading is needed). Areas and
device names come from the config; a device's domain (light, lock, cover...) is
guessed from its name so the templates that require a domain can match it.

A transcript that matches nothing exactly gets a second chance as a near miss
(``near_miss``): one word replaced by a word of the sentences or names that sounds
like it, and the whole corrected sentence then matched exactly. Such a match keeps
what was heard in ``IntentMatch.heard``; its ``text`` is the command it was taken for.

A switching command whose device name the box does not know ("turn on the kitchen mites", speech
to text one word off a name that sounds nothing like it) is still a command: it matches with that
name in ``IntentMatch.unknown`` (hassil's unmatched entities), so the room hears that the device
cannot be reached or Home Assistant's own "not aware of any device called …" — not the language
model's "I'll be happy to help with that!", which sounds as if something was done.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from hassil import Intents, recognize_best
from hassil.intents import SlotList, TextSlotList
from hassil.recognize import MISSING_ENTITY
from home_assistant_intents import get_intents

from satellite.intents.near_miss import (
    NearMissCorrector,
    TemplateWords,
    fold,
    number_words,
    slot_words,
    words_of,
)
from satellite.intents.responses import confirmation
from satellite.intents.room_sentences import with_room_sentences
from satellite.intents.timer_sentences import with_timer_sentences

_LOGGER = logging.getLogger(__name__)

# Words in a device name → the Home Assistant domain it most likely belongs to.
_DOMAIN_WORDS: tuple[tuple[str, str], ...] = (
    ("light", "light"), ("lamp", "light"), ("bulb", "light"),
    ("garage", "cover"), ("blind", "cover"), ("curtain", "cover"), ("shade", "cover"),
    ("shutter", "cover"), ("window", "cover"), ("lock", "lock"), ("door", "lock"),
    ("fan", "fan"), ("heater", "climate"), ("thermostat", "climate"),
    ("tv", "media_player"), ("speaker", "media_player"), ("vacuum", "vacuum"),
    # Spanish
    ("luz", "light"), ("luces", "light"), ("lámpara", "light"), ("bombilla", "light"),
    ("persiana", "cover"), ("cortina", "cover"), ("toldo", "cover"), ("ventana", "cover"),
    ("cerradura", "lock"), ("puerta", "lock"), ("ventilador", "fan"), ("calefacción", "climate"),
    ("termostato", "climate"), ("tele", "media_player"), ("altavoz", "media_player"),
    ("aspiradora", "vacuum"), ("aspirador", "vacuum"),
)
# Words a command may open with that change nothing about it: people start a follow-up with
# "and", and Whisper base writes "Y" before a Spanish command that starts its clip (seen on an
# Intel Xeon with AVX-512: "y enciende la luz del salón"). Only the opening words are dropped.
_LEADING_FILLERS: dict[str, tuple[str, ...]] = {
    "en": ("and", "so", "um", "uh", "oh"),
    "es": ("y", "e", "pues", "entonces", "eh"),
}
# Lists the templates reference that only a live Home Assistant could fill.
_EMPTY_LISTS = ("floor",)
# Commands that may name a device the box does not know. Only these: "what is the capital of
# France" matches HassGetState with the name "capital of France", and the sentences' optional verbs
# let "Time." or "My timer went off." match HassTurnOn/Off with any name. So the command must open
# with a switching verb and say which way (the words below, per language), and the unknown name
# must be one or two words the box's sentences and names never use: a misheard word ("mites"), not
# "light tomorrow" ("turn off the kitchen light tomorrow" asks for a later time, not a device).
_SWITCH_INTENTS = ("HassTurnOn", "HassTurnOff", "HassToggle")
_SWITCH_VERBS: dict[str, tuple[frozenset[str], frozenset[str]]] = {  # (opening verbs, directions)
    "en": (frozenset({"turn", "switch"}), frozenset({"on", "off"})),
    "es": (frozenset({"enciende", "encienda", "apaga", "apague", "prende", "prenda"}), frozenset()),
}
MAX_UNKNOWN_NAME_WORDS = 2


@dataclass(frozen=True)
class IntentMatch:
    """A recognized command: the intent, its slot values, the text and a short spoken confirmation.

    ``heard``: for a near miss, the transcript as heard; ``text`` is then the command it was
    taken for ("turn off the kitchen light" for "turn of the kitchen light"). None when the
    transcript matched as it was.

    ``unknown``: a device name no known device has ("kitchen mites"); the command cannot be
    carried out as heard, so it has no confirmation (``reply`` is None).
    """

    name: str
    entities: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    reply: str | None = None
    heard: str | None = None
    unknown: str | None = None


def guess_domain(name: str) -> str:
    words = name.lower()
    for word, domain in _DOMAIN_WORDS:
        if word in words:
            return domain
    return "switch"


@functools.lru_cache(maxsize=4)
def load_intents(language: str) -> tuple[Intents, tuple[str, ...]]:
    """The parsed intents and skip words for ``language`` (cached: parsed once per process).

    English gets the timer sentences the package lacks (``timer_sentences``); English and
    Spanish the sentences that speak in another room (``room_sentences``).
    """
    start = time.perf_counter()
    data = get_intents(language)
    if data is None:
        raise ValueError(f"home-assistant-intents has no sentences for language '{language}'")
    intents = Intents.from_dict(with_room_sentences(with_timer_sentences(data)))
    _LOGGER.info("intents for '%s' loaded in %.2f s (%d intents)", language,
                 time.perf_counter() - start, len(intents.intents))
    return intents, tuple(data.get("skip_words", ()))


@functools.lru_cache(maxsize=4)
def load_vocabulary(language: str) -> TemplateWords:
    """The words of ``language``'s sentences and its spoken numbers, for near misses (cached:
    built once per process from hassil's FST of the sentences)."""
    start = time.perf_counter()
    intents = load_intents(language)[0]
    template = TemplateWords.of(intents)
    words = TemplateWords(template.words | number_words(language) | slot_words(intents.slot_lists),
                          template.verbs)
    _LOGGER.info("near-miss words for '%s' gathered in %.2f s (%d words)", language,
                 time.perf_counter() - start, len(words.words))
    return words


class IntentRecognizer:
    """Pure over text: ``recognize(text)`` → ``IntentMatch`` or None."""

    def __init__(self, language: str, areas: Iterable[str],
                 entities: Iterable[str | tuple[str, str]]):
        """``entities``: device names, each alone (its domain guessed from the name) or with the
        domain Home Assistant gives it, ``("front door", "lock")``."""
        self.language = language
        self._intents, self._skip_words = load_intents(language)
        fillers = _LEADING_FILLERS.get(language, ())
        self._fillers = re.compile(r"^(?:(?:" + "|".join(map(re.escape, fillers)) + r")\b[\s,.]*)+",
                                   re.IGNORECASE) if fillers else None
        named = [(e, guess_domain(e)) if isinstance(e, str) else e for e in entities]
        self._slot_lists: dict[str, SlotList] = {
            "area": TextSlotList.from_strings(list(dict.fromkeys(areas)), name="area"),
            "name": TextSlotList.from_tuples(
                [(name, name, {"domain": domain}) for name, domain in dict(named).items()],
                name="name"),
            **{key: TextSlotList(name=key, values=[]) for key in _EMPTY_LISTS},
        }
        vocabulary = load_vocabulary(language)
        self._words = vocabulary.words | slot_words(self._slot_lists)
        self._near_miss = NearMissCorrector(language, self._words, vocabulary.verbs,
                                            known=self._skip_words)

    def recognize(self, text: str) -> IntentMatch | None:
        """The command ``text`` says, exactly or as a near miss; None for anything else."""
        text = self._without_leading_fillers(text.strip())
        if not text:
            return None
        return self._exact(text) or self._nearest(text) or self._unknown_device(text)

    def _exact(self, text: str, wildcards: bool = True) -> IntentMatch | None:
        """``wildcards``: False refuses a match with a slot that takes any words (a timer's name,
        a search): in a near miss it would swallow the very words that do not fit."""
        result = recognize_best(text, self._intents, slot_lists=self._slot_lists,
                                skip_words=self._skip_words, language=self.language,
                                best_slot_name="name")
        if result is None or (not wildcards and any(e.is_wildcard for e in result.entities.values())):
            return None
        entities = {name: entity.value for name, entity in result.entities.items()}
        reply = confirmation(result.intent.name, entities, result.response, self.language)
        return IntentMatch(result.intent.name, entities, text, reply)

    def _nearest(self, text: str) -> IntentMatch | None:
        """The one command a single word's correction reaches, of the best kind of correction
        (same letters or sound before one letter apart), with no slot taking any words; None
        when none does or two different ones do."""
        corrections = self._near_miss.corrections(text)
        for rank in (True, False):
            found: dict[tuple[str, str], IntentMatch] = {}
            for correction in (c for c in corrections if c.sounds_alike is rank):
                match = self._exact(correction.text, wildcards=False)
                if match is not None:
                    found.setdefault((match.name, repr(sorted(match.entities.items()))), match)
            if len(found) == 1:
                match = next(iter(found.values()))
                _LOGGER.info("near miss: %r taken for %r (%s)", text, match.text, match.name)
                return dataclasses.replace(match, heard=text)
            if found:
                _LOGGER.info("near miss: %r is one word from %d commands; none taken", text,
                             len(found))
                return None
        return None

    def _unknown_device(self, text: str) -> IntentMatch | None:
        """A switching command ("turn on the kitchen mites") whose only unmatched part is a device
        name of words the box never uses (``_SWITCH_VERBS``); None for anything else."""
        verbs, directions = _SWITCH_VERBS.get(self.language, (frozenset(), frozenset()))
        words = [fold(word) for word in words_of(text)]
        if not words or words[0] not in verbs or (directions and not directions & set(words)):
            return None
        result = recognize_best(text, self._intents, slot_lists=self._slot_lists,
                                skip_words=self._skip_words, language=self.language,
                                allow_unmatched_entities=True, best_slot_name="name")
        if result is None or result.intent.name not in _SWITCH_INTENTS:
            return None
        unmatched = {key: entity for key, entity in result.unmatched_entities.items()
                     if getattr(entity, "text", None) != MISSING_ENTITY}
        name = getattr(unmatched.get("name"), "text", "").strip()
        name_words = [fold(word) for word in words_of(name)]
        if (set(unmatched) != {"name"} or not 1 <= len(name_words) <= MAX_UNKNOWN_NAME_WORDS
                or any(word in self._words for word in name_words)):
            return None
        entities = {key: entity.value for key, entity in result.entities.items()}
        _LOGGER.info("%r: %s of a device no name matches (%r)", text, result.intent.name, name)
        return IntentMatch(result.intent.name, entities, text, None, unknown=name)

    def _without_leading_fillers(self, text: str) -> str:
        if self._fillers is None:
            return text
        rest = self._fillers.sub("", text)
        return rest if rest.strip() else text
