"""Incremental sentence splitting of a token stream, so each sentence can be spoken as soon as it ends."""

from __future__ import annotations

import re

# A sentence ends at . ! ? (or a newline) followed by whitespace; not after a
# common abbreviation, a single initial, or inside a number such as 3.5.
_END = re.compile(r"([.!?]+[\"')\]*_`]*)(\s+)|(\n+)")
_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "st", "jr", "sr", "vs", "etc", "e.g", "i.e", "approx", "no",
    "prof", "inc", "ltd", "mt", "ft", "u.s", "a.m", "p.m",
}
_MARKDOWN = re.compile(r"[*_`#>|~]+")
_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\ufe0f]")
_SPACES = re.compile(r"\s+")


def clean_for_speech(text: str) -> str:
    """Remove what a voice should not read out: markdown marks, emojis, list bullets."""
    text = _EMOJI.sub("", text)
    text = re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+", "", text, flags=re.MULTILINE)
    text = _MARKDOWN.sub("", text)
    text = re.sub(r"\s+([.,!?;:])", r"\1", text)
    return _SPACES.sub(" ", text).strip()


_CLAUSE_END = re.compile(r"[,;:](?=\s)")


class SentenceSplitter:
    """Feed text pieces; get back the sentences completed so far. ``flush()`` returns the rest.

    With ``first_clause_words``, the very first piece may end at a clause seam
    (, ; :) once it has that many words: the voice can start on "The first moon
    landing," while the model is still writing the rest of the sentence.
    """

    def __init__(self, min_chars: int = 2, first_clause_words: int = 0):
        self._buffer = ""
        self._min_chars = min_chars
        self._first_clause_words = first_clause_words
        self._emitted = False
        self.clause_emitted = False  # the first piece was a clause, not a whole sentence

    @property
    def started(self) -> bool:
        """A sentence (or the first clause) was returned already."""
        return self._emitted

    @property
    def pending(self) -> str:
        """What was fed after the last returned sentence: the start of the next one."""
        return self._buffer

    def feed(self, piece: str) -> list[str]:
        self._buffer += piece
        sentences: list[str] = []
        start = 0
        for match in _END.finditer(self._buffer):
            end = match.end()
            candidate = self._buffer[start:match.start()] + (match.group(1) or "")
            if match.group(1) and _ends_with_abbreviation(candidate):
                continue
            sentence = clean_for_speech(candidate)
            if len(sentence) >= self._min_chars and any(c.isalnum() for c in sentence):
                sentences.append(sentence)
                start = end
            elif not any(c.isalnum() for c in sentence):
                start = end
        self._buffer = self._buffer[start:]
        if not sentences and not self._emitted and self._first_clause_words:
            clause = self._first_clause()
            if clause:
                sentences.append(clause)
                self.clause_emitted = True
        self._emitted = self._emitted or bool(sentences)
        return sentences

    def _first_clause(self) -> str | None:
        for match in _CLAUSE_END.finditer(self._buffer):
            clause = clean_for_speech(self._buffer[:match.end()])
            if len(clause.split()) >= self._first_clause_words:
                self._buffer = self._buffer[match.end():]
                return clause
        return None

    def flush(self) -> list[str]:
        rest = clean_for_speech(self._buffer)
        self._buffer = ""
        return [rest] if any(c.isalnum() for c in rest) else []


def _ends_with_abbreviation(candidate: str) -> bool:
    words = candidate.rstrip(".!?\"')]*_`").split()
    if not words or not candidate.rstrip("\"')]*_`").endswith("."):
        return False
    last = words[-1].lower().rstrip(".")
    return last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha() and last != "i")


def split_sentences(text: str) -> list[str]:
    splitter = SentenceSplitter()
    return splitter.feed(text) + splitter.flush()
