"""Near misses: a transcript one word off a known command still reaches that command.

Speech to text is often one word off a command ("Por un temporizador de 10 minutos" for "Pon…",
"turn of the kitchen light", "the living rum"). hassil matches whole sentences exactly, so such a
transcript would go to the language model, which answers nonsense. This module proposes the
transcript with one word replaced by a word the box's sentences or names use; the recognizer
then asks hassil for an exact match of that corrected sentence. So everything but the one word
must match a template exactly, and a replacement is proposed only when:

- the heard word sounds like the command's word: the same letters once accents are folded
  ("salon" / "salón"), the same Metaphone key (English only, ``jellyfish``: "of" / "off",
  "rum" / "room"), or one letter apart (an edit or a swap, ``rapidfuzz``'s OSA distance) for
  words of three letters or more ("por" / "pon");
- it does not put a command's verb (a word the sentences begin with) in the place of another
  form of that verb (Snowball stems, ``snowballstemmer``): "Turns off the light", "Apago la
  luz", "Encendí la luz" say what someone does or did, they do not ask for it;
- neither word is a negation ("don't", "no") or a number;
- the transcript has 3 to 12 words, and at most one of them is a word the sentences, names and
  numbers never use (that word is then the only one replaced).

The recognizer takes a correction only when every correction of the best kind that matches
(same letters or sound first, then one letter apart) says the same command, intent and slots:
two different commands one word away is a guess, and the box does not guess.

A missing word is never supplied: "¡Qué es!" (heard for "¿Qué hora es?") stays unmatched, as
"¿Qué es?" and "¿Qué es eso?" are real questions one word from the clock too.

Why not hassil's fuzzy matcher (``FuzzyNgramMatcher``, which Home Assistant's default agent
uses): it shipped in hassil 3.2 to 3.8 only (the pinned 3.12 has none), and its n-gram models
came with home-assistant-intents releases that the pinned one no longer has. It also solves
another problem, word order and extra words ("red bedroom" sets a light's colour), which is the
opposite of never turning a statement into a command.

Pure: text in, corrected texts out. The words come from hassil's own FST of the sentences
(``hassil.fst``), hassil's sampler over the slot lists' values, and the spoken numbers.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import jellyfish
import snowballstemmer
from hassil import Intents, SlotList, TextSlotList
from hassil.fst import EPS, SPACE, Fst, intents_to_fst
from hassil.numbers import get_rbnf_engine
from hassil.sample import sample_expression
from rapidfuzz import process
from rapidfuzz.distance import OSA

MIN_WORDS = 3
MAX_WORDS = 12
MAX_TRIES = 16  # corrected sentences asked of hassil per transcript, at most (~2.5 ms each)
MIN_EDITED_LETTERS = 3  # shorter words are only replaced by a word of the same sound
# Words whose replacement would turn a command around: never replaced, never put in.
NEGATIONS: dict[str, frozenset[str]] = {
    "en": frozenset({"no", "not", "don't", "dont", "never", "nothing", "cannot", "can't", "won't"}),
    "es": frozenset({"no", "nunca", "jamas", "nada", "ni", "tampoco"}),
}
_STEMMERS = {"en": "english", "es": "spanish"}
_EDGE_PUNCTUATION = "¡!¿?.,;:\"“”«»()…"
_NUMBER_WORDS_UP_TO = 100
_SAMPLES_PER_VALUE = 50  # spellings of one slot value ("medio", "media")
SKIP = "<skip>"


@dataclass(frozen=True)
class Correction:
    """The transcript with one word replaced: what to ask hassil, and why."""

    text: str
    heard: str
    meant: str
    sounds_alike: bool  # the same letters or sound; else one letter apart


def fold(word: str) -> str:
    """Lower case with accents folded: "Salón" → "salon"."""
    decomposed = unicodedata.normalize("NFKD", word.lower().replace("’", "'"))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def words_of(text: str) -> list[str]:
    """The words of a transcript, with the punctuation at their edges dropped."""
    words = (word.strip(_EDGE_PUNCTUATION) for word in text.split())
    return [word for word in words if word]


class _FstWords:
    """Whole words along hassil's FST of the sentences: its labels joined between ``<space>``
    arcs (hassil splits "apag(a|ue)" into pieces)."""

    def __init__(self, fst: Fst):
        self.fst = fst
        self._tails: dict[int, frozenset[str]] = {}  # state -> the pieces from it to a space

    def all(self) -> set[str]:
        starts = {self.fst.start} | {arc.to_state for arcs in list(self.fst.arcs.values())
                                     for arc in arcs if arc.in_label == SPACE}
        words: set[str] = set()
        for state in starts:
            words |= self.from_state(state)
        return words

    def first(self) -> set[str]:
        """The words the sentences begin with, after hassil's optional ``<skip>``."""
        fst = self.fst
        pending = [space.to_state for intent in fst.arcs[fst.start]
                   for space in fst.arcs[intent.to_state] if space.in_label == SPACE]
        seen: set[int] = set()
        words: set[str] = set()
        while pending:  # the sentence starts, through empty arcs and past a <skip>
            state = pending.pop()
            if state in seen:
                continue
            seen.add(state)
            words |= self.from_state(state)
            for arc in fst.arcs[state]:
                if arc.in_label == EPS:
                    pending.append(arc.to_state)
                elif arc.in_label == SKIP:
                    pending.extend(after.to_state for after in fst.arcs[arc.to_state]
                                   if after.in_label == SPACE)
        return words

    def from_state(self, start: int) -> frozenset[str]:
        fst, tails = self.fst, self._tails
        stack, entered = [(start, False)], set()
        while stack:  # post-order, without recursion (paths are thousands of states long)
            state, children_done = stack.pop()
            if state in tails or (not children_done and state in entered):
                continue
            if not children_done:
                entered.add(state)
                stack.append((state, True))
                stack.extend((arc.to_state, False) for arc in fst.arcs[state]
                             if arc.in_label != SPACE and arc.to_state not in tails)
                continue
            found: set[str] = {""} if state in fst.final_states else set()
            for arc in fst.arcs[state]:
                if arc.in_label == SPACE:
                    found.add("")
                    continue
                after = tails.get(arc.to_state, frozenset())
                found |= after if arc.in_label == EPS else {arc.in_label + tail for tail in after}
            tails[state] = frozenset(found)
        return tails[start]


