"""Response cache and conversation memory on a real SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from satellite.audio import Pcm
from satellite.config.schema import CacheConfig
from satellite.pipeline.cache import ResponseCache, cache_key
from satellite.pipeline.memory import ConversationMemory
from satellite.pipeline.store import open_state_db


class Clock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_cache(state: Path, clock: Clock, **config: object) -> ResponseCache:
    return ResponseCache(open_state_db(state), CacheConfig(**config), "model:1", "be brief",
                         clock=clock)


def test_hit_survives_reopening_the_database(tmp_path: Path) -> None:
    clock = Clock()
    cache = make_cache(tmp_path, clock)
    audio = Pcm(b"\x01\x00" * 100, 22050)
    assert cache.put("Who wrote Pride and Prejudice?", "Jane Austen.", audio, "joe")
    reopened = make_cache(tmp_path, clock)
    hit = reopened.get("who wrote pride and prejudice")
    assert hit is not None and hit.reply == "Jane Austen."
    assert hit.audio == audio and hit.voice == "joe"
    assert reopened.stats().total_hits == 1


def test_key_depends_on_model_and_prompt() -> None:
    base = cache_key("hello", "m1", "p")
    assert base == cache_key("Hello!", "m1", "p")
    assert base != cache_key("hello", "m2", "p")
    assert base != cache_key("hello", "m1", "q")


def test_entries_expire_after_ttl(tmp_path: Path) -> None:
    clock = Clock()
    cache = make_cache(tmp_path, clock, ttl_s=60.0)
    cache.put("tell me a joke", "Why not.")
    clock.now += 59
    assert cache.get("tell me a joke") is not None
    clock.now += 2
    assert cache.get("tell me a joke") is None


def test_time_sensitive_questions_are_never_stored(tmp_path: Path) -> None:
    cache = make_cache(tmp_path, Clock())
    assert not cache.put("what time is it", "It's noon.")
    assert not cache.put("will it rain tomorrow", "Maybe.")
    assert cache.stats().entries == 0


def test_least_recently_used_are_evicted(tmp_path: Path) -> None:
    clock = Clock()
    cache = make_cache(tmp_path, clock, max_entries=2)
    for question in ("one question", "two question", "three question"):
        clock.now += 1
        cache.put(question, "answer")
    assert cache.get("one question") is None
    assert cache.get("three question") is not None
    assert cache.stats().entries == 2


def test_clear_empties_the_cache(tmp_path: Path) -> None:
    cache = make_cache(tmp_path, Clock())
    cache.put("tell me a joke", "No.")
    assert cache.clear() == 1
    assert cache.get("tell me a joke") is None


def test_disabled_cache_stores_nothing(tmp_path: Path) -> None:
    cache = make_cache(tmp_path, Clock(), enabled=False)
    assert not cache.put("tell me a joke", "No.")
    assert cache.get("tell me a joke") is None


def test_state_dir_that_is_a_file_degrades_to_no_cache(tmp_path: Path,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "state"
    blocker.write_text("not a directory")
    assert open_state_db(blocker) is None
    assert "without cache" in caplog.text
    cache = ResponseCache(None, CacheConfig(), "m", "p")
    assert not cache.enabled and cache.get("hello there") is None


def test_memory_keeps_last_exchanges_per_conversation(tmp_path: Path) -> None:
    clock = Clock()
    memory = ConversationMemory(open_state_db(tmp_path), history_turns=2, ttl_s=300, clock=clock)
    for i in range(3):
        memory.add_exchange("kitchen", f"q{i}", f"a{i}")
    memory.add_exchange("office", "other", "x")
    history = memory.history("kitchen")
    assert [m.content for m in history] == ["q1", "a1", "q2", "a2"]
    assert [m.role for m in history] == ["user", "assistant"] * 2
    reopened = ConversationMemory(open_state_db(tmp_path), 2, 300, clock=clock)
    assert [m.content for m in reopened.history("kitchen")][-1] == "a2"
    clock.now += 301
    assert reopened.history("kitchen") == []


def test_memory_without_database_still_remembers_in_process() -> None:
    memory = ConversationMemory(None, history_turns=1, ttl_s=300)
    memory.add_exchange("c", "q1", "a1")
    memory.add_exchange("c", "q2", "a2")
    assert [m.content for m in memory.history("c")] == ["q2", "a2"]


def test_audio_beyond_the_byte_limit_goes_least_recently_used_first(tmp_path: Path) -> None:
    clock = Clock()
    second_of_audio = Pcm(b"\x01\x00" * 22050, 22050)  # 44,100 bytes
    cache = make_cache(tmp_path, clock, max_audio_bytes=100_000)
    for n, question in enumerate(["one", "two", "three"]):
        clock.now = 1000.0 + n
        assert cache.put(f"question {question}", f"answer {question}", second_of_audio, "joe")
    stats = cache.stats()
    assert stats.entries == 3 and stats.bytes_audio <= 100_000 and stats.with_audio == 2
    oldest = cache.get("question one")
    assert oldest is not None and oldest.reply == "answer one" and oldest.audio is None
    newest = cache.get("question three")
    assert newest is not None and newest.audio == second_of_audio


def test_a_reply_too_big_for_the_audio_limit_keeps_its_text(tmp_path: Path) -> None:
    cache = make_cache(tmp_path, Clock(), max_audio_bytes=1000)
    assert cache.put("question", "answer", Pcm(b"\x01\x00" * 22050, 22050), "joe")
    hit = cache.get("question")
    assert hit is not None and hit.reply == "answer" and hit.audio is None
