"""The engine box's batched engines on the real default models: several requests at once give
each caller its own right answer, and a short request is never stuck behind a long one."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from satellite.engines import Engines
from satellite.engines.llm import ChatMessage, LlamaCppLlm, Piece
from satellite.engines.llm_batch import BatchedLlm
from satellite.engines.stt import WhisperStt
from satellite.engines.stt_batch import BatchedStt, _Question
from satellite.errors import InputError
from tests.timeline import spoken

TIMEOUT_S = 120.0
QUESTIONS = {
    "What is the capital of France?": "paris",
    "How many legs does a spider have?": "8",
    "What is the capital of Germany?": "berlin",
}
SPOKEN = ("Turn on the kitchen lights.", "Set a timer for five minutes.",
          "What is the capital of France?", "Tell me a joke about the sea.")


@pytest.fixture(scope="module")
def batched(engines: Engines) -> Iterator[BatchedLlm]:
    assert isinstance(engines.llm, LlamaCppLlm)
    llm = BatchedLlm(engines.llm, 3)
    yield llm
    llm.close()


def chat(llm: LlamaCppLlm | BatchedLlm, question: str) -> list[ChatMessage]:
    return [ChatMessage("system", llm.config.system_prompt), ChatMessage("user", question)]


def test_questions_at_once_get_the_answers_one_at_a_time_gives(engines: Engines, batched: BatchedLlm
                                                              ) -> None:
    alone = {q: "".join(engines.llm.stream(chat(engines.llm, q))) for q in QUESTIONS}
    with ThreadPoolExecutor(len(QUESTIONS)) as pool:
        together = dict(zip(QUESTIONS, pool.map(
            lambda q: "".join(batched.stream(chat(batched, q))), QUESTIONS), strict=True))
    for question, expected in QUESTIONS.items():
        assert expected in together[question].lower(), together
        assert together[question] == alone[question]


def test_a_short_question_is_answered_while_a_long_answer_goes_on(batched: BatchedLlm) -> None:
    long_pieces: list[str] = []
    started = threading.Event()

    def long_answer() -> None:
        for piece in batched.stream(chat(batched, "Tell me a long story about the sea and the ships."),
                                    max_tokens=96):
            long_pieces.append(piece)
            started.set()

    with ThreadPoolExecutor(1) as pool:
        story = pool.submit(long_answer)
        assert started.wait(TIMEOUT_S)
        answer = "".join(batched.stream(chat(batched, "What is the capital of France?")))
        pieces_when_answered = len(long_pieces)
        story.result(TIMEOUT_S)
    assert "paris" in answer.lower()
    assert pieces_when_answered < len(long_pieces), "the short answer waited for the long one"


def test_a_stream_closed_early_frees_its_place_for_the_next(batched: BatchedLlm) -> None:
    streams = [batched.stream(chat(batched, f"Count from one to {n}.")) for n in (40, 50, 60)]
    for stream in streams:
        next(stream)  # all three places taken
    for stream in streams:
        stream.close()
    answer = "".join(batched.stream(chat(batched, "What is the capital of Germany?")))
    assert "berlin" in answer.lower()


def test_max_tokens_bounds_a_reply_and_pieces_carry_probabilities(batched: BatchedLlm) -> None:
    pieces = list(batched.stream(chat(batched, "Tell me a long story about a dragon."), max_tokens=6))
    tokens = [token for piece in pieces for token in getattr(piece, "tokens", ())]
    assert 1 <= len(tokens) <= 6
    assert all(isinstance(piece, Piece) for piece in pieces)
    assert all(0.0 < probability <= 1.0 for _, probability in tokens)


def test_a_conversation_longer_than_the_context_is_refused(batched: BatchedLlm) -> None:
    with pytest.raises(InputError, match="too long"):
        list(batched.stream(chat(batched, "word " * 3000)))


def test_transcriptions_together_each_get_their_own_words(engines: Engines) -> None:
    assert isinstance(engines.stt, WhisperStt)
    clips = [spoken(engines, text) for text in SPOKEN]
    alone = [engines.stt.transcribe(clip).text for clip in clips]
    stt = BatchedStt(engines.stt, 4)
    assert [t.text for t in stt._transcribe_batch(clips, None)] == alone
    # from four threads at once: the first runs alone, the rest wait for it and go together
    gate = threading.Barrier(len(clips))

    def transcribe(clip: object) -> str:
        gate.wait(TIMEOUT_S)
        return stt.transcribe(clip).text  # type: ignore[arg-type]

    with ThreadPoolExecutor(len(clips)) as pool:
        together = list(pool.map(transcribe, clips))
    assert together == alone
    assert sum(stt.batches) == len(clips) and max(stt.batches) > 1, stt.batches


def test_a_batch_never_mixes_prompts_and_long_audio_goes_alone(engines: Engines) -> None:
    assert isinstance(engines.stt, WhisperStt)
    stt = BatchedStt(engines.stt, 4)
    clip = spoken(engines, "Stop.")
    stop_hint = "Stop. Stop it. Cancel."
    stt._waiting.extend([_Question(clip, None), _Question(clip, stop_hint), _Question(clip, None)])
    first = stt._take()
    assert [q.hint for q in first] == [None, None] and [q.hint for q in stt._waiting] == [stop_hint]
    stt._waiting.clear()
    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(lambda hint: stt.transcribe(clip, hint).text, [None, stop_hint, None]))
    assert all("stop" in text.lower() for text in results), results
    long_clip = spoken(engines, " ".join(["Set a timer for five minutes."] * 18))
    assert long_clip.seconds > 28.0 and not stt.batchable(long_clip)
    started = time.monotonic()
    assert "timer" in stt.transcribe(long_clip).text.lower()
    assert time.monotonic() - started < TIMEOUT_S