def _plain(words: Iterable[str]) -> frozenset[str]:
    return frozenset(word.lower() for word in words
                     if word and not any(mark in word for mark in "{}<>%°"))


@dataclass(frozen=True)
class TemplateWords:
    """The words of a language's sentences (slots left out), and those the sentences begin
    with: the commands' verbs ("turn", "apaga", "pon")."""

    words: frozenset[str]
    verbs: frozenset[str]

    @classmethod
    def of(cls, intents: Intents) -> TemplateWords:
        walker = _FstWords(intents_to_fst(intents))
        return cls(_plain(walker.all()), _plain(walker.first()))


def number_words(language: str) -> frozenset[str]:
    """The spoken numbers up to 100 ("twenty", "five", "veinticinco", "y")."""
    try:
        engine = get_rbnf_engine(language)
    except ValueError:
        return frozenset()
    words: set[str] = set()
    for number in range(_NUMBER_WORDS_UP_TO + 1):
        for spoken in engine.format_number(number).text_by_ruleset.values():
            words.update(spoken.lower().replace("-", " ").split())
    return frozenset(words)


def slot_words(slot_lists: dict[str, SlotList]) -> frozenset[str]:
    """The words of the text slot lists' values (areas, device names, colours, "media"...),
    their templates expanded with hassil's sampler."""
    words: set[str] = set()
    for slot_list in slot_lists.values():
        if not isinstance(slot_list, TextSlotList):
            continue
        for value in slot_list.values:
            for text in itertools.islice(sample_expression(value.text_in), _SAMPLES_PER_VALUE):
                words.update(words_of(text.lower()))
    return frozenset(words)


