"""Cut a reply's opening words off, so they can be synthesized (and heard) first.

Piper's time grows with the length of what it speaks: a 10-word sentence takes
about 0.8 s on the 2-core box, its first three words about 0.25 s, and their
~1 s of audio covers the synthesis of the rest. The cost is a small prosody
seam after the lead, so it is cut at a comma when there is one nearby.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"\S+")


def split_lead(text: str, lead_words: int) -> list[str]:
    """``[lead, rest]`` when ``text`` is long enough to be worth cutting, else ``[text]``."""
    words = list(_WORD.finditer(text))
    if lead_words <= 0 or len(words) <= lead_words + 2:
        return [text] if text.strip() else []
    cut = words[lead_words - 1]
    for word in words[:2 * lead_words]:  # a nearby comma is a natural seam
        if word.group().endswith((",", ";", ":")):
            cut = word
            break
    lead, rest = text[:cut.end()].strip(), text[cut.end():].strip()
    return [lead, rest] if rest else [lead]
