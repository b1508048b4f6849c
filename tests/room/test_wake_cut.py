"""The question after a wake word heard in the same utterance starts after the phrase's sound."""

from __future__ import annotations

import numpy as np
import pytest

from satellite.audio import Pcm
from satellite.engines import Engines
from satellite.room.wake_cut import FIRED_MARGIN_S, question_start_s
from tests.hearing import wer
from tests.timeline import spoken

RATE = 16000


def tone(seconds: float, amplitude: float, hz: float = 300.0) -> np.ndarray:
    return amplitude * np.sin(2 * np.pi * hz * np.arange(int(seconds * RATE)) / RATE)


def utterance(*parts: np.ndarray) -> Pcm:
    noise = np.random.default_rng(0).standard_normal(sum(len(p) for p in parts)) * 20
    return Pcm.from_float32((np.concatenate(parts) + noise) / 32768, RATE)


# "Okay Na" loud, "bu" 18 dB under it, a pause, the question
PHRASE, TAIL, PAUSE, QUESTION = tone(0.6, 8000), tone(0.2, 1000), np.zeros(int(0.25 * RATE)), tone(0.8, 6000)


def test_fired_before_the_phrase_ended_the_question_starts_in_the_pause() -> None:
    pcm = utterance(PHRASE, TAIL, PAUSE, QUESTION)
    cut = question_start_s(pcm, 0.7)  # in the middle of "bu"
    assert 0.8 < cut <= 0.8 + 0.25


def test_fired_in_the_pause_the_question_is_cut_there() -> None:
    pcm = utterance(PHRASE, TAIL, PAUSE, QUESTION)
    assert 0.82 <= question_start_s(pcm, 0.82) <= 0.8 + 0.25


def test_said_without_a_pause_the_cut_is_where_the_model_fired() -> None:
    pcm = utterance(PHRASE, TAIL, QUESTION)
    assert question_start_s(pcm, 0.7) == pytest.approx(0.7 - FIRED_MARGIN_S)


def test_a_pause_far_after_the_model_fired_is_not_the_phrases_end() -> None:
    pcm = utterance(PHRASE, TAIL, tone(0.6, 6000), PAUSE, QUESTION)  # the question ran on
    assert question_start_s(pcm, 0.7) == pytest.approx(0.7 - FIRED_MARGIN_S)


def test_a_real_question_is_heard_whole_when_the_model_fired_early(engines: Engines) -> None:
    """Piper's "Okay Nabu, add eggs…" with the model firing 0.15 s before "Nabu" ended (as over
    the box's own voice): cut where it fired, Whisper heard "Naboo. Add eggs…"."""
    text = "add eggs and bread to my shopping list"
    pcm = Pcm.silence(0.3) + spoken(engines, f"Okay Nabu, {text}.")
    levels = [10 * np.log10(np.mean(f.astype(np.float64) ** 2) + 1.0)
              for f in pcm.samples()[:len(pcm.samples()) // 160 * 160].reshape(-1, 160)]
    peak = max(levels[:100])
    nabu_end = next(i for i in range(80, len(levels)) if levels[i] < peak - 30) / 100
    cut = question_start_s(pcm, nabu_end - 0.15)
    assert cut > nabu_end
    assert wer(text, engines.stt.transcribe(pcm.slice(cut)).text) == 0.0
