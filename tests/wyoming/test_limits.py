"""The pure cores of the Wyoming door (header checks, lead words), as plain data."""

from __future__ import annotations

import pytest

from satellite.pipeline.speech_chunks import split_lead
from satellite.wyoming.limits import ProtocolError, parse_header


@pytest.mark.parametrize(("line", "code"), [
    (b"[]", "bad-frame"),
    (b'{"data": {}}', "bad-frame"),
    (b'{"type": "x", "data": []}', "bad-frame"),
    (b'{"type": "x", "data_length": true}', "bad-frame"),
    (b'{"type": "x", "data_length": 600, "payload_length": 600}', "too-large"),
])
def test_header_checks_are_pure(line: bytes, code: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_header(line, 1000)
    assert caught.value.code == code


def test_good_header_passes() -> None:
    assert parse_header(b'{"type": "audio-chunk", "data": {"rate": 1}, "payload_length": 4}', 1000) == (
        "audio-chunk", {"rate": 1}, 0, 4)


@pytest.mark.parametrize(("text", "words", "parts"), [
    ("The weather today is sunny and warm with a light breeze.", 3,
     ["The weather today", "is sunny and warm with a light breeze."]),
    ("Well, that is a good question to ask.", 3, ["Well,", "that is a good question to ask."]),
    ("Hello there.", 3, ["Hello there."]),
    ("The weather today is sunny and warm.", 0, ["The weather today is sunny and warm."]),
    ("   ", 3, []),
])
def test_lead_words_are_cut_off_long_sentences(text: str, words: int, parts: list[str]) -> None:
    assert split_lead(text, words) == parts
