"""The answer benchmark's questions and its scoring rule, as plain data and pure functions.

Each question of ``answers.tsv`` has a language, a kind and what a right reply contains:

- ``fact`` and ``exact``: **right** if the reply contains one of the expected words or phrases
  as whole words (``|``-separated, case and accents ignored), **unsure** if it says it does not know (the
  language's unsure phrases), else **wrong**.
- ``statement`` and ``fragment`` (not questions): **unfitting** if the reply offers condolences
  nobody asked for, parrots the person's words (the whole of them, four words or more), or runs
  over two sentences; else **right** (a fitting reply, or "I didn't catch a question there").

A reply is never both: unsure is checked first, then the kind's rule.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources

KINDS = ("fact", "exact", "statement", "fragment")
VERDICTS = ("right", "wrong", "unsure", "unfitting")
UNSURE = {
    "en": ("i'm not sure", "i am not sure", "i don't know", "i do not know", "not certain"),
    "es": ("no estoy seguro", "no estoy segura", "no lo se", "no se la respuesta"),
}
CONDOLENCES = {
    "en": ("sorry for your loss", "my condolences", "sorry to hear about your loss"),
    "es": ("siento tu perdida", "lamento tu perdida", "mis condolencias", "siento mucho tu perdida"),
}
MAX_SENTENCES = 2  # a reply to a statement
PARROT_MIN_WORDS = 4


@dataclass(frozen=True)
class AnswerQuestion:
    language: str
    kind: str
    text: str
    expected: tuple[str, ...]  # for fact and exact; empty for statements and fragments


def load_questions(language: str = "", name: str = "answers.tsv") -> list[AnswerQuestion]:
    """A shipped set (``answers.tsv``; ``facts_dev.tsv``, the unsure check's tuning set), of one
    language or all."""
    text = resources.files("satellite.benchdata").joinpath(name).read_text(encoding="utf-8")
    rows = [row for row in csv.reader(text.splitlines(), delimiter="\t")
            if row and not row[0].startswith("#")]
    questions = [AnswerQuestion(row[0], row[1], row[2],
                                tuple(e for e in (row[3] if len(row) > 3 else "").split("|") if e))
                 for row in rows]
    return [q for q in questions if not language or q.language == language]


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower().replace("’", "'"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^a-z0-9.,' ]+", " ", text).split())


def _says(said: str, expected: str) -> bool:
    """``expected`` as whole words of ``said``: "12" is not in "120", "o" not in "ocean"."""
    return re.search(rf"(?<![a-z0-9]){re.escape(expected)}(?![a-z0-9])", said) is not None


def score(question: AnswerQuestion, reply: str) -> str:
    """right | wrong | unsure | unfitting, by the rule in this module's docstring."""
    said = fold(reply)
    if any(phrase in said for phrase in UNSURE.get(question.language, ())):
        return "unsure"
    if question.kind in ("fact", "exact"):
        return "right" if any(_says(said, fold(e)) for e in question.expected) else "wrong"
    asked = fold(question.text).strip(" .,")
    if any(phrase in said for phrase in CONDOLENCES.get(question.language, ())):
        return "unfitting"
    if len(asked.split()) >= PARROT_MIN_WORDS and asked in said:
        return "unfitting"
    if len([s for s in re.split(r"(?<=[.!?])\s+", reply.strip()) if s]) > MAX_SENTENCES:
        return "unfitting"
    return "right"
