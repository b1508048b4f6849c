"""Not every sentence is a question: fragments, statements, and words speech to text doubts."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from satellite.audio import Pcm, to_stt_format
from satellite.engines import Engines
from satellite.engines.stt import Transcript, WhisperStt
from satellite.engines.tts import PiperTts
from satellite.models import resolved_stt, resolved_tts
from satellite.pipeline import ReplySentence, TurnRequest, TurnResult, create_turn_service
from satellite.pipeline.doubt import stt_doubt
from satellite.pipeline.sentence_kind import asks_something, is_fragment
from satellite.pipeline.service import NO_QUESTION, NOTHING_HEARD
from tests.conftest import make_config
from tests.pipeline.test_service import FakeLlm, collect, fake_service


@pytest.mark.parametrize("text, language", [
    ("the blue one over", "en"), ("and then maybe", "en"), ("Hearts.", "en"),
    ("so I was thinking that", "en"), ("y luego a lo mejor", "es"), ("La cocina.", "es"),
])
def test_fragments_are_told(text: str, language: str) -> None:
    assert is_fragment(text, language)


@pytest.mark.parametrize("text, language", [
    ("The kids are finally asleep.", "en"), ("We ran out of milk again.", "en"),
    ("What is the capital of France", "en"), ("Tell me a joke.", "en"), ("Paris?", "en"),
    ("Se nos ha acabado la leche.", "es"), ("¿Qué hora es?", "es"), ("Cuéntame un chiste", "es"),
    ("My name is Ada.", "en"), ("The dog needs a walk.", "en"), ("Mi gato es negro.", "es"),
])
def test_sentences_and_questions_are_not_fragments(text: str, language: str) -> None:
    assert not is_fragment(text, language)


def test_requests_ask_for_something_as_questions_do() -> None:
    assert asks_something("tell me about the sea", "en")
    assert asks_something("¿Dónde está Madrid?", "es")
    assert not asks_something("My sister is visiting this weekend.", "en")


async def test_a_fragment_gets_no_models_guess(tmp_path: Path) -> None:
    llm = FakeLlm(["I'm sorry for your loss."])
    turns, _ = fake_service(tmp_path, llm, cache__enabled=False)
    events = await collect(turns.answer(TurnRequest("the blue one over", speak=False)))
    assert events[-1].reply == NO_QUESTION and llm.calls == 0


async def test_a_statement_gets_two_sentences_at_most(tmp_path: Path) -> None:
    llm = FakeLlm(["Have", " fun.", " Say", " hello.", " Bring", " cake."])
    turns, _ = fake_service(tmp_path, llm, cache__enabled=False)
    events = await collect(turns.answer(TurnRequest("My sister is visiting this weekend.",
                                                    speak=False)))
    assert [e.text for e in events if isinstance(e, ReplySentence)] == ["Have fun.", "Say hello."]


async def test_a_statement_whose_reply_is_all_dropped_gets_no_question(tmp_path: Path) -> None:
    llm = FakeLlm(["I'm sorry for your loss."])  # condolences nobody asked for: dropped
    turns, _ = fake_service(tmp_path, llm, cache__enabled=False)
    events = await collect(turns.answer(TurnRequest("The kids are finally asleep.", speak=False)))
    assert events[-1].reply == NO_QUESTION


async def test_acknowledgements_get_a_short_reply_on_the_box(tmp_path: Path) -> None:
    llm = FakeLlm(["I'm sorry for your loss."])
    turns, _ = fake_service(tmp_path, llm, cache__enabled=False)
    events = await collect(turns.answer(TurnRequest("Okay.", speak=False)))
    assert events[-1].reply == "Okay." and llm.calls == 0


# -- words speech to text doubts --------------------------------------------------------------

@pytest.mark.parametrize("figures, doubted", [
    ((-0.2, 0.05, 0.8), False),  # a clean command
    ((-0.55, 0.25, 0.7), False),  # a person's "four queen of clubs"
    ((-1.1, 0.3, 0.8), True),  # reversed speech: "See you in the next video, bye!"
    ((-0.7, 0.56, 0.65), True),  # babble that looks like no speech
    ((-0.5, 0.1, 2.6), True),  # a repeating hallucination
])
def test_what_whisper_doubts(figures: tuple[float, float, float], doubted: bool) -> None:
    logprob, no_speech, ratio = figures
    transcript = Transcript("some words", "en", 2.0, logprob, no_speech, ratio)
    assert bool(stt_doubt(transcript, -0.9)) is doubted


@pytest.mark.parametrize("text, doubted", [
    ("I don't know, I don't know, I don't know, I don't know.", True),  # tiny.en, reversed speech
    ("Turn it off, turn it off, turn it off.", True),
    ("No, no, no, no.", False),  # one word over and over: a person's
    ("Stop, stop.", False),
    ("Set a timer for ten minutes and a timer for ten seconds.", False),
    ("Tell me a joke, tell me a story.", False),
])
def test_the_same_words_three_times_over_read_unsurely_are_doubted(text: str, doubted: bool
                                                                    ) -> None:
    unsure = Transcript(text, "en", 2.0, -0.74, 0.05, 2.1)  # tiny.en's figures for the first
    assert bool(stt_doubt(unsure, -0.9)) is doubted
    sure = dataclasses.replace(unsure, avg_logprob=-0.3)  # a child's "play baby shark" ×3
    assert stt_doubt(sure, -0.9) == ""


def test_a_transcript_without_figures_is_never_doubted() -> None:
    assert stt_doubt(Transcript("words from a remote engine", "en", 2.0), -0.9) == ""


def _speech(engines: Engines, text: str) -> Pcm:
    blocks = list(engines.tts.synthesize(text))
    return to_stt_format(Pcm(b"".join(b.audio for b in blocks), blocks[0].rate_hz))


def test_real_whisper_trusts_clear_speech(engines: Engines) -> None:
    transcript = engines.stt.transcribe(_speech(engines, "Turn on the kitchen lights, please."))
    assert "kitchen" in transcript.text.lower() and stt_doubt(transcript, -0.9) == ""


BACKWARDS = ("Remind me to take out the trash at six in the evening, and then tell me what the "
             "weather will be like tomorrow morning.", "Turn on the kitchen lights, please.",
             "What is the capital of France?", "Set a timer for ten minutes and tell me when it is done.",
             "How far is the moon from the earth, and how long would it take to fly there?",
             "Play some relaxing music in the living room.",
             "Add milk, eggs and bread to the shopping list.",
             "What time does the bakery on the corner open on Sundays?")


async def test_real_speech_played_backwards_is_mostly_not_answered(tmp_path: Path,
                                                                   engines: Engines) -> None:
    # On Whisper tiny.en, whose made-up transcripts sit under its bar. Not all of them: reversed
    # speech sometimes comes out as words said surely enough ("So, if I should just dare miss
    # again, call him that.": -0.88 against -0.9; 7 of these 8 doubted on a 2-core AMD EPYC), and
    # another CPU reads some differently (CI's once read the first one as "You know, we're on the
    # scallied, ..." above the bar, with Piper's noise on). So the claim is "most"; and what is
    # doubted is never the model's to answer.
    config = make_config(tmp_path, stt__min_logprob=-0.9)
    tiny = WhisperStt(resolved_stt(make_config(tmp_path, stt__model="whisper-tiny.en")))
    turns = create_turn_service(config, dataclasses.replace(engines, stt=tiny))
    # Piper's voice without its noise: the same speech each run, so what varies is the CPU only
    steady = PiperTts(resolved_tts(make_config(tmp_path, tts__noise_scale=0.0, tts__noise_w=0.0)))
    doubted = 0
    for text in BACKWARDS:
        speech = _speech(dataclasses.replace(engines, tts=steady), text)
        backwards = Pcm(np.frombuffer(speech.audio, "<i2")[::-1].tobytes(), speech.rate_hz)
        events = await collect(turns.turn(backwards, TurnRequest("", speak=False)), timeout=120)
        transcript, result = events[0], events[-1]
        assert isinstance(transcript, Transcript) and isinstance(result, TurnResult)
        if not transcript.text or stt_doubt(transcript, -0.9):  # words nobody said, doubted
            assert result.reply == NOTHING_HEARD and result.timings.source == "local"
            doubted += 1
    assert doubted >= len(BACKWARDS) - 3


async def test_a_stop_word_after_the_reply_gets_silence(tmp_path: Path) -> None:
    llm = FakeLlm(["Stopping is hard."])
    turns, _ = fake_service(tmp_path, llm)
    for said in ("Stop.", "That's enough."):
        events = await collect(turns.answer(TurnRequest(said, speak=False)))
        assert llm.calls == 0 and events[-1].reply == ""  # nothing to stop, nothing to say
