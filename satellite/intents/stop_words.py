"""Stop words: what a person says to silence the box ("stop", "cancel", "never mind", "be quiet",
"para", "cállate", "olvídalo"), without the wake word, over a reply or a ringing timer.

Said over the box's own sound they need no wake word, so they must be short and whole: the
utterance is matched as a whole sentence (hassil, with the skip words of home-assistant-intents:
"please", "por favor"), so "stop the car before the bridge" or "don't stop" is no stop, and what
the box says itself never reaches this (the echo canceller takes it out first). English and
Spanish; other languages have none (a reply is then stopped by the wake word only).
"""

from __future__ import annotations

import functools
import re
import zlib
from collections.abc import Sequence
from typing import Protocol

from hassil import Intents, recognize_best
from home_assistant_intents import get_intents

STOP = "SatelliteStop"

STOP_SENTENCES: dict[str, list[str]] = {
    "en": [
        "stop [it|that|this|talking|now]",
        "stop [the|my] (timer|timers|alarm|ringing|ring|sound|noise|beeping)",
        "(ok|okay|alright|all right|hey) [just] stop [it|that|talking]",
        "(turn|switch|shut) it off",
        "(be quiet|quiet|silence|shut up|hush|enough|that's enough|dismiss)",
        "(cancel|cancel that|never mind|nevermind|forget it)",
    ],
    "es": [
        "(para|pare|parar|detente|detén|alto|basta|stop) [ya|eso|de hablar]",
        "(ok|okay|vale|bueno|oye|eh) (para|basta|cállate|calla)",
        "para (el temporizador|la alarma|el sonido)",
        "(cállate|calla|silencio|apágalo|ya está|ya basta|es suficiente)",
        "(cancela|cancelar|cancélalo|olvídalo|olvida eso|déjalo|da igual|no importa)",
    ],
}


# Said as Whisper's prompt when speech over a reply or a ring is transcribed: a stop word said
# alone is one short word, and Whisper base heard Piper's "Stop." as "Start!" 2 times in 20
# without it, 0 in 20 with it (nor did "What a lovely morning." or "Thank you." change). What the
# prompt makes up from a hum is unsure (-0.6 to -0.8 mean log-probability against -0.1 to 0.0 for
# real stop words): below MIN_LOGPROB it is no stop. "Stop talking." was the one the room kept
# mishearing without a place in the prompt ("Start talking.", "Stop coughing.", "Stop off
# you."): offline over a reply's echo, through AEC3, it was heard 4 of 11 times without and
# 9 of 11 with it (the other stop words 10 of 11 either way).
STOP_HINTS = {
    "en": "Stop. Stop it. Stop talking. Cancel. Never mind. Be quiet. That's enough.",
    "es": "Para. Para ya. Para de hablar. Cancela. Olvídalo. Cállate. Basta.",
}
MIN_LOGPROB = -0.4
# While a timer rings the gate is lower: real stop words said over the ring's tones were heard
# again right but at -0.42 ("Stop. Stop talking.") and -0.50 ("Never mind."), and the ring
# went on for 30 s; what the prompt made up from the box's own residual scored -0.73 to -0.95.
# A ring stopped by a mistake is a timer that is done anyway; one that does not stop is the
# complaint.
RING_MIN_LOGPROB = -0.6
# Over the box's voice the best hypothesis may be a near miss ("Okay. Start.", "It's not
# talking.", "Stop." at -0.61) with the stop word second or third in the beam: the beam's other
# hypotheses are looked at too (Whisper's beam of 5 decodes them anyway). In the room's 24
# stop words over replies, the four such misses had theirs at -0.28 to -0.79; in 22 other
# sentences said over replies and the residual of the box's own sound, the likeliest stop word
# among the others was at -1.0 ("Be quiet." under a chime's residual heard as "That's enough."
# at -0.76), -1.22 ("Stop it. Stop it." under "Off the front door.") and lower.
ALTERNATIVES = 4
ALTERNATIVE_MIN_LOGPROB = -0.85
_SENTENCE_END = re.compile(r"[.!?¡¿]+")


class _Hypothesis(Protocol):
    @property
    def text(self) -> str: ...

    @property
    def avg_logprob(self) -> float: ...


class _Heard(Protocol):
    @property
    def text(self) -> str: ...

    @property
    def avg_logprob(self) -> float | None: ...

    @property
    def alternatives(self) -> Sequence[_Hypothesis]: ...


@functools.lru_cache(maxsize=8)
def _load(intent: str, language: str, sentences: tuple[str, ...]
          ) -> tuple[Intents, tuple[str, ...]]:
    data = get_intents(language) or {}
    intents = Intents.from_dict({"language": language,
                                 "intents": {intent: {"data": [{"sentences": list(sentences)}]}}})
    return intents, tuple(data.get("skip_words", ()))


def matches_whole(text: str, intent: str, sentences: dict[str, list[str]], language: str) -> bool:
    """Whether ``text`` as a whole is one of ``sentences[language]`` (hassil templates, with
    home-assistant-intents' skip words); False in a language without any."""
    templates = sentences.get(language)
    if templates is None or not text:
        return False
    intents, skip_words = _load(intent, language, tuple(templates))
    return recognize_best(text, intents, skip_words=skip_words, language=language) is not None


def is_stop(text: str, language: str) -> bool:
    """Whether ``text`` as a whole asks the box to stop, once or said again ("Stop. Stop.", as
    people say it and as Whisper writes it with the stop words as its prompt). Pure; a few ms.
    Whisper caught in a loop ("Stop." 26 times over a badly cancelled reply, a test's run) is no
    stop: text that compresses as a loop does (faster-whisper's own bar) is refused."""
    text = text.strip()
    if _looped(text):
        return False

    def stop(sentence: str) -> bool:
        return matches_whole(sentence, STOP, STOP_SENTENCES, language)

    if stop(text):
        return True
    sentences = [part.strip() for part in _SENTENCE_END.split(text) if part.strip(" ,")]
    return len(sentences) > 1 and all(stop(sentence) for sentence in sentences)


LOOP_COMPRESSION_RATIO = 2.4  # faster-whisper's compression_ratio_threshold: a decoding loop


def _looped(text: str) -> bool:
    data = text.encode()
    return len(data) / len(zlib.compress(data)) > LOOP_COMPRESSION_RATIO


def heard_stop(transcript: _Heard, language: str, min_logprob: float = MIN_LOGPROB) -> bool:
    """Whether a transcript made with ``STOP_HINTS`` is a stop word said with confidence
    (``stop_heard``)."""
    return stop_heard(transcript, language, min_logprob) is not None


def stop_heard(transcript: _Heard, language: str, min_logprob: float = MIN_LOGPROB) -> str | None:
    """The stop word a transcript made with ``STOP_HINTS`` heard with confidence: its text at
    ``min_logprob`` or better (an engine that gives no figure is taken at its word), else the
    best of the beam's other hypotheses that is one at ``ALTERNATIVE_MIN_LOGPROB`` or better."""
    sure = transcript.avg_logprob is None or transcript.avg_logprob >= min_logprob
    if sure and is_stop(transcript.text, language):
        return transcript.text
    for alternative in transcript.alternatives:
        if alternative.avg_logprob >= ALTERNATIVE_MIN_LOGPROB and is_stop(alternative.text, language):
            return alternative.text
    return None


__all__ = ["ALTERNATIVES", "ALTERNATIVE_MIN_LOGPROB", "MIN_LOGPROB", "RING_MIN_LOGPROB", "STOP", "STOP_HINTS",
           "STOP_SENTENCES", "heard_stop", "is_stop", "stop_heard"]
