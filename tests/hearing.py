"""How tests judge what was said or heard: word error rate, and a room's ear on played audio."""

from __future__ import annotations

import re

from satellite.audio import Pcm, to_stt_format
from satellite.engines import Engines

ROOM_SILENCE_S = 0.5  # the quiet a listener hears around a reply; tiny.en mishears clips cut tight


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]", " ", text.lower()).split()


def wer(reference: str, hypothesis: str) -> float:
    ref, hyp = words(reference), words(hypothesis)
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1] / max(1, len(ref))


def said_once(text: str) -> str:
    """``text`` once where Whisper wrote a short clip twice over ("Please turn off the light in
    the kitchen. Please turn off the light in the kitchen.", tiny.en on one of Piper's
    renderings): a decoding quirk, not what the audio says."""
    half = len(text) // 2
    first, second = text[:half].strip(), text[half:].strip()
    return first if first and first == second else text


def heard_text(engines: Engines, played: Pcm) -> str:
    """What Whisper hears in audio a speaker played (any rate), with the room's silence around it."""
    silence = Pcm.silence(ROOM_SILENCE_S)
    return engines.stt.transcribe(silence + to_stt_format(played) + silence).text
