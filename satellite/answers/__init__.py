"""Exact answers: where one right answer exists, it is computed here and never generated.

Arithmetic, unit conversions, spelling, counting and date arithmetic, in English and Spanish,
and the short fitting reply to what asks nothing ("thank you", "good night"),
on the same local-answer path as the clock (``pipeline.local_answers``). Each family returns
None for a question that is not its own, so everything else goes on to intents and the LLM.
Libraries: text2num for spoken numbers (seven languages, maintained), pint for units (the
field's units library: every unit with its definition, temperatures with their offsets).
"""

from __future__ import annotations

import datetime as dt
import re

from satellite.answers.arithmetic import arithmetic_answer
from satellite.answers.dates import date_answer
from satellite.answers.numbers import normalize, to_digits
from satellite.answers.spelling import counting_answer, spelling_answer
from satellite.answers.units import conversion_answer
from satellite.answers.words import WORDS


def exact_answer(text: str, today: dt.date, language: str = "en") -> str | None:
    """The computed reply to ``text``, or None when it asks for nothing computable."""
    words = WORDS.get(language)
    if words is None:
        return None
    plain = normalize(text)
    social = next((reply for pattern, reply in words.social.items()
                   if re.fullmatch(pattern, plain.replace("'", ""))), None)
    if social is not None:  # "thank you", "buenas noches": no question, a short fitting reply
        return social
    spelled = spelling_answer(plain, text, words)  # before numbers: "spell four" is a word
    if spelled is not None:
        return spelled
    query = to_digits(text, words, language)
    return (counting_answer(query, words) or date_answer(query, text, today, words, language)
            or conversion_answer(query, text, words) or arithmetic_answer(query, words))


__all__ = ["exact_answer"]
