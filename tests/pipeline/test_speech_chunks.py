from __future__ import annotations

import pytest

from satellite.engines.tts import GOES_ON, seam_after, unmarked
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
    assert " ".join(unmarked(c) for c in chunks) == sentence
    assert all(len(c.split()) <= 8 for c in chunks)
    assert len(chunks[0].split()) <= 3


def test_lead_only_when_asked() -> None:
    sentence = "one two three four five six seven eight"
    assert speech_chunks(sentence, lead_words=0, max_words=16) == [sentence]
    assert speech_chunks(sentence, lead_words=3, max_words=16) == [f"one two three{GOES_ON}",
                                                                    "four five six seven eight"]


@pytest.mark.parametrize(
    ("pending", "lead"),
    [
        ("Jane Austen", None),  # two words: the sentence may end there
        ("Jane Austen wrote", None),  # the third may be half a word yet
        ("Jane Austen wrote ", "Jane Austen…"),  # marked: the sentence goes on after it
        ("Jane Austen wrote Pri", "Jane Austen…"),
        ("Well, Jane Austen wr", "Well,"),  # a comma among the lead's words is the seam
        ("The **first** moon landing", "The first…"),  # as it will be spoken
    ],
)
def test_a_lead_is_certain_once_one_more_word_is_written(pending: str, lead: str | None) -> None:
    assert streamed_lead(pending, 2) == lead
    if lead is not None:  # the cut the whole sentence would get
        assert split_lead(pending.replace("**", "") + " and so on.", 2)[0] == unmarked(lead)


def test_the_rest_of_a_sentence_after_its_lead() -> None:
    assert after_lead("Jane Austen wrote it in 1813.", "Jane Austen") == "wrote it in 1813."
    assert after_lead("Jane Austen wrote it in 1813.", f"Jane Austen{GOES_ON}") == "wrote it in 1813."
    assert after_lead("I can't control devices myself.", "Jane Austen") is None  # replaced by the guard
    assert streamed_lead("Jane Austen wrote Pride and", 0) is None


@pytest.mark.parametrize(
    ("text", "seam"),
    [
        (f"The capital{GOES_ON}", "word"),  # cut between two words: no pause, no sentence's end
        ("The first moon landing,", "clause"),  # a comma pause
        ("Well;", "clause"),
        ("of France is Paris.", "sentence"),
        ("Turned on the kitchen light", "sentence"),  # a text spoken whole, punctuated or not
    ],
)
def test_what_follows_a_piece_is_read_from_its_end(text: str, seam: str) -> None:
    assert seam_after(text) == seam


def test_every_cut_between_two_words_is_marked_and_only_those() -> None:
    sentence = "one two three four five six, seven eight nine ten eleven twelve thirteen"
    chunks = speech_chunks(sentence, lead_words=2, max_words=4)
    assert [seam_after(c) for c in chunks] == ["word", "clause", "word", "sentence"]
    assert chunks[-1] == "eleven twelve thirteen"
