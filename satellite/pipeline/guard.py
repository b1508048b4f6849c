"""Keep a small model's reply speakable: cut loops, repeats and over-long answers.

A 135M model loops and rambles. The guard sees the sentences as they come and
decides what is spoken: at most ``max_sentences``, no sentence twice, and a
sentence that is itself a loop of the same few words is cut short, after which
generation stops.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z0-9']+")


def _norm(sentence: str) -> str:
    return " ".join(_WORD.findall(sentence.lower()))


class ReplyGuard:
    def __init__(self, max_sentences: int = 3, max_sentence_words: int = 50, echo_of: str = ""):
        self.max_sentences = max_sentences
        self._echo = _norm(echo_of)
        self.max_sentence_words = max_sentence_words
        self.accepted: list[str] = []
        self.stopped_because: str | None = None

    @property
    def stopped(self) -> bool:
        return self.stopped_because is not None

    def accept(self, sentence: str) -> str | None:
        """The text to speak for this sentence, or None; check ``stopped`` to end generation."""
        if self.stopped:
            return None
        norm = _norm(sentence)
        if norm and self._echo and norm == self._echo:
            return None  # a small model parroting the question: skip it, keep listening
        if norm and norm in {_norm(s) for s in self.accepted}:
            self.stopped_because = "repeated_sentence"
            return None
        words = norm.split()
        if len(words) > self.max_sentence_words or is_looping(words):
            self.stopped_because = "degenerate"
            if self.accepted:
                return None
            sentence = _first_words(sentence, 20)
        self.accepted.append(sentence)
        if len(self.accepted) >= self.max_sentences and not self.stopped:
            self.stopped_because = "max_sentences"
        return sentence


def is_looping(words: list[str], ngram: int = 3, repeats: int = 3) -> bool:
    """True if some n-gram occurs ``repeats`` times or more (a model stuck in a loop)."""
    counts: dict[tuple[str, ...], int] = {}
    for i in range(len(words) - ngram + 1):
        key = tuple(words[i:i + ngram])
        counts[key] = counts.get(key, 0) + 1
        if counts[key] >= repeats:
            return True
    return False


def _first_words(sentence: str, count: int) -> str:
    return " ".join(sentence.split()[:count]).rstrip(",;:") + "."
