"""Bad input ends the request or the connection with an error event or a clean close; others are served."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from wyoming.audio import AudioChunk, AudioStart
from wyoming.event import Event, async_read_event
from wyoming.info import Describe
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart

from satellite.wyoming import WyomingService
from tests.wyoming.conftest import TIMEOUT_S, connect, of_type, read_until

pytestmark = pytest.mark.asyncio(loop_scope="session")


class RawClient:
    """A socket that writes whatever bytes a test wants and reads events back."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await asyncio.wait_for(self.writer.drain(), TIMEOUT_S)

    async def send_event(self, event_type: str, data: dict | None = None, payload: bytes = b"") -> None:
        header: dict = {"type": event_type}
        body = json.dumps(data).encode() if data else b""
        if body:
            header["data_length"] = len(body)
        if payload:
            header["payload_length"] = len(payload)
        await self.send(json.dumps(header).encode() + b"\n" + body + payload)

    async def read(self, timeout: float = TIMEOUT_S) -> Event | None:
        return await asyncio.wait_for(async_read_event(self.reader), timeout)

    async def closed(self, timeout: float = TIMEOUT_S) -> bool:
        return await asyncio.wait_for(self.reader.read(), timeout) == b""


@pytest.fixture
async def raw(service: WyomingService) -> AsyncIterator[RawClient]:
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", service.port), TIMEOUT_S)
    try:
        yield RawClient(reader, writer)
    finally:
        writer.close()


async def still_serving(service: WyomingService) -> None:
    async with connect(service) as client:
        await client.write_event(Describe().event())
        (event,) = await read_until(client, of_type("info"), timeout=10.0)
        assert event.type == "info"


async def expect_error(raw: RawClient, code: str) -> Event:
    event = await raw.read()
    assert event is not None and event.type == "error", event
    assert event.data.get("code") == code, event.data
    return event


async def test_malformed_json_gets_an_error_and_a_close(service: WyomingService, raw: RawClient) -> None:
    await raw.send(b'{"type": "describe", oops\n')
    await expect_error(raw, "bad-frame")
    assert await raw.closed()
    await still_serving(service)


async def test_unknown_event_type_gets_an_error_and_the_connection_goes_on(
        service: WyomingService, raw: RawClient) -> None:
    await raw.send_event("make-coffee", {"strength": 11})
    await expect_error(raw, "unknown-event")
    await raw.send_event("describe")
    event = await raw.read()
    assert event is not None and event.type == "info"


@pytest.mark.parametrize(("event_type", "data"), [
    ("synthesize", {"text": 123}),
    ("synthesize", {}),
    ("synthesize", {"text": "hi", "voice": "not-an-object"}),
    ("recognize", {"text": ["a", "list"]}),
    ("audio-start", {"rate": "fast", "width": 2, "channels": 1}),
])
async def test_wrong_field_types_get_a_bad_request(service: WyomingService, raw: RawClient,
                                                   event_type: str, data: dict) -> None:
    await raw.send_event(event_type, data)
    await expect_error(raw, "bad-request")
    assert await raw.closed()
    await still_serving(service)


@pytest.mark.parametrize("field", ["data_length", "payload_length"])
async def test_absurd_declared_length_is_refused_before_reading(service: WyomingService, raw: RawClient,
                                                                field: str) -> None:
    await raw.send(json.dumps({"type": "audio-chunk", field: 10**12}).encode() + b"\n")
    await expect_error(raw, "too-large")
    assert await raw.closed()
    await still_serving(service)


async def test_negative_length_is_refused(service: WyomingService, raw: RawClient) -> None:
    await raw.send(json.dumps({"type": "audio-chunk", "payload_length": -5}).encode() + b"\n")
    await expect_error(raw, "bad-frame")
    assert await raw.closed()


async def test_header_line_too_long_is_refused(service: WyomingService, raw: RawClient) -> None:
    await raw.send(b'{"type": "' + b"x" * 200_000)
    await expect_error(raw, "too-large")
    await still_serving(service)


async def test_body_shorter_than_declared_then_close_is_a_clean_close(
        service: WyomingService, raw: RawClient) -> None:
    await raw.send(json.dumps({"type": "audio-chunk", "payload_length": 1000}).encode() + b"\n" + b"x" * 10)
    raw.writer.write_eof()
    assert await raw.closed()
    await still_serving(service)


async def test_body_that_never_arrives_times_out_with_an_error(service: WyomingService,
                                                                raw: RawClient) -> None:
    await raw.send(json.dumps({"type": "audio-chunk", "payload_length": 1000}).encode() + b"\n" + b"x" * 10)
    await expect_error(raw, "timeout")  # body_timeout_s is 1 s in the test server
    assert await raw.closed()


async def test_audio_chunk_before_audio_start(service: WyomingService, raw: RawClient) -> None:
    chunk = AudioChunk(rate=16000, width=2, channels=1, audio=bytes(3200)).event()
    await raw.send_event(chunk.type, chunk.data, chunk.payload or b"")
    await expect_error(raw, "bad-request")
    assert await raw.closed()  # a failed request ends the connection: HA's readers skip errors
    await still_serving(service)


async def test_audio_stop_without_audio_start(service: WyomingService, raw: RawClient) -> None:
    await raw.send_event("audio-stop")
    await expect_error(raw, "bad-request")
    assert await raw.closed()


async def test_unsupported_audio_format_is_refused(service: WyomingService, raw: RawClient) -> None:
    await raw.send_event("audio-start", {"rate": 16000, "width": 2, "channels": 1})
    chunk = AudioChunk(rate=16000, width=3, channels=6, audio=bytes(36)).event()
    await raw.send_event(chunk.type, chunk.data, chunk.payload or b"")
    await expect_error(raw, "bad-request")


async def test_too_much_audio_is_refused_and_dropped(service: WyomingService, raw: RawClient) -> None:
    await raw.send_event("audio-start", {"rate": 16000, "width": 2, "channels": 1})
    second = AudioChunk(rate=16000, width=2, channels=1, audio=bytes(32000)).event()
    for _ in range(int(service.config.wyoming.max_audio_s) + 1):
        await raw.send_event(second.type, second.data, second.payload or b"")
    await expect_error(raw, "bad-request")
    await still_serving(service)


async def test_text_over_the_limit_is_refused(service: WyomingService, raw: RawClient) -> None:
    too_long = "word " * service.config.wyoming.max_text_chars
    event = Synthesize(too_long).event()
    await raw.send_event(event.type, event.data)
    await expect_error(raw, "bad-request")
    assert await raw.closed()


async def test_streamed_text_over_the_limit_is_refused(service: WyomingService, raw: RawClient) -> None:
    start = SynthesizeStart().event()
    await raw.send_event(start.type, start.data)
    chunk = SynthesizeChunk("word " * service.config.wyoming.max_text_chars).event()
    await raw.send_event(chunk.type, chunk.data)
    await expect_error(raw, "bad-request")
    assert await raw.closed()
    await still_serving(service)


async def test_clients_leaving_mid_stream_free_their_requests(service: WyomingService) -> None:
    connections = service.state.metrics.wyoming_connections
    for events in (
        [AudioStart(16000, 2, 1).event(),
         AudioChunk(rate=16000, width=2, channels=1, audio=bytes(32000)).event()],
        [SynthesizeStart().event(), SynthesizeChunk("This sentence is being spoken. And").event()],
    ):
        async with connect(service) as client:
            for event in events:
                await client.write_event(event)
    for _ in range(200):  # the handlers notice the close and let go
        if connections._value.get() == 0:
            break
        await asyncio.sleep(0.05)
    assert connections._value.get() == 0
    await still_serving(service)
