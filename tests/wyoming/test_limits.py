"""The header checks of bounded event reading, as plain data."""

from __future__ import annotations

import pytest

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
