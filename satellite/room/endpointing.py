"""Is a question finished? Judged on its speculative transcript, to end it sooner or wait longer.

A fixed hangover is both too long and too short: a finished command waits for
it in silence, and a question that trails off ("turn on the lights and…") is
cut at the pause. The speculative transcript, ready in the silence, says which:

- ``TRAILING``: Whisper marks a trailing-off with "..." and people pause after a
  conjunction, an article or a preposition, not after the last word of a request;
  a request that lacks its object ("Set a timer." — for how long?) is not done either;
- ``COMPLETE``: a question (a "?", or a question's first word) or a whole request
  (an imperative's first word, a short reply such as "thank you" or "stop") ends at once;
- ``SENTENCE``: a whole sentence that neither asks nor requests ("Roses are red.") —
  a person reciting a line, or saying what the question is about before asking it,
  pauses between sentences (0.6–0.9 s; inside a sentence the human recordings of
  docs/benchmarks.md pause at most 0.36 s), so the turn waits a little longer for more.

The words of each language live here, in one table per language; a language without a
table keeps the punctuation rules and ends every whole sentence at once.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass
from typing import Protocol


class Ending(enum.Enum):
    COMPLETE = "complete"  # end the utterance now (after the shortest hangover)
    SENTENCE = "sentence"  # a whole sentence that asks nothing: wait a little for more
    TRAILING = "trailing"  # wait longer: more is coming


@dataclass(frozen=True)
class EndWords:
    trailing: frozenset[str]  # a last word after which more is coming
    fillers: frozenset[str]  # opening words skipped before the first word is judged
    asks: frozenset[str]  # first words of a question
    inverted: frozenset[str]  # first words of a question unless it ends in "." ("Had he married…")
    requests: frozenset[str]  # first words of a request (imperatives, polite openers)
    replies: frozenset[str]  # whole short turns that need nothing more ("thank you", "stop")
    unfinished: tuple[re.Pattern[str], ...]  # requests without their object ("set a timer")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_EN_NUMBER = (r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|"
              r"twenty|thirty|forty|fifty|sixty|ninety|hundred|half|quarter|an hour|a minute|"
              r"a second|noon|midnight)\b")
_ES_NUMBER = (r"\d|\b(uno|una hora|un minuto|un segundo|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|once|doce|quince|"
              r"veinte|treinta|cuarenta|cincuenta|sesenta|noventa|cien|media|cuarto|mediodia|"
              r"medianoche)\b")

ENGLISH = EndWords(
    trailing=_words("and or but nor so because then plus the a an my your his her our their this "
                    "that these those to of for from with about at in into by like than as if um uh "
                    "er erm hmm"),
    fillers=_words("okay ok hey hi so um uh er oh well and please alright right now"),
    asks=_words("what what's whats who who's whose whom where where's when why how how's which can "
                "could will would should shall may might can't won't wouldn't tell"),
    inverted=_words("is are am was were do does did have has had isn't aren't don't doesn't didn't"),
    requests=_words("turn switch set start stop cancel pause resume play skip open close lock "
                    "unlock dim brighten raise lower increase decrease add remove remind call text "
                    "send show give find search read spell convert calculate count say repeat "
                    "make put let help mute unmute activate deactivate enable disable run check "
                    "go wake snooze"),
    replies=frozenset({"thank you", "thanks", "thank you very much", "thanks a lot", "good night",
                       "good morning", "goodnight", "hello", "hi", "hey", "bye", "goodbye",
                       "yes", "no", "yeah", "nope", "yep", "sure", "okay", "ok", "never mind",
                       "nevermind", "that's all", "that's it", "cool", "great", "nice", "perfect", "stop",
                       "cancel", "pause"}),
    unfinished=(re.compile(rf"^(?!.*({_EN_NUMBER})).*\b(set|start|create|make|add)\b.*\b(timer|alarm)s?$"),
                re.compile(r"^(remind me|set a reminder|add a reminder|create a reminder)$"),
                re.compile(r"^(turn|switch) (on|off)$"),
                re.compile(r"^(play|call|text|open|close|add)$")),
)

SPANISH = EndWords(
    trailing=_words("y e o u pero ni porque entonces mas el la los las un una unos unas mi tu su "
                    "nuestro nuestra este esta ese esa a de del al para por con sin en que como si "
                    "eh em mmm"),
    fillers=_words("vale oye hola bueno pues y eh por favor ok okay"),
    asks=_words("que cual cuales como donde cuando quien quienes cuanto cuanta cuantos cuantas "
                "puedes podrias sabes dime me"),
    inverted=_words("es esta hay tienes"),
    requests=_words("enciende apaga pon prende para deten cancela sube baja abre cierra reproduce "
                    "pausa anade agrega quita llama recuerdame programa activa desactiva cambia "
                    "pasa busca lee deletrea convierte calcula cuenta di repite muestra silencia "
                    "ayudame"),
    replies=frozenset({"gracias", "muchas gracias", "hola", "adios", "buenas noches", "buenos dias",
                       "buenas tardes", "si", "no", "vale", "de acuerdo", "basta", "nada",
                       "eso es todo", "perfecto", "genial", "para", "detente", "cancela"}),
    unfinished=(re.compile(rf"^(?!.*({_ES_NUMBER})).*\b(pon|programa|crea|activa|inicia)\b.*"
                           r"\b(temporizador|alarma|cronometro)$"),
                re.compile(r"^(recuerdame|pon un recordatorio)$"),
                re.compile(r"^(enciende|apaga|pon|llama|abre|cierra)$")),
)

END_WORDS: dict[str, EndWords] = {"en": ENGLISH, "es": SPANISH}
_TOKEN = re.compile(r"[a-z0-9']+")


def _plain(text: str) -> str:
    """Lower case, accents folded ("¿Qué?" → "¿que?")."""
    folded = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in folded if not unicodedata.combining(c))


def trails_off(text: str, words: EndWords = ENGLISH) -> bool:
    """The transcript stops mid-phrase: "...", a dash or a comma at its end, or a last word after
    which more must come."""
    stripped = text.strip()
    if stripped.endswith(("...", "…", "-", ",")):
        return True
    tokens = _TOKEN.findall(_plain(stripped))
    return bool(tokens) and tokens[-1] in words.trailing


def judge(text: str, language: str = "en") -> Ending:
    """How the speculative transcript ``text`` ends (see the module doc)."""
    words = END_WORDS.get(language.split("-")[0].lower())
    tokens = _TOKEN.findall(_plain(text))
    start = 0
    while words is not None and start < len(tokens) - 1 and tokens[start] in words.fillers:
        start += 1
    phrase = " ".join(tokens[start:])
    if words is not None and tokens and phrase in words.replies:
        return Ending.COMPLETE  # "Stop." / "Para." end at once, whatever else the word may be
    if trails_off(text, words or ENGLISH):
        return Ending.TRAILING
    if not tokens or words is None:
        return Ending.COMPLETE
    if any(pattern.search(phrase) for pattern in words.unfinished):
        return Ending.TRAILING
    first, stated = tokens[start], text.rstrip().endswith((".", "!"))
    if (text.rstrip().endswith("?") or first in words.asks or first in words.requests
            or (first in words.inverted and not stated)):
        return Ending.COMPLETE
    return Ending.SENTENCE


class Hangovers(Protocol):
    min_hangover_ms: int
    sentence_hangover_ms: int
    trailing_hangover_ms: int


def silence_to_wait_ms(ending: Ending, vad: Hangovers) -> int:
    """How much silence ends an utterance whose transcript ends so (``vad``: the VAD config)."""
    return {Ending.COMPLETE: vad.min_hangover_ms, Ending.SENTENCE: vad.sentence_hangover_ms,
            Ending.TRAILING: vad.trailing_hangover_ms}[ending]
