from __future__ import annotations

import pytest

from satellite.pipeline.sentences import SentenceSplitter, clean_for_speech, split_sentences


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello there. How are you?", ["Hello there.", "How are you?"]),
        ("It costs 3.50 dollars. Cheap!", ["It costs 3.50 dollars.", "Cheap!"]),
        ("Dr. Smith is in. He waits.", ["Dr. Smith is in.", "He waits."]),
        ("Wait... what? Really!", ["Wait...", "what?", "Really!"]),
        ("**Sure!** Here it is:\n- one\n- two", ["Sure!", "Here it is:", "one", "two"]),
        ("No end", ["No end"]),
        ("", []),
        ("  ...  ", []),
        ("Jane Austen wrote it 😀. Yes.", ["Jane Austen wrote it.", "Yes."]),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_sentences_come_out_as_soon_as_they_end() -> None:
    splitter = SentenceSplitter()
    assert splitter.feed("The sky") == []
    assert splitter.feed(" is blue.") == []  # not sure it ended until the next char
    assert splitter.feed(" Grass") == ["The sky is blue."]
    assert splitter.feed(" is green.") == []
    assert splitter.flush() == ["Grass is green."]


def test_clean_for_speech_removes_markdown() -> None:
    assert clean_for_speech("# Title with `code` and *stars*") == "Title with code and stars"


def test_first_clause_goes_out_early_then_whole_sentences() -> None:
    splitter = SentenceSplitter(first_clause_words=4)
    assert splitter.feed("I'm sorry, but") == []  # too short a clause to say alone
    assert splitter.feed(" the moon landing, which") == ["I'm sorry, but the moon landing,"]
    assert splitter.feed(" was in 1969, is famous. It was") == ["which was in 1969, is famous."]
    assert splitter.flush() == ["It was"]


def test_numbers_with_commas_are_not_clause_seams() -> None:
    splitter = SentenceSplitter(first_clause_words=2)
    assert splitter.feed("About 14,000,000 people live") == []
