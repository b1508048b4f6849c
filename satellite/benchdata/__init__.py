"""Speech to benchmark and test with: the built-in sentence set, spoken on demand (no audio shipped)."""

from satellite.benchdata.speech import (
    EspeakSpeaker,
    Sentence,
    Speaker,
    SpeechClip,
    SpeechSet,
    TtsSpeaker,
    builtin_sentences,
    builtin_speech_set,
    manifest_clips,
    one_per_text,
)

__all__ = [
    "EspeakSpeaker",
    "Sentence",
    "Speaker",
    "SpeechClip",
    "SpeechSet",
    "TtsSpeaker",
    "builtin_sentences",
    "builtin_speech_set",
    "manifest_clips",
    "one_per_text",
]
