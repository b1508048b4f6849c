from __future__ import annotations

import pytest

from satellite.pipeline.speech_chunks import after_lead, speech_chunks, split_lead, split_long, streamed_lead


@pytest.mark.parametrize(
    ("text", "max_words", "chunks"),
    [
        ("short one.", 16, ["short one."]),
        ("one two three four five six", 3, ["one two three", "four five six"]),
        ("a b c, d e f g", 4, ["a b c,", "d e f g"]),
        ("a b, c d e f g", 4, ["a b, c d", "e f g"]),  # a seam that early would leave a stub
        ("a b c d e f g h", 0, ["a b c d e f g h"]),
        ("", 4, []),
    ],
)
def test_split_long(text: str, max_words: int, chunks: list[str]) -> None:
    assert split_long(text, max_words) == chunks


def test_no_chunk_is_longer_than_the_bound() -> None:
    sentence = ("The moon is about a quarter of the size of the earth, it has no air, and its "
                "surface is covered with craters made by rocks that fell from space long ago.")
    chunks = speech_chunks(sentence, lead_words=3, max_words=8)
    assert " ".join(chunks) == sentence
    assert all(len(c.split()) <= 8 for c in chunks)
    assert len(chunks[0].split()) <= 3


def test_lead_only_when_asked() -> None:
    sentence = "one two three four five six seven eight"
    assert speech_chunks(sentence, lead_words=0, max_words=16) == [sentence]
    assert speech_chunks(sentence, lead_words=3, max_words=16) == ["one two three",
                                                                    "four five six seven eight"]


@pytest.mark.parametrize(
    ("pending", "lead"),
    [
        ("Jane Austen wrote Pride ", None),  # four whole words: the sentence may still be short
        ("Jane Austen wrote Pride and", None),  # the fifth may be half a word yet
        ("Jane Austen wrote Pride and ", "Jane Austen"),
        ("Jane Austen wrote Pride and Pre", "Jane Austen"),
        ("Well, Jane Austen wrote it in", "Well,"),  # a comma near the start is the seam
        ("The **first** moon landing was in", "The first"),  # as it will be spoken
    ],
)
def test_a_lead_is_certain_once_the_sentence_is_long_enough(pending: str, lead: str | None) -> None:
    assert streamed_lead(pending, 2) == lead
    if lead is not None:  # the same cut as the whole sentence gets
        assert split_lead(pending.replace("**", "") + " 1813.", 2)[0] == lead


def test_the_rest_of_a_sentence_after_its_lead() -> None:
    assert after_lead("Jane Austen wrote it in 1813.", "Jane Austen") == "wrote it in 1813."
    assert after_lead("I can't control devices myself.", "Jane Austen") is None  # replaced by the guard
    assert streamed_lead("Jane Austen wrote Pride and", 0) is None
