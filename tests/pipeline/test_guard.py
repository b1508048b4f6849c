from __future__ import annotations

from satellite.pipeline.guard import ReplyGuard, is_looping


def test_stops_after_max_sentences() -> None:
    guard = ReplyGuard(max_sentences=2)
    assert guard.accept("One.") == "One."
    assert guard.accept("Two.") == "Two."
    assert guard.stopped and guard.stopped_because == "max_sentences"
    assert guard.accept("Three.") is None


def test_repeated_sentence_stops_generation() -> None:
    guard = ReplyGuard(max_sentences=5)
    assert guard.accept("I am a robot.") == "I am a robot."
    assert guard.accept("I am a  ROBOT!") is None
    assert guard.stopped_because == "repeated_sentence"


def test_looping_first_sentence_is_cut_short_but_spoken() -> None:
    guard = ReplyGuard()
    looping = "the cat sat on the mat " * 10
    spoken = guard.accept(looping)
    assert spoken is not None and len(spoken.split()) <= 20
    assert guard.stopped_because == "degenerate"


def test_looping_later_sentence_is_dropped() -> None:
    guard = ReplyGuard()
    guard.accept("Fine.")
    assert guard.accept("go go go go go go go go go go") is None
    assert guard.accepted == ["Fine."]


def test_echo_of_question_is_skipped_not_stopping() -> None:
    guard = ReplyGuard(echo_of="who wrote pride and prejudice")
    assert guard.accept("Who wrote Pride and Prejudice?") is None
    assert not guard.stopped
    assert guard.accept("Jane Austen did.") == "Jane Austen did."


def test_is_looping_table() -> None:
    assert is_looping("a b c a b c a b c".split())
    assert not is_looping("the quick brown fox jumps over the lazy dog".split())
