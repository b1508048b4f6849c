"""Cut what is spoken into pieces Piper handles quickly: a short lead, then bounded chunks.

Piper's time and memory grow with the length of what it speaks at once (on the
2-core box: 5 words ≈ 0.1 s and +43 MB peak, 30 words ≈ 0.4 s and +230 MB, 50
words ≈ 0.6 s and +310 MB). So:

- the first words of a reply are synthesized on their own (``lead_words``):
  their ~1 s of audio covers the synthesis of the rest, and the first audio
  leaves sooner; in a reply the model is still writing, the lead is spoken
  once it is certain (``streamed_lead``), before the sentence ends;
- a long sentence is cut at clause seams (, ; :) into chunks of at most
  ``max_words`` words, which bounds the peak memory.

A piece cut between two words of a sentence ends with ``GOES_ON`` ("…"), so the
voice can speak it as a sentence that goes on (no final fall, no final pause:
see ``seam_after`` in engines/tts.py); a piece cut at a comma keeps its
comma pause. Measured in docs/benchmarks.md (#18, part 7).
"""

from __future__ import annotations

import re

from satellite.engines.tts import GOES_ON, unmarked
from satellite.pipeline.sentences import clean_for_speech

_WORD = re.compile(r"\S+")
_SEAM = (",", ";", ":")


def goes_on(piece: str) -> str:
    """``piece`` marked as cut inside its sentence, unless it ends at punctuation of its own."""
    return piece + GOES_ON if piece[-1:].isalnum() else piece


def split_lead(text: str, lead_words: int) -> list[str]:
    """``[lead, rest]`` when ``text`` is long enough to be worth cutting, else ``[text]``."""
    words = list(_WORD.finditer(text))
    if lead_words <= 0 or len(words) <= lead_words + 2:
        return [text] if text.strip() else []
    cut = words[lead_words - 1]
    for word in words[:2 * lead_words]:  # a nearby comma is a natural seam
        if word.group().endswith(_SEAM):
            cut = word
            break
    lead, rest = text[:cut.end()].strip(), text[cut.end():].strip()
    return [lead, rest] if rest else [lead]


def streamed_lead(pending: str, lead_words: int) -> str | None:
    """The lead of a sentence still being written (``pending``, as the model wrote it so far), once
    it is certain: one whole word more than the lead was written and the sentence goes on. Cut as
    ``split_lead`` cuts (at a comma among the first words), but without its rule against cutting
    short sentences: the sentence's length is not known yet. None until then."""
    if lead_words <= 0:
        return None
    words = clean_for_speech(pending).split()
    whole = words if pending[-1:].isspace() else words[:-1]  # the last may be half a word
    if len(whole) <= lead_words:
        return None
    cut = next((i for i, word in enumerate(whole[:lead_words]) if word.endswith(_SEAM)), lead_words - 1)
    return goes_on(" ".join(whole[:cut + 1]))


def after_lead(sentence: str, lead: str) -> str | None:
    """The rest of ``sentence`` after ``lead`` (marked or not) when it begins with those words, else None."""
    words, lead_words = list(_WORD.finditer(sentence)), unmarked(lead).split()
    if len(words) < len(lead_words) or [w.group() for w in words[:len(lead_words)]] != lead_words:
        return None
    return sentence[words[len(lead_words) - 1].end():].strip()


def split_long(text: str, max_words: int) -> list[str]:
    """Chunks of at most ``max_words`` words, cut after a seam where possible."""
    words = text.split()
    if max_words <= 0 or len(words) <= max_words:
        return [text.strip()] if text.strip() else []
    chunks: list[str] = []
    while len(words) > max_words:
        window = words[:max_words]
        cut = max_words
        for i in range(max_words - 1, max_words // 3, -1):  # the last seam in the window
            if window[i].endswith(_SEAM):
                cut = i + 1
                break
        chunks.append(" ".join(words[:cut]))
        words = words[cut:]
    if words:
        chunks.append(" ".join(words))
    return chunks


def speech_chunks(text: str, *, lead_words: int = 0, max_words: int = 0) -> list[str]:
    """The pieces to synthesize, in order, for ``text``; those cut between two words marked so."""
    chunks: list[str] = []
    for part in split_lead(text, lead_words):
        chunks.extend(split_long(part, max_words))
    return [goes_on(chunk) for chunk in chunks[:-1]] + chunks[-1:]
