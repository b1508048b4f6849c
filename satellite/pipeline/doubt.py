"""When speech to text doubts its own words: the turn answers "Sorry, I didn't catch that."

Whisper says how sure it was of each segment. faster-whisper already drops a segment it takes
for silence (no-speech probability over 0.6 with a mean log-probability under -1); what it
keeps from babble, speech over loud noise, reversed speech or another language is still words
nobody said ("See you in the next video, bye!"). Measured on our clips (docs/benchmarks.md):
with Whisper base (the default) real clips stay above -0.72 and 20 of 21 made-up transcripts are
under -0.8; with tiny.en real clips go down to -0.85 and most made-up ones are under -0.9.
"""

from __future__ import annotations

from satellite.engines.stt import Transcript
from satellite.pipeline.sentence_kind import words

NO_SPEECH_PROB = 0.5  # … and a log-probability under NO_SPEECH_LOGPROB: probably not speech
NO_SPEECH_LOGPROB = -0.6
MAX_COMPRESSION_RATIO = 2.4  # Whisper's own bar for a repeating hallucination
# … which a short one stays under ("I don't know, I don't know, I don't know, I don't know.": 2.1,
# -0.74 to -0.98, tiny.en's reading of reversed speech): a phrase three times over, read unsurely
REPEATS = 3
REPEAT_WORDS = (2, 6)  # a phrase this long; "no, no, no" is a person's, not a hallucination
REPEAT_LOGPROB = -0.6  # … and surer than this, a child's "play baby shark, play baby shark, …"


def stt_doubt(transcript: Transcript, min_logprob: float) -> str:
    """Why speech to text doubts ``transcript`` (for the log), or "" when it does not (or cannot
    say: a remote engine gives no figures)."""
    if not transcript.text.strip() or transcript.avg_logprob is None:
        return ""
    logprob = transcript.avg_logprob
    if logprob < min_logprob:
        return f"mean log-probability {logprob:.2f} < {min_logprob:.2f}"
    no_speech = transcript.no_speech_prob
    if no_speech is not None and no_speech > NO_SPEECH_PROB and logprob < NO_SPEECH_LOGPROB:
        return f"no-speech probability {no_speech:.2f} with log-probability {logprob:.2f}"
    ratio = transcript.compression_ratio
    if ratio is not None and ratio > MAX_COMPRESSION_RATIO:
        return f"compression ratio {ratio:.2f} > {MAX_COMPRESSION_RATIO}"
    if logprob < REPEAT_LOGPROB and (phrase := repeated_phrase(transcript.text)):
        return f"{phrase!r} {REPEATS} times over"
    return ""


def repeated_phrase(text: str) -> str:
    """A phrase of ``REPEAT_WORDS`` words said ``REPEATS`` times in a row in ``text``, or "".
    (Not ``guard.is_looping``, for the model's loops: it counts n-grams anywhere in the text, and
    "no, no, no, no" holds "no no" three times.)"""
    said = words(text)
    shortest, longest = REPEAT_WORDS
    for n in range(shortest, longest + 1):
        for i in range(len(said) - REPEATS * n + 1):
            phrase = said[i:i + n]
            if all(said[i + k * n:i + (k + 1) * n] == phrase for k in range(1, REPEATS)):
                return " ".join(phrase)
    return ""
