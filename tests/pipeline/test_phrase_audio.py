"""Fixed answers said before are played from memory, not synthesized again."""

from __future__ import annotations

from pathlib import Path

from satellite.audio import Pcm
from satellite.engines import Engines
from satellite.pipeline import TurnResult, create_turn_service
from satellite.pipeline.home import NOT_CONNECTED_ACTION, NOT_CONNECTED_QUERY
from satellite.pipeline.phrase_audio import PhraseAudio
from satellite.pipeline.sentences import split_sentences
from tests.conftest import make_config
from tests.pipeline.test_service import FakeLlm, ask, collect, fake_service


def tone(n: int, size: int = 1000) -> Pcm:
    return Pcm(bytes([n]) * size, 16000)


def played(events: list) -> bytes:
    return b"".join(e.audio for e in events if isinstance(e, Pcm))


def test_the_least_recently_said_go_first_beyond_the_budget() -> None:
    kept = PhraseAudio(max_bytes=2500)
    kept.put("v", "one", tone(1))
    kept.put("v", "two", tone(2))
    assert kept.get("v", "one") == tone(1)  # "one" was said again: "two" is now the oldest
    kept.put("v", "three", tone(3))
    assert ("v", "two") not in kept and kept.get("v", "one") is not None and kept.bytes == 2000
    kept.put("v", "huge", tone(4, size=3000))  # larger than the whole budget: not kept
    assert ("v", "huge") not in kept and len(kept) == 2


def test_another_voice_never_plays_this_audio() -> None:
    kept = PhraseAudio(max_bytes=10_000)
    kept.put("joe:length=1.0", "Okay.", tone(1))
    assert kept.get("joe:length=0.8", "Okay.") is None and kept.hits == 0
    assert kept.get("joe:length=1.0", "Okay.") == tone(1) and kept.hits == 1


async def test_a_fixed_answer_said_again_needs_no_voice(tmp_path: Path) -> None:
    llm = FakeLlm(["never used."])
    turns, engines = fake_service(tmp_path, llm)
    first = await collect(ask(turns, "turn on the kitchen lights", speak=True))
    assert first[-1].reply == NOT_CONNECTED_ACTION and first[-1].timings.source == "local"
    synthesized = list(engines.tts.spoken)
    assert synthesized  # the first time, Piper said it
    second = await collect(ask(turns, "turn off the bedroom lamp", speak=True))  # the same refusal
    assert engines.tts.spoken == synthesized
    assert turns.phrases.hits == len(split_sentences(NOT_CONNECTED_ACTION))
    assert played(second) == played(first)
    assert isinstance(second[-1], TurnResult) and second[-1].timings.first_audio_ms is not None
    assert llm.calls == 0


async def test_llm_replies_are_not_kept_as_phrases(tmp_path: Path) -> None:
    llm = FakeLlm(["Waves are fun."], delay_s=0.0)
    turns, _ = fake_service(tmp_path, llm, cache__enabled=False)
    await collect(ask(turns, "tell me about the sea", speak=True))
    assert len(turns.phrases) == 0


async def test_off_keeps_nothing(tmp_path: Path) -> None:
    turns, engines = fake_service(tmp_path, FakeLlm([]), cache__phrase_audio_bytes=0)
    await collect(ask(turns, "turn on the kitchen lights", speak=True))
    once = list(engines.tts.spoken)
    await collect(ask(turns, "turn on the kitchen lights", speak=True))
    assert once and engines.tts.spoken == once + once and len(turns.phrases) == 0


async def test_the_common_refusals_are_ready_before_the_first_question(tmp_path: Path,
                                                                       engines: Engines) -> None:
    turns = create_turn_service(make_config(tmp_path), engines)  # no Home Assistant configured
    assert await turns.keep_common_phrases() >= 3
    voice = engines.tts.identity()
    for sentence in split_sentences(NOT_CONNECTED_ACTION) + split_sentences(NOT_CONNECTED_QUERY):
        assert (voice, sentence) in turns.phrases
    kept = turns.phrases.get(voice, NOT_CONNECTED_QUERY)
    assert kept is not None and kept.rate_hz == engines.tts.voice.sample_rate_hz and kept.seconds > 1.5
    events = await collect(ask(turns, "is the front door locked", speak=True), timeout=60)
    assert events[-1].reply == NOT_CONNECTED_QUERY
    assert played(events) == kept.audio  # played, not made again
