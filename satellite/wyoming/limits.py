"""Bounded reading of Wyoming events: every size a client declares is checked before it is read.

``wyoming.event.async_read_event`` trusts any ``data_length``/``payload_length``
and turns a malformed frame into ``None`` (a silent disconnect). Here the
header line is bounded by the stream's own line limit (64 KiB in asyncio),
the declared lengths by ``max_event_bytes``, and the body must arrive within
``body_timeout_s``; a bad frame raises ``ProtocolError`` so the door can
answer with an ``error`` event before closing. The parsed pieces become a
plain ``wyoming.event.Event``.

Writing is bounded the other way: ``wyoming.event.async_write_event`` buffers an
event and awaits ``drain()``, which waits as long as the client does not read.
``write_event_bounded`` gives that wait ``write_timeout_s`` and raises
``ClientStalledError``; the connection's owner then aborts it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from wyoming.event import Event, async_write_event

_LOGGER = logging.getLogger(__name__)
MAX_TYPE_CHARS = 64


class ProtocolError(Exception):
    """A frame we cannot read; the connection's framing is lost, so it is closed after answering."""

    def __init__(self, text: str, code: str = "bad-frame"):
        super().__init__(text)
        self.text = text
        self.code = code


class ClientStalledError(ConnectionError):
    """The client did not take an event within the write timeout: the connection is unusable."""


class ClientIdleError(Exception):
    """No event header began to arrive within the idle timeout."""


def _length(header: dict[str, Any], key: str, max_bytes: int) -> int:
    value = header.get(key)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProtocolError(f"{key} must be a non-negative integer, not {value!r}")
    if value > max_bytes:
        raise ProtocolError(f"{key} {value} exceeds the limit of {max_bytes} bytes", "too-large")
    return value


def parse_header(line: bytes, max_event_bytes: int) -> tuple[str, dict[str, Any], int, int]:
    """(type, data, data_length, payload_length) from a header line; pure, raises ProtocolError."""
    try:
        header = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        raise ProtocolError("malformed JSON in event header") from None
    if not isinstance(header, dict):
        raise ProtocolError("event header must be a JSON object")
    event_type = header.get("type")
    if not isinstance(event_type, str) or not event_type or len(event_type) > MAX_TYPE_CHARS:
        raise ProtocolError("event header needs a 'type' string")
    data = header.get("data")
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise ProtocolError("event 'data' must be a JSON object")
    data_length = _length(header, "data_length", max_event_bytes)
    payload_length = _length(header, "payload_length", max_event_bytes)
    if data_length + payload_length > max_event_bytes:
        raise ProtocolError(f"event of {data_length + payload_length} bytes exceeds the limit "
                            f"of {max_event_bytes} bytes", "too-large")
    return event_type, data, data_length, payload_length


async def read_event_bounded(reader: asyncio.StreamReader, max_event_bytes: int,
                             body_timeout_s: float = 10.0, idle_timeout_s: float | None = None
                             ) -> Event | None:
    """The next event, None at a clean end of stream, or ProtocolError for a bad frame.

    ClientIdleError when no complete header line arrives within ``idle_timeout_s``;
    a partial line stays buffered, so reading again later loses nothing.
    """
    try:
        async with asyncio.timeout(idle_timeout_s):
            line = await reader.readline()
    except ValueError:  # asyncio's LimitOverrunError, re-raised by readline
        raise ProtocolError("event header line too long", "too-large") from None
    except TimeoutError:
        raise ClientIdleError(f"no event for {idle_timeout_s:g} s") from None
    if not line:
        return None
    if not line.endswith(b"\n"):
        _LOGGER.info("client closed the connection in the middle of an event header")
        return None
    event_type, data, data_length, payload_length = parse_header(line, max_event_bytes)
    try:
        async with asyncio.timeout(body_timeout_s):
            data_bytes = await reader.readexactly(data_length) if data_length else b""
            payload = await reader.readexactly(payload_length) if payload_length else None
    except asyncio.IncompleteReadError:
        _LOGGER.info("client closed the connection before the %s event's body arrived", event_type)
        return None
    except TimeoutError:
        raise ProtocolError(f"the {event_type} event's declared body did not arrive within "
                            f"{body_timeout_s:g} s", "timeout") from None
    if data_bytes:
        try:
            extra = json.loads(data_bytes)
        except (ValueError, UnicodeDecodeError):
            raise ProtocolError("malformed JSON in event data") from None
        if not isinstance(extra, dict):
            raise ProtocolError("event data must be a JSON object")
        data = {**data, **extra}
    return Event(type=event_type, data=data, payload=payload)


async def write_event_bounded(event: Event, writer: asyncio.StreamWriter, write_timeout_s: float) -> None:
    """Write one event; ClientStalledError if the client has not taken it within ``write_timeout_s``."""
    try:
        async with asyncio.timeout(write_timeout_s):
            await async_write_event(event, writer)
    except TimeoutError:
        raise ClientStalledError(f"the client took no {event.type} event for {write_timeout_s:g} s"
                                 ) from None
