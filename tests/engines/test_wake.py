"""Wake word models on speech made by the Piper voice: "hey jarvis ..." triggers, the rest does not."""

from __future__ import annotations

import pytest

from satellite.audio import Pcm, to_stt_format
from satellite.config.schema import WakeConfig
from satellite.engines import Engines
from satellite.engines.wake import (
    OVER_VOICE_CUTOFFS,
    ConfirmedWakeDetector,
    MicroWakeWordDetector,
    OpenWakeWordDetector,
    SecondOpinion,
    WakeDecision,
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


# -- false wakes (#19, part 3) ---------------------------------------------------------------------

ORDINARY_SPEECH = (
    "Good evening, and welcome to the news at nine. The weather will stay mild this week, "
    "with rain moving in from the west on Thursday. Hey, did you remember to call your mother? "
    "Okay, I will put the kettle on. The library opens at ten, and the market closes early "
    "on Sundays. Turn left at the bakery, then keep going until you reach the bridge. "
    "She said the train was late again, so they took a taxi across town instead."
)


@pytest.fixture(scope="module")
def ordinary_speech(engines: Engines) -> bytes:
    return speak(engines, ORDINARY_SPEECH)


@pytest.mark.parametrize("model", ["okay_nabu", "hey_jarvis", "alexa", "hey_mycroft"])
def test_ordinary_speech_without_the_wake_word_never_wakes_a_shipped_model(
        model: str, ordinary_speech: bytes) -> None:
    detector = create_wake_detector(WakeConfig(model=model))  # the default settings
    assert detector is not None
    assert detections(detector, ordinary_speech) == []  # type: ignore[arg-type]


@pytest.mark.parametrize(("model", "phrase"), [("okay_nabu", "Okay Nabu."),
                                               ("hey_mycroft", "Hey Mycroft."),
                                               ("alexa", "Alexa.")])
def test_a_synthetic_wake_word_wakes_its_model_with_the_default_settings(
        engines: Engines, model: str, phrase: str) -> None:
    detector = create_wake_detector(WakeConfig(model=model))
    assert detector is not None
    assert len(detections(detector, speak(engines, phrase))) == 1  # type: ignore[arg-type]


@pytest.mark.parametrize(("scores", "min_frames", "fired_at"), [
    ([0.1, 0.9, 0.1, 0.1], 1, [1]),  # the models' own rule: one output at the cutoff
    ([0.1, 0.9, 0.1, 0.1], 2, []),  # a lone spike is not a wake word
    ([0.1, 0.9, 0.95, 0.9, 0.1], 2, [2]),  # fires on the second output in a row
    ([0.9, 0.1, 0.9, 0.1, 0.9], 2, []),  # a dip below the cutoff starts the count again
    ([0.5, 0.85, 0.85, 0.2], 2, [2]),  # at the cutoff counts
    ([0.9] * 10, 3, [2]),  # held: once, then the refractory time
])
def test_a_wake_word_needs_its_outputs_in_a_row(scores: list[float], min_frames: int,
                                                fired_at: list[int]) -> None:
    decision = WakeDecision(threshold=0.85, refractory_s=2.0, min_frames=min_frames)
    fired = [i for i, p in enumerate(scores) if decision.decide(p, i * 0.03)]
    assert fired == fired_at


def test_the_refractory_time_lets_a_second_wake_word_through_after_it() -> None:
    decision = WakeDecision(threshold=0.85, refractory_s=2.0, min_frames=2)
    scores = [(0.0, 0.9), (0.03, 0.9), (1.0, 0.1), (1.5, 0.9), (1.53, 0.9), (3.0, 0.1),
              (3.5, 0.9), (3.53, 0.9)]
    assert [t for t, p in scores if decision.decide(p, t)] == [0.03, 3.53]


def test_a_reset_forgets_a_run_begun_before_it() -> None:
    decision = WakeDecision(threshold=0.85, refractory_s=2.0, min_frames=2)
    assert not decision.decide(0.9, 0.0)
    decision.reset()
    assert not decision.decide(0.9, 0.03)
    assert decision.decide(0.9, 0.06)


def test_over_the_box_s_voice_its_own_cutoff_holds() -> None:
    decision = WakeDecision(threshold=0.85, refractory_s=2.0, threshold_over_voice=0.6)
    assert not decision.decide(0.7, 0.0)
    decision.over_voice = True
    assert decision.decide(0.7, 0.03)
    decision.over_voice = False
    assert not decision.decide(0.8, 3.0)


def test_the_cutoff_over_voice_is_the_measured_one_never_above_the_cutoff() -> None:
    detector = create_wake_detector(WakeConfig(model="okay_nabu"))
    assert isinstance(detector, MicroWakeWordDetector)
    assert detector._gate.threshold == pytest.approx(0.85)
    assert detector._gate.threshold_over_voice == pytest.approx(OVER_VOICE_CUTOFFS["okay_nabu"])
    detector.configure(WakeConfig(model="okay_nabu", threshold=0.5))
    assert detector._gate.threshold_over_voice == pytest.approx(0.5)
    detector.configure(WakeConfig(model="okay_nabu", threshold_over_voice=0.7))
    assert detector._gate.threshold_over_voice == pytest.approx(0.7)
    jarvis = create_wake_detector(WakeConfig(model="hey_jarvis"))
    assert isinstance(jarvis, MicroWakeWordDetector)
    assert jarvis._gate.threshold_over_voice == jarvis._gate.threshold  # unmeasured: its own
    jarvis.hearing_over_voice(True)
    assert jarvis._gate.over_voice


def test_min_frames_is_read_from_the_config() -> None:
    detector = create_wake_detector(WakeConfig(model="okay_nabu", min_frames=3))
    assert isinstance(detector, MicroWakeWordDetector)
    assert detector._gate.min_frames == 3
    detector.configure(WakeConfig(model="okay_nabu", min_frames=1))
    assert detector._gate.min_frames == 1


def test_a_second_opinion_confirms_a_detection_the_second_model_agrees_with() -> None:
    opinion = SecondOpinion(threshold=0.5, window_s=1.0)
    opinion.second(0.1, 0.9)
    opinion.first(1.0)
    assert not opinion.decide(1.0)  # not yet: openWakeWord's score comes later
    opinion.second(0.7, 1.4)
    assert opinion.decide(1.4)
    assert not opinion.decide(1.5)  # once


def test_a_second_opinion_that_never_agrees_rejects_the_detection() -> None:
    opinion = SecondOpinion(threshold=0.5, window_s=1.0)
    opinion.first(1.0)
    for t in (1.08, 1.5, 2.0, 2.1):
        opinion.second(0.3, t)
        assert not opinion.decide(t)
    opinion.second(0.9, 2.5)  # too late: the detection was already given up
    assert not opinion.decide(2.5)
    assert opinion.rejected == 1


def test_a_second_opinion_given_shortly_before_the_detection_counts() -> None:
    opinion = SecondOpinion(threshold=0.5, window_s=1.0)
    opinion.second(0.8, 0.5)
    opinion.second(0.2, 0.9)
    opinion.first(1.2)
    assert opinion.decide(1.2)


def test_the_second_opinion_is_built_from_the_config(engines: Engines) -> None:
    detector = create_wake_detector(WakeConfig(model="okay_nabu", second_model="agree"))
    assert isinstance(detector, ConfirmedWakeDetector)
    assert detections(detector, speak(engines, "Okay Nabu.")) != []  # type: ignore[arg-type]
    assert isinstance(create_wake_detector(WakeConfig(model="okay_nabu")), MicroWakeWordDetector)


def test_with_either_model_one_alone_wakes_once_per_refractory_time() -> None:
    opinion = SecondOpinion(threshold=0.5, either=True, refractory_s=2.0)
    opinion.second(0.7, 1.0)  # openWakeWord alone
    assert opinion.decide(1.0)
    opinion.first(1.2)  # microWakeWord on the same words
    assert not opinion.decide(1.2)
    opinion.first(4.0)  # microWakeWord alone, later
    assert opinion.decide(4.0)
    opinion.second(0.3, 7.0)
    assert not opinion.decide(7.0)
