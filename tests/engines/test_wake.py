"""Wake word models on speech made by the Piper voice: "hey jarvis ..." triggers, the rest does not."""

from __future__ import annotations

import pytest

from satellite.audio import Pcm, to_stt_format
from satellite.config.schema import WakeConfig
from satellite.engines import Engines
from satellite.engines.wake import (
    MicroWakeWordDetector,
    OpenWakeWordDetector,
    create_wake_detector,
    strip_wake_phrase,
)
from satellite.errors import ModelError

CHUNK = 2048  # 64 ms


def speak(engines: Engines, text: str) -> bytes:
    blocks = list(engines.tts.synthesize(text, None))
    pcm = to_stt_format(Pcm(b"".join(b.audio for b in blocks), blocks[0].rate_hz))
    return Pcm.silence(0.5).audio + pcm.audio + Pcm.silence(1.0).audio


def detections(detector: MicroWakeWordDetector | OpenWakeWordDetector, audio: bytes) -> list[float]:
    hits = []
    for start in range(0, len(audio), CHUNK):
        end_s = (start + CHUNK) / 32000
        if detector.process(audio[start:start + CHUNK], end_s):
            hits.append(end_s)
    return hits


@pytest.fixture(scope="module")
def with_wake(engines: Engines) -> bytes:
    return speak(engines, "Hey Jarvis, what time is it?")


@pytest.fixture(scope="module")
def without_wake(engines: Engines) -> bytes:
    return speak(engines, "What time is it?")


@pytest.mark.parametrize("engine", ["micro", "openwakeword"])
def test_hey_jarvis_triggers_once(engine: str, with_wake: bytes) -> None:
    detector = create_wake_detector(WakeConfig(engine=engine, model="hey_jarvis"))
    assert detector is not None
    hits = detections(detector, with_wake)  # type: ignore[arg-type]
    assert len(hits) == 1  # the refractory time keeps one wake word one detection
    assert 0.5 < hits[0] < 2.5  # during the words "hey jarvis", not the question after


@pytest.mark.parametrize("engine", ["micro", "openwakeword"])
def test_the_same_question_without_the_wake_word_does_not(engine: str, without_wake: bytes) -> None:
    detector = create_wake_detector(WakeConfig(engine=engine, model="hey_jarvis"))
    assert detector is not None
    assert detections(detector, without_wake) == []  # type: ignore[arg-type]


def test_threshold_above_one_never_triggers(with_wake: bytes) -> None:
    detector = MicroWakeWordDetector("hey_jarvis", threshold=0.5)
    detector.configure(WakeConfig(threshold=1.0))
    assert detections(detector, with_wake) == []


def test_no_model_for_none_and_phrase() -> None:
    assert create_wake_detector(WakeConfig(engine="none")) is None
    assert create_wake_detector(WakeConfig(engine="phrase")) is None


def test_unknown_model_is_a_model_error() -> None:
    with pytest.raises(ModelError):
        MicroWakeWordDetector("hey_nobody")


@pytest.mark.parametrize(("text", "phrase", "expected"), [
    ("Hey Jarvis, what time is it?", "hey jarvis", "what time is it?"),
    ("hey, jarvis. Turn on the lights", "hey jarvis", "Turn on the lights"),
    ("OK Nabu, stop", "okay nabu", "stop"),
    ("Sarai what's the weather", "sarai", "what's the weather"),
    ("What time is it?", "hey jarvis", None),
    ("Saraiva said hello", "sarai", None),
])
def test_strip_wake_phrase(text: str, phrase: str, expected: str | None) -> None:
    assert strip_wake_phrase(text, phrase) == expected


@pytest.mark.parametrize("reset", [False, True])
def test_a_gap_after_the_wake_word_does_not_hear_it_again_once_reset(engines: Engines, reset: bool) -> None:
    """The room stops feeding the model at the wake word (HA's run, a reply); when audio resumes,
    a model whose window still holds the wake word hears it again, unless it was reset."""
    detector = MicroWakeWordDetector("okay_nabu", 0.0, refractory_s=2.0)
    audio = speak(engines, "Okay Nabu.")
    heard_at = None
    for start in range(0, len(audio), CHUNK):  # fed up to the detection, then the room is gated
        if detector.process(audio[start:start + CHUNK], (start + CHUNK) / 32000):
            heard_at = (start + CHUNK) / 32000
            break
    assert heard_at is not None
    if reset:
        detector.reset()
    silence, later = Pcm.silence(2.0).audio, heard_at + 3.0  # the gap: 3 s of stream time unheard
    again = [s for s in range(0, len(silence), CHUNK)
             if detector.process(silence[s:s + CHUNK], later + (s + CHUNK) / 32000)]
    assert (again == []) is reset
