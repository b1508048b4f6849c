"""The streamed turn: contract tests on fast fakes, then the same behaviour on the real models."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from satellite.audio import Pcm, read_wav
from satellite.config import Config
from satellite.engines import Engines
from satellite.engines.llm import ChatMessage
from satellite.engines.stt import Transcript
from satellite.engines.tts import VoiceInfo
from satellite.pipeline import ReplySentence, TurnResult, create_pipeline
from tests.conftest import make_config


class FakeStt:
    name = "fake"
    languages = ["en"]

    def __init__(self, text: str):
        self.text = text

    def transcribe(self, pcm: Pcm) -> Transcript:
        return Transcript(self.text, "en", pcm.seconds)


class FakeLlm:
    name = "fake-llm"
    identity = "fake-llm:1"

    def __init__(self, pieces: list[str], delay_s: float = 0.05):
        self.pieces = pieces
        self.delay_s = delay_s
        self.finished = threading.Event()
        self.calls = 0
        self.last_messages: list[ChatMessage] = []

    def stream(self, messages: list[ChatMessage], cancel: threading.Event | None = None
               ) -> Iterator[str]:
        self.calls += 1
        self.finished.clear()
        self.last_messages = messages
        try:
            for piece in self.pieces:
                if cancel is not None and cancel.is_set():
                    return
                time.sleep(self.delay_s)
                yield piece
        finally:
            self.finished.set()


class FakeTts:
    voice = VoiceInfo("fake-voice", "en_US", 16000, [], Path("fake.onnx"))

    def __init__(self) -> None:
        self.spoken: list[str] = []

    def synthesize(self, text: str, speaker: int | None = None) -> Iterator[Pcm]:
        self.spoken.append(text)
        yield Pcm(b"\x00\x10" * 160, 16000)


def fake_pipeline(tmp_path: Path, llm: FakeLlm, heard: str = "tell me about the sea",
                  **config: object):
    cfg = make_config(tmp_path, **config)
    engines = Engines(FakeStt(heard), llm, FakeTts())  # type: ignore[arg-type]
    return create_pipeline(cfg, engines), engines


async def collect(agen, timeout: float = 30.0) -> list:
    async def run() -> list:
        return [event async for event in agen]
    return await asyncio.wait_for(run(), timeout)


async def test_first_audio_arrives_before_llm_finishes(tmp_path: Path) -> None:
    llm = FakeLlm(["The sea", " is big.", " It is", " deep.", " It is", " salty."])
    pipe, _ = fake_pipeline(tmp_path, llm)
    llm_done_at_first_audio = None
    events = []
    async for event in pipe.turn(Pcm.silence(1.0)):
        if isinstance(event, Pcm) and llm_done_at_first_audio is None:
            llm_done_at_first_audio = llm.finished.is_set()
        events.append(event)
    assert llm_done_at_first_audio is False
    sentences = [e.text for e in events if isinstance(e, ReplySentence)]
    assert sentences == ["The sea is big.", "It is deep.", "It is salty."]
    result = events[-1]
    assert isinstance(result, TurnResult)
    t = result.timings
    assert t.source == "llm"
    assert t.stt_ms <= t.first_token_ms <= t.first_sentence_ms <= t.first_audio_ms <= t.total_ms


async def test_second_identical_question_comes_from_cache_with_its_audio(tmp_path: Path) -> None:
    llm = FakeLlm(["Waves", " are fun."])
    pipe, engines = fake_pipeline(tmp_path, llm)
    await collect(pipe.turn(Pcm.silence(1.0)))
    assert llm.calls == 1
    events = await collect(pipe.turn(Pcm.silence(1.0), conversation=""))
    assert llm.calls == 1
    result = events[-1]
    assert result.timings.source == "cache" and result.reply == "Waves are fun."
    assert len(engines.tts.spoken) == 1  # audio came from the cache too
    assert any(isinstance(e, Pcm) for e in events)


async def test_clock_question_never_reaches_the_llm(tmp_path: Path) -> None:
    llm = FakeLlm(["It is noon."])
    pipe, _ = fake_pipeline(tmp_path, llm, heard="What time is it?")
    events = await collect(pipe.turn(Pcm.silence(1.0)))
    assert llm.calls == 0
    assert events[-1].timings.source == "local" and events[-1].reply.startswith("It's ")


async def test_rambling_model_is_cut_to_max_sentences(tmp_path: Path) -> None:
    llm = FakeLlm(["One. ", "Two. ", "Three. ", "Four. ", "Five. ", "Six. "], delay_s=0.01)
    pipe, _ = fake_pipeline(tmp_path, llm, llm__max_sentences=2)
    events = await collect(pipe.turn(Pcm.silence(1.0)))
    assert [e.text for e in events if isinstance(e, ReplySentence)] == ["One.", "Two."]


async def test_conversation_memory_reaches_the_model(tmp_path: Path) -> None:
    llm = FakeLlm(["Sure."], delay_s=0.0)
    pipe, _ = fake_pipeline(tmp_path, llm)
    await collect(pipe.answer("my name is Ada", "room-1"))
    await collect(pipe.answer("what is my name", "room-1"))
    contents = [m.content for m in llm.last_messages]
    assert "my name is Ada" in contents and contents[-1] == "what is my name"
    await collect(pipe.answer("what is my name", "room-2"))
    assert "my name is Ada" not in [m.content for m in llm.last_messages]


async def test_empty_transcript_gets_a_polite_reply(tmp_path: Path) -> None:
    llm = FakeLlm(["x"])
    pipe, _ = fake_pipeline(tmp_path, llm, heard="")
    events = await collect(pipe.turn(Pcm.silence(0.5)))
    assert llm.calls == 0 and "didn't catch" in events[-1].reply


# -- the same behaviour on the real models -------------------------------------------------------


@pytest.fixture
def real_pipeline(tmp_path: Path, engines: Engines):
    config: Config = make_config(tmp_path, llm__max_tokens=160, llm__max_sentences=6)
    return create_pipeline(config, engines)


async def test_real_turn_from_wav_to_speech(real_pipeline, dev_set) -> None:
    clip = next(c for c in dev_set if c.path.name == "syn_29a.wav")  # population of tokyo
    events = await collect(real_pipeline.turn(read_wav(clip.path)), timeout=120)
    transcript = events[0]
    assert isinstance(transcript, Transcript) and "tokyo" in transcript.text.lower()
    audio = [e for e in events if isinstance(e, Pcm)]
    result = events[-1]
    assert isinstance(result, TurnResult) and result.reply.strip()
    assert audio and sum(a.seconds for a in audio) > 0.5
    assert result.timings.first_audio_ms is not None


async def test_real_first_audio_arrives_while_llm_still_generates(real_pipeline) -> None:
    still_generating = None
    answer = real_pipeline.answer(
        "Describe the moon in several sentences: its size, its surface and its orbit.")
    async with contextlib.aclosing(answer):
        async for event in answer:
            if isinstance(event, Pcm):
                still_generating = "llm" in [name for name, _ in real_pipeline.scheduler.running()]
                break
    assert still_generating is True


async def test_first_clause_is_spoken_before_its_sentence_ends(tmp_path: Path) -> None:
    llm = FakeLlm(["The first", " moon landing,", " which NASA", " planned,", " was in 1969.",
                   " Two more.", " Three more.", " Four."], delay_s=0.01)
    pipe, engines = fake_pipeline(tmp_path, llm, llm__max_sentences=3)
    events = await collect(pipe.turn(Pcm.silence(1.0)))
    sentences = [e.text for e in events if isinstance(e, ReplySentence)]
    assert sentences == ["The first moon landing,", "which NASA planned, was in 1969.",
                         "Two more.", "Three more."]
    assert engines.tts.spoken[0] == "The first moon landing,"


async def test_intent_fast_path_is_asked_once_per_turn(tmp_path: Path) -> None:
    asked: list[str] = []

    def intents(text: str) -> str | None:
        asked.append(text)
        return None

    llm = FakeLlm(["Waves are fun."], delay_s=0.0)
    cfg = make_config(tmp_path)
    engines = Engines(FakeStt("tell me about the sea"), llm, FakeTts())  # type: ignore[arg-type]
    pipe = create_pipeline(cfg, engines, intent_answer=intents)
    await collect(pipe.turn(Pcm.silence(1.0)))
    assert asked == ["tell me about the sea"]
    await collect(pipe.reply("tell me about the waves", intents=False))
    assert asked == ["tell me about the sea"]
