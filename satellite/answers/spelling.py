"""Spelling and counting, said letter by letter and number by number."""

from __future__ import annotations

import re

from satellite.answers.words import Words

MAX_COUNT = 100


def spelling_answer(query: str, original: str, words: Words) -> str | None:
    for pattern in words.spell:
        match = re.match(pattern, query)
        if match is not None:
            word = _original_word(original, match["word"])
            letters = ", ".join(words.letter_names.get(c, c.upper()) for c in word.lower() if c.isalpha())
            return words.spelled.format(word=word[0].upper() + word[1:], letters=letters)
    for pattern in words.letters_in:
        match = re.match(pattern, query)
        if match is not None:
            word = _original_word(original, match["word"])
            return words.letters_answer.format(word=word, n=sum(c.isalpha() for c in word))
    return None


def counting_answer(query: str, words: Words) -> str | None:
    for pattern in words.count:
        match = re.match(pattern, query)
        if match is not None:
            start, end = int(match["start"] or 1), int(match["end"])
            if abs(end - start) >= MAX_COUNT:
                return words.too_many
            step = 1 if end >= start else -1
            return ", ".join(str(n) for n in range(start, end + step, step)) + "."
    return None


def _original_word(original: str, folded: str) -> str:
    """The word as the transcript wrote it (accents kept: "miércoles"), found by its folded form."""
    import unicodedata

    for word in re.findall(r"[\w'-]+", original):
        plain = "".join(c for c in unicodedata.normalize("NFKD", word.lower())
                        if not unicodedata.combining(c))
        if plain == folded:
            return word
    return folded
