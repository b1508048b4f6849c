"""What kind of thing a person said: a question, or a fragment that asks nothing.

A question is checked before its answer is said (``pipeline.unsure``); a fragment ("the blue one
over", "and then maybe", "Hearts.") gets "Sorry, I didn't catch a question there." at once
instead of a model's guess at what it meant. Rules per language (en, es), on the words only.
"""

from __future__ import annotations

import re
import unicodedata

WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
_QUESTION_START = {
    "en": re.compile(r"^(?:what|what's|whats|who|who's|whom|whose|where|where's|when|which|why|"
                     r"how|is|are|was|were|do|does|did|can|could|will|would|has|have|name|tell me "
                     r"(?:what|who|where|when|which|how|why))\b", re.IGNORECASE),
    "es": re.compile(r"^(?:qu[eé]|qui[eé]n(?:es)?|cu[aá]l(?:es)?|cu[aá]ndo|d[oó]nde|c[oó]mo|"
                     r"cu[aá]nt[oa]s?|por qu[eé]|sabes)\b", re.IGNORECASE),
}
_REQUEST_START = {
    "en": re.compile(r"^(?:please |can you |could you )?(?:tell|describe|explain|give|say|list|define|"
                     r"recommend|suggest|show|teach|read|sing|help|write|translate|compare|summari[sz]e"
                     r"|let's|lets)\b", re.IGNORECASE),
    "es": re.compile(r"^(?:por favor )?(?:cu[eé]ntame|cuenta|dime|di|expl[ií]ca(?:me)?|describe|dame|"
                     r"recomi[eé]nda(?:me)?|sugi[eé]re(?:me)?|nombra|traduce|ay[uú]da(?:me)?|canta|"
                     r"escribe|lee|compara|resume)\b", re.IGNORECASE),
}
# A sentence that ends on one of these was cut off: "and then maybe", "y luego a lo mejor".
_DANGLING = {
    "en": ("and", "or", "but", "then", "maybe", "so", "the", "a", "an", "to", "of", "with", "for",
           "because", "if", "that", "like", "um", "uh", "perhaps"),
    "es": ("y", "o", "pero", "luego", "entonces", "el", "la", "los", "las", "un", "una", "de", "del",
           "con", "para", "por", "porque", "si", "que", "a lo mejor", "tal vez", "quizas", "pues",
           "eh"),
}
_DETERMINERS = {
    "en": ("the", "a", "an", "this", "that", "these", "those", "my", "your", "some"),
    "es": ("el", "la", "los", "las", "un", "una", "unos", "unas", "este", "esta", "ese", "esa", "mi",
           "tu"),
}
NOUN_PHRASE_WORDS = 4  # "the blue one over": a determiner and up to three more words
# ... and no verb: "my name is Ada" says something whole (the common verbs of a short statement)
_VERBS = {
    "en": ("is", "are", "was", "were", "am", "be", "been", "has", "have", "had", "do", "does",
           "did", "will", "can", "could", "would", "should", "must", "isn't", "aren't", "wasn't",
           "doesn't", "don't", "didn't", "won't", "can't", "looks", "seems", "feels", "needs",
           "wants", "likes", "loves", "hates", "works", "goes", "went", "came", "comes", "got"),
    "es": ("es", "son", "era", "eran", "fue", "fueron", "estaba", "soy", "eres",
           "somos", "tiene", "tienen", "tengo", "tenia", "hay", "habia", "va", "van", "parece",
           "necesita", "quiere", "gusta", "encanta", "funciona", "llama", "llamo"),
}


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower().replace("’", "'"))
    return "".join(c for c in text if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    return [fold(w) for w in WORD.findall(text)]


def is_question(text: str, language: str) -> bool:
    """A question that asks for something: it ends with "?" or starts like one."""
    text = text.strip().lstrip("¿¡").strip()
    if text.endswith("?"):
        return True
    pattern = _QUESTION_START.get(language, _QUESTION_START["en"])
    return bool(pattern.match(text))


def asks_something(text: str, language: str) -> bool:
    """A question, or a request for something said ("tell me about the sea")."""
    plain = text.strip().lstrip("¿¡").strip()
    pattern = _REQUEST_START.get(language, _REQUEST_START["en"])
    return is_question(text, language) or bool(pattern.match(plain))


def is_fragment(text: str, language: str) -> bool:
    """Words that ask nothing and say nothing whole: one word alone, a sentence cut off on "and"
    or "maybe", or a bare noun phrase ("the blue one over")."""
    said = words(text)
    if not said or asks_something(text, language):
        return False
    if len(said) == 1:
        return True
    plain = " ".join(said)
    if any(plain == d or plain.endswith(" " + d) for d in _DANGLING.get(language, _DANGLING["en"])):
        return True
    verbs = _VERBS.get(language, _VERBS["en"])
    return (said[0] in _DETERMINERS.get(language, _DETERMINERS["en"]) and len(said) <= NOUN_PHRASE_WORDS
            and not any(word in verbs for word in said))