class NearMissCorrector:
    """``corrections(text)``: the transcript with one word replaced, best first (pure)."""

    def __init__(self, language: str, vocabulary: Iterable[str], verbs: Iterable[str] = (),
                 known: Iterable[str] = ()):
        """``vocabulary``: the words a replacement may put in (the sentences' words, the home's
        names, the spoken numbers). ``verbs``: those of them the sentences begin with.
        ``known``: phrases that are no surprise in a command but are never put in (hassil's skip
        words: "please", "por favor")."""
        self.language = language
        self._negations = NEGATIONS.get(language, frozenset())
        self._stemmer = snowballstemmer.stemmer(_STEMMERS.get(language, "english"))
        by_fold: dict[str, set[str]] = defaultdict(set)
        for word in vocabulary:
            if word and fold(word) not in self._negations and not word.isdigit():
                by_fold[fold(word)].add(word)
        self._by_fold = {key: sorted(words) for key, words in by_fold.items()}
        self._folded = sorted(self._by_fold)
        self._verbs = {fold(word) for word in verbs}
        self._known = set(self._by_fold) | self._negations | {
            fold(word) for phrase in known for word in phrase.split()}
        self._by_sound: dict[str, list[str]] = defaultdict(list)
        if language == "en":  # Metaphone is for English spelling
            for key in self._folded:
                self._by_sound[jellyfish.metaphone(key)].append(key)

    def corrections(self, text: str) -> list[Correction]:
        words = words_of(text)
        if not MIN_WORDS <= len(words) <= MAX_WORDS:
            return []
        unknown = [i for i, word in enumerate(words) if not self._is_known(fold(word))]
        if len(unknown) > 1:
            return []
        found: list[tuple[bool, int, Correction]] = []
        for i in unknown or range(len(words)):
            for meant, alike in self._alike(words[i]):
                replaced = " ".join([*words[:i], meant, *words[i + 1:]])
                found.append((not alike, -len(words[i]), Correction(replaced, words[i], meant, alike)))
        found.sort(key=lambda item: item[:2])  # the same sound first, then longer words
        return [correction for *_, correction in found[:MAX_TRIES]]

    def _is_known(self, word: str) -> bool:
        return word in self._known or word.isdigit()

    def _alike(self, word: str) -> list[tuple[str, bool]]:
        """The vocabulary's words that ``word`` may have been heard for; True: the same letters
        or sound, False: one letter apart."""
        heard = fold(word)
        if heard in self._negations or not re.search(r"[a-z]", heard) or heard.isdigit():
            return []
        alike: dict[str, bool] = {}
        for spelled in self._by_fold.get(heard, ()):  # the same letters, accents aside
            if spelled != word.lower():
                alike[spelled] = True
        for key in self._by_sound.get(jellyfish.metaphone(heard), ()) if self._by_sound else ():
            if key != heard:
                for spelled in self._by_fold[key]:
                    alike.setdefault(spelled, True)
        if len(heard) >= MIN_EDITED_LETTERS:
            for key, _, _ in process.extract(heard, self._folded, scorer=OSA.distance,
                                             score_cutoff=1, limit=None):
                if key != heard and len(key) >= MIN_EDITED_LETTERS:
                    for spelled in self._by_fold[key]:
                        alike.setdefault(spelled, False)
        return [(spelled, same) for spelled, same in alike.items()
                if not self._another_form_of_a_verb(word, spelled)]

    def _another_form_of_a_verb(self, heard: str, meant: str) -> bool:
        """"turns" for "turn", "apago" / "apagué" for "apaga": the same word, not a mishearing."""
        if fold(meant) not in self._verbs or fold(meant) == fold(heard):
            return False
        return bool(self._stemmer.stemWord(heard.lower()) == self._stemmer.stemWord(meant.lower()))
