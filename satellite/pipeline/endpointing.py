"""Is a question finished? Judged on its speculative transcript, to end it sooner or wait longer.

A fixed hangover is both too long and too short: a finished command waits for
it in silence, and a question that trails off ("turn on the lights and…") is
cut at the pause. The speculative transcript, ready in the silence, says which:
Whisper marks a trailing-off with "..." and people pause after a conjunction,
an article or a preposition, not after the last word of a request.
"""

from __future__ import annotations

import enum
import re

TRAILING_WORDS = frozenset(
    "and or but nor so because then plus the a an my your his her our their this that these "
    "those to of for from with about at in into by like than as if um uh er erm hmm".split())
_LAST_WORD = re.compile(r"([a-z']+)\W*$")


class Ending(enum.Enum):
    COMPLETE = "complete"  # end the utterance now (after the shortest hangover)
    TRAILING = "trailing"  # wait longer: more is coming


def judge(text: str) -> Ending:
    """``TRAILING`` when the transcript stops mid-phrase, else ``COMPLETE``."""
    stripped = text.strip()
    if stripped.endswith(("...", "…", "-", ",")):
        return Ending.TRAILING
    match = _LAST_WORD.search(stripped.lower())
    if match is not None and match.group(1) in TRAILING_WORDS:
        return Ending.TRAILING
    return Ending.COMPLETE
