from __future__ import annotations

import pytest

from satellite.pipeline.speech_chunks import speech_chunks, split_long


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
