"""The turn service: contract tests on fast fakes, then the same behaviour on the real models."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from satellite.audio import Pcm, read_wav
from satellite.engines import Engines
from satellite.engines.llm import ChatMessage
from satellite.engines.stt import Transcript
from satellite.engines.tts import VoiceInfo, unmarked
from satellite.errors import InputError
from satellite.pipeline import (
    ReplySentence,
    TurnRequest,
    TurnResult,
    TurnService,
    create_turn_service,
)
from satellite.pipeline.scheduler import Priority
from tests.conftest import make_config


class FakeStt:
    name = "fake"
    languages = ["en"]

    def __init__(self, text: str):
        self.text = text

    def transcribe(self, pcm: Pcm, hint: str | None = None, alternatives: int = 0) -> Transcript:
        return Transcript(self.text, "en", pcm.seconds)


class FakeLlm:
    name = "fake-llm"
    identity = "fake-llm:1"
    context_tokens = 2048

    def __init__(self, pieces: list[str], delay_s: float = 0.05):
        self.pieces = pieces
        self.delay_s = delay_s
        self.finished = threading.Event()
        self.calls = 0
        self.last_messages: list[ChatMessage] = []

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def stream(self, messages: list[ChatMessage], cancel: threading.Event | None = None,
               max_tokens: int | None = None) -> Iterator[str]:
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
        self.speed = 1.0

    def identity(self, speaker: int | None = None) -> str:
        return f"fake-voice:{speaker}:{self.speed}"

    def synthesize(self, text: str, speaker: int | None = None) -> Iterator[Pcm]:
        self.spoken.append(text)
        yield Pcm(b"\x00\x10" * 160, 16000)


def fake_service(tmp_path: Path, llm: FakeLlm, heard: str = "tell me about the sea",
                 **config: object) -> tuple[TurnService, Engines]:
    cfg = make_config(tmp_path, **config)
    engines = Engines(FakeStt(heard), llm, FakeTts())  # type: ignore[arg-type]
    return create_turn_service(cfg, engines), engines


def voice_turn(turns: TurnService, conversation: str = ""):
    return turns.turn(Pcm.silence(1.0), TurnRequest("", conversation=conversation))


def ask(turns: TurnService, text: str, conversation: str = "", **request: object):
    return turns.answer(TurnRequest(text, conversation=conversation, **request))  # type: ignore[arg-type]


async def collect(agen, timeout: float = 30.0) -> list:
    async def run() -> list:
        return [event async for event in agen]
    return await asyncio.wait_for(run(), timeout)


async def test_first_audio_arrives_before_llm_finishes(tmp_path: Path) -> None:
    llm = FakeLlm(["The sea", " is big.", " It is", " deep.", " It is", " salty."])
    turns, _ = fake_service(tmp_path, llm)
    llm_done_at_first_audio = None
    events = []
    async for event in voice_turn(turns):
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
    assert t.stt_ms <= t.first_token_ms <= t.first_audio_ms <= t.total_ms  # the lead "The sea" first
    assert t.first_token_ms <= t.first_sentence_ms <= t.total_ms


async def test_second_identical_question_comes_from_cache_with_its_audio(tmp_path: Path) -> None:
    llm = FakeLlm(["Waves", " are fun."])
    turns, engines = fake_service(tmp_path, llm)
    await collect(voice_turn(turns))
    assert llm.calls == 1
    events = await collect(voice_turn(turns))
    assert llm.calls == 1
    result = events[-1]
    assert result.timings.source == "cache" and result.reply == "Waves are fun."
    assert len(engines.tts.spoken) == 1  # audio came from the cache too
    assert any(isinstance(e, Pcm) for e in events)


async def test_clock_question_never_reaches_the_llm(tmp_path: Path) -> None:
    llm = FakeLlm(["It is noon."])
    turns, _ = fake_service(tmp_path, llm, heard="What time is it?")
    events = await collect(voice_turn(turns))
    assert llm.calls == 0
    assert events[-1].timings.source == "local" and events[-1].reply.startswith("It's ")


async def test_rambling_model_is_cut_to_max_sentences(tmp_path: Path) -> None:
    llm = FakeLlm(["One. ", "Two. ", "Three. ", "Four. ", "Five. ", "Six. "], delay_s=0.01)
    turns, _ = fake_service(tmp_path, llm, llm__max_sentences=2)
    events = await collect(voice_turn(turns))
    assert [e.text for e in events if isinstance(e, ReplySentence)] == ["One.", "Two."]


async def test_conversation_memory_reaches_the_model(tmp_path: Path) -> None:
    llm = FakeLlm(["Sure."], delay_s=0.0)
    turns, _ = fake_service(tmp_path, llm)
    await collect(ask(turns, "my name is Ada", "room-1"))
    await collect(ask(turns, "what is my name", "room-1"))
    contents = [m.content for m in llm.last_messages]
    assert "my name is Ada" in contents and contents[-1] == "what is my name"
    await collect(ask(turns, "what is my name", "room-2"))
    assert "my name is Ada" not in [m.content for m in llm.last_messages]


async def test_empty_transcript_gets_a_polite_reply(tmp_path: Path) -> None:
    llm = FakeLlm(["x"])
    turns, _ = fake_service(tmp_path, llm, heard="")
    events = await collect(voice_turn(turns))
    assert llm.calls == 0 and "didn't catch" in events[-1].reply


# -- the same behaviour on the real models -------------------------------------------------------




async def test_real_turn_from_wav_to_speech(real_turns, dev_set) -> None:
    clip = next(c for c in dev_set if c.path.name == "syn_29a.wav")  # population of tokyo
    events = await collect(real_turns.turn(read_wav(clip.path), TurnRequest("")), timeout=120)
    transcript = events[0]
    assert isinstance(transcript, Transcript) and "tokyo" in transcript.text.lower()
    audio = [e for e in events if isinstance(e, Pcm)]
    result = events[-1]
    assert isinstance(result, TurnResult) and result.reply.strip()
    assert audio and sum(a.seconds for a in audio) > 0.5
    assert result.timings.first_audio_ms is not None


async def test_real_first_audio_arrives_while_llm_still_generates(real_turns) -> None:
    still_generating = None
    answer = ask(real_turns,
                 "Describe the moon in several sentences: its size, its surface and its orbit.")
    async with contextlib.aclosing(answer):
        async for event in answer:
            if isinstance(event, Pcm):
                still_generating = "llm" in [name for name, _ in real_turns.scheduler.running()]
                break
    assert still_generating is True


async def test_first_clause_is_spoken_before_its_sentence_ends(tmp_path: Path) -> None:
    llm = FakeLlm(["The first", " moon landing,", " which NASA", " planned,", " was in 1969.",
                   " Two more.", " Three more.", " Four."], delay_s=0.01)
    turns, engines = fake_service(tmp_path, llm, llm__max_sentences=3, tts__lead_words=0)  # the clause alone
    events = await collect(voice_turn(turns))
    sentences = [e.text for e in events if isinstance(e, ReplySentence)]
    assert sentences == ["The first moon landing,", "which NASA planned, was in 1969.",
                         "Two more.", "Three more."]
    assert engines.tts.spoken[0] == "The first moon landing,"


class CountingRecognizer:
    def __init__(self) -> None:
        self.asked: list[str] = []

    def recognize(self, text: str) -> None:
        self.asked.append(text)
        return None


async def test_intent_fast_path_is_asked_once_per_turn(tmp_path: Path) -> None:
    recognizer = CountingRecognizer()
    turns, _ = fake_service(tmp_path, FakeLlm(["Waves are fun."], delay_s=0.0))
    turns.recognizer = recognizer  # type: ignore[assignment]
    await collect(voice_turn(turns))
    assert recognizer.asked == ["tell me about the sea"]
    await collect(ask(turns, "tell me about the waves", intents=False))
    assert recognizer.asked == ["tell me about the sea"]


async def test_an_answer_given_as_text_is_cached_for_every_door(tmp_path: Path) -> None:
    llm = FakeLlm(["Waves", " are fun."], delay_s=0.0)
    turns, engines = fake_service(tmp_path, llm)
    await collect(ask(turns, "tell me about the sea", door="wyoming", speak=False))
    assert llm.calls == 1
    events = await collect(voice_turn(turns))  # the room asks the same: no LLM, spoken anew
    assert llm.calls == 1 and events[-1].timings.source == "cache"
    assert engines.tts.spoken == ["Waves are fun."]
    assert [t.door for t in turns.state.turns] == ["wyoming", "cli"]


async def test_a_cached_answer_reaches_the_token_callback(tmp_path: Path) -> None:
    turns, _ = fake_service(tmp_path, FakeLlm(["Waves", " are fun."], delay_s=0.0))
    await collect(ask(turns, "tell me about the sea", speak=False))
    printed: list[str] = []
    events = await collect(ask(turns, "tell me about the sea", speak=False, on_token=printed.append))
    assert events[-1].timings.source == "cache"
    assert "".join(printed).strip() == "Waves are fun."


async def test_cached_audio_is_replayed_only_in_the_same_voice(tmp_path: Path) -> None:
    llm = FakeLlm(["Waves are fun."], delay_s=0.0)
    turns, engines = fake_service(tmp_path, llm)
    await collect(voice_turn(turns))
    await collect(voice_turn(turns))
    assert engines.tts.spoken == ["Waves are fun."]  # the second came with its audio
    engines.tts.speed = 0.8  # e.g. a new tts.length_scale: the old audio sounds different
    events = await collect(voice_turn(turns))
    assert events[-1].timings.source == "cache" and llm.calls == 1
    assert engines.tts.spoken == ["Waves are fun.", "Waves are fun."]


async def test_a_long_conversation_is_trimmed_to_fit_the_context(tmp_path: Path) -> None:
    llm = FakeLlm(["Sure."], delay_s=0.0)
    llm.context_tokens = 400
    turns, _ = fake_service(tmp_path, llm, llm__max_tokens=64, llm__history_turns=20)
    long_words = " ".join(["word"] * 60)
    for n in range(8):
        events = await collect(ask(turns, f"question {n} {long_words}", "room", speak=False))
        assert isinstance(events[-1], TurnResult) and events[-1].reply == "Sure."
    sent = llm.last_messages
    assert sent[0].role == "system" and sent[-1].content.startswith("question 7")
    assert sum(llm.count_tokens(m.content) + 8 for m in sent) <= 400 - 64
    assert 1 <= (len(sent) - 2) // 2 < 7  # the newest exchanges kept, the oldest dropped


async def test_a_question_too_long_for_the_context_is_refused_clearly(tmp_path: Path) -> None:
    llm = FakeLlm(["Sure."], delay_s=0.0)
    llm.context_tokens = 300
    turns, _ = fake_service(tmp_path, llm, llm__max_tokens=64)
    with pytest.raises(InputError, match="too long for the model"):
        await collect(ask(turns, " ".join(["word"] * 400), speak=False))
    failure = turns.record_failure("mic", InputError("too long"))
    assert failure.code == "bad-request" and "shorter" in failure.spoken
    events = await collect(ask(turns, "and a short one", speak=False))  # the service goes on
    assert events[-1].reply == "Sure."


class CountingLlm(FakeLlm):
    """Counts the pieces it has made, so a test can see whether it ran during a synthesis."""

    def __init__(self, pieces: list[str], delay_s: float = 0.02):
        super().__init__(pieces, delay_s)
        self.made = 0

    def stream(self, messages: list[ChatMessage], cancel: threading.Event | None = None,
               max_tokens: int | None = None) -> Iterator[str]:
        for piece in super().stream(messages, cancel, max_tokens):
            self.made += 1
            yield piece


class SlowTts(FakeTts):
    """Takes 0.2 s per chunk and notes how many LLM pieces were made meanwhile."""

    def __init__(self, llm: CountingLlm) -> None:
        super().__init__()
        self.llm = llm
        self.made_during: list[int] = []

    def synthesize(self, text: str, speaker: int | None = None) -> Iterator[Pcm]:
        before = self.llm.made
        time.sleep(0.2)
        self.made_during.append(self.llm.made - before)
        yield from super().synthesize(text, speaker)


async def test_the_llm_waits_while_the_local_voice_synthesizes(tmp_path: Path) -> None:
    """On a small box the first audio gets the cores: no token is made during a TTS chunk."""
    llm = CountingLlm(["The sea is big."] + [" It is deep."] * 30)
    tts = SlowTts(llm)
    turns = create_turn_service(make_config(tmp_path, tts__lead_words=0),
                                Engines(FakeStt(""), llm, tts))  # type: ignore[arg-type]
    await collect(turns.answer(TurnRequest("Tell me about the sea.", priority=Priority.ROOM)))
    assert len(tts.made_during) >= 2
    assert max(tts.made_during) <= 1  # at most the piece in hand when the chunk started


async def test_a_remote_voice_does_not_hold_the_llm_back(tmp_path: Path) -> None:
    llm = CountingLlm(["The sea is big."] + [" It is deep."] * 30)
    tts = SlowTts(llm)
    engines = Engines(FakeStt(""), llm, tts, links={"tts": object()})  # type: ignore[arg-type]
    turns = create_turn_service(make_config(tmp_path, tts__lead_words=0), engines)
    assert turns.scheduler.pauses_for == {}  # its cores are elsewhere
    await collect(turns.answer(TurnRequest("Tell me about the sea.", priority=Priority.ROOM)))
    assert max(tts.made_during) >= 3


class LeadLlm(FakeLlm):
    """Writes slowly enough that the test sees what was spoken before the sentence ended."""

    def __init__(self, pieces: list[str]):
        super().__init__(pieces, delay_s=0.02)
        self.written = ""

    def stream(self, messages: list[ChatMessage], cancel: threading.Event | None = None,
               max_tokens: int | None = None) -> Iterator[str]:
        self.written = ""
        for piece in super().stream(messages, cancel, max_tokens):
            self.written += piece
            yield piece


async def spoken_before_sentence(turns: TurnService, llm: LeadLlm, question: str
                                 ) -> tuple[list[str], str | None, list]:
    """What the voice had said, and what the model had written, when the first sentence came."""
    events, before, written = [], None, None
    async for event in turns.answer(TurnRequest(question, speak=True)):
        if isinstance(event, ReplySentence) and before is None:
            before, written = list(turns.engines.tts.spoken), llm.written  # type: ignore[attr-defined]
        events.append(event)
    assert before is not None
    return before, written, events


async def test_the_first_words_are_spoken_while_the_model_still_writes_the_sentence(
        tmp_path: Path) -> None:
    llm = LeadLlm(["Jane", " Austen", " wrote", " Pride", " and", " Prejudice", " in", " the",
                   " year", " eighteen", " thirteen.", " She", " was", " English."])
    turns, engines = fake_service(tmp_path, llm, cache__enabled=False)
    before, written, events = await spoken_before_sentence(turns, llm, "who wrote pride and prejudice")
    assert before == ["Jane Austen…"]  # spoken once "wrote" was whole, marked as going on
    assert written is not None and written.startswith("Jane Austen wrote") and not written.endswith(".")
    sentences = [e.text for e in events if isinstance(e, ReplySentence)]
    assert sentences == ["Jane Austen wrote Pride and Prejudice in the year eighteen thirteen.",
                         "She was English."]
    assert engines.tts.spoken == ["Jane Austen…", "wrote Pride and Prejudice in the year eighteen thirteen.",
                                  "She was English."]  # every word once
    result = events[-1]
    assert result.reply == " ".join(sentences)
    assert result.timings.first_audio_ms < result.timings.first_sentence_ms


async def test_a_first_sentence_that_parrots_the_question_is_not_begun(tmp_path: Path) -> None:
    llm = LeadLlm(["Who", " wrote", " Pride", " and", " Prejudice?", " Jane", " Austen", " wrote",
                   " it", " in", " eighteen", " thirteen."])
    turns, engines = fake_service(tmp_path, llm, cache__enabled=False)
    _, _, events = await spoken_before_sentence(turns, llm, "who wrote pride and prejudice")
    assert [e.text for e in events if isinstance(e, ReplySentence)] == [
        "Jane Austen wrote it in eighteen thirteen."]
    assert not any("Who" in said for said in engines.tts.spoken)


async def test_a_sentence_that_claims_an_action_is_never_begun(tmp_path: Path) -> None:
    llm = LeadLlm(["Sure,", " I", " have", " turned", " on", " the", " kitchen", " lights", " for", " you."])
    turns, engines = fake_service(tmp_path, llm, cache__enabled=False)
    _, _, events = await spoken_before_sentence(turns, llm, "make it brighter in here")
    assert [e.text for e in events if isinstance(e, ReplySentence)] == ["I can't control devices myself."]
    assert " ".join(map(unmarked, engines.tts.spoken)) == "I can't control devices myself."  # not the claim


async def test_text_doors_get_whole_sentences_only(tmp_path: Path) -> None:
    llm = LeadLlm(["Jane", " Austen", " wrote", " Pride", " and", " Prejudice", " in", " 1813."])
    turns, engines = fake_service(tmp_path, llm, cache__enabled=False)
    events = await collect(ask(turns, "who wrote pride and prejudice", speak=False))  # as Wyoming asks
    assert [type(e).__name__ for e in events] == ["ReplySentence", "TurnResult"]
    assert engines.tts.spoken == []


async def test_a_lead_said_before_is_played_from_memory(tmp_path: Path) -> None:
    llm = LeadLlm(["I'm", " sorry,", " I", " can't", " help", " with", " that."])
    turns, engines = fake_service(tmp_path, llm, cache__enabled=False)
    first = await collect(ask(turns, "what is on my calendar", speak=True))
    assert engines.tts.spoken == ["I'm sorry,", "I can't help with that."]
    second = await collect(ask(turns, "tell me a story", speak=True))
    assert engines.tts.spoken == ["I'm sorry,", "I can't help with that.", "I can't help with that."]
    first_audio = [e.audio for e in first if isinstance(e, Pcm)]
    assert [e.audio for e in second if isinstance(e, Pcm)][0] == first_audio[0]  # the kept lead
