"""What one client can hold is bounded: a client that stops reading, too many connections, idle ones.

Real TCP on 127.0.0.1 against the real engines. The stalled client is a raw
socket with a tiny receive buffer that never reads, so the server's writes
really block.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

import pytest
from wyoming.audio import AudioChunk, AudioStart
from wyoming.error import Error
from wyoming.event import Event, async_read_event, async_write_event, write_event
from wyoming.info import Describe
from wyoming.ping import Ping
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart

from satellite.engines import Engines
from satellite.health.checks import Verdict, status_document, wyoming_dict
from satellite.runtime.state import WyomingConnection
from satellite.wyoming import WyomingService
from tests.wyoming.conftest import TIMEOUT_S, connect, of_type, read_until, running_service, wyoming_config

on_session_loop = pytest.mark.asyncio(loop_scope="session")  # where the engines and servers live
T = TypeVar("T")
SENTENCE = "The quick brown fox jumps over the lazy dog near the quiet river bank. "
MAX_TEXT_CHARS = 2000
LONG_TEXT = (SENTENCE * (MAX_TEXT_CHARS // len(SENTENCE)))[:MAX_TEXT_CHARS - 10]
SERVED_WITHIN_S = 30.0  # generous: the box is shared, but a held engine would block far longer


async def until(value: Callable[[], T], what: str, timeout_s: float = TIMEOUT_S) -> T:
    """Poll ``value`` until it is truthy; fail naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not (result := value()):
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout_s:g} s")
        await asyncio.sleep(0.05)
    return result


def status(service: WyomingService) -> dict:
    """The /status document as the health server builds it, from the service's live state."""
    verdict = Verdict(True, "ok")
    return status_document(service.state, live=verdict, ready=verdict, recent_turns=10, queue_depth=0,
                           running=service.turns.scheduler.running(), now_wall_s=time.time(),
                           rss_bytes=0, pid=os.getpid())


@asynccontextmanager
async def non_reading_socket(service: WyomingService) -> AsyncIterator[socket.socket]:
    """A client socket that never reads, with a receive buffer as small as the kernel allows."""
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    sock.setblocking(False)
    try:
        await asyncio.wait_for(loop.sock_connect(sock, ("127.0.0.1", service.port)), TIMEOUT_S)
        yield sock
    finally:
        sock.close()


async def send_raw(sock: socket.socket, event: Event) -> None:
    frame = io.BytesIO()
    write_event(event, frame)  # the library's own framing, into bytes
    await asyncio.wait_for(asyncio.get_running_loop().sock_sendall(sock, frame.getvalue()), TIMEOUT_S)


async def closed_by_server(sock: socket.socket, timeout_s: float = 10.0) -> bool:
    """Read what is left; True once the server has closed or reset the connection."""
    loop = asyncio.get_running_loop()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            data = await asyncio.wait_for(loop.sock_recv(sock, 65536), deadline - time.monotonic())
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False
        if not data:
            return True
    return False


async def describe_and_speak(service: WyomingService) -> tuple[list[Event], list[Event]]:
    async with connect(service) as client:
        await client.write_event(Describe().event())
        info = await read_until(client, of_type("info"))
    async with connect(service) as client:
        await client.write_event(Synthesize("Good morning.").event())
        spoken = await read_until(client, of_type("audio-stop"))
    return info, spoken


@on_session_loop
async def test_a_client_that_stops_reading_is_cut_off_and_frees_the_voice(
        tmp_path: Path, engines: Engines, caplog: pytest.LogCaptureFixture) -> None:
    write_timeout_s = 2.0
    config = wyoming_config(tmp_path, wyoming__max_text_chars=MAX_TEXT_CHARS,
                            wyoming__write_timeout_s=write_timeout_s)
    caplog.set_level(logging.INFO, logger="satellite.wyoming")
    async with running_service(config, engines) as service, non_reading_socket(service) as stalled:
        peer = "{}:{}".format(*stalled.getsockname())
        await send_raw(stalled, Synthesize(LONG_TEXT).event())

        def blocked_write() -> dict | None:
            waiting = status(service)["wyoming"]["waiting_on_client"]
            return next((w for w in waiting if w["peer"] == peer and w["waiting_s"] >= 0.5), None)

        # /status shows the connection whose write waits on the client, and what it asked for.
        waiting = await until(blocked_write, "a write blocked on the stalled client")
        assert waiting["request"] == "synthesize"

        others = asyncio.create_task(describe_and_speak(service))
        # Cut off one write timeout after its write blocked (the margin is for a loaded box).
        await until(lambda: peer not in [c.peer for c in service.state.wyoming_connection_list()],
                    "the stalled client disconnected", timeout_s=write_timeout_s + 15.0)
        assert await closed_by_server(stalled)

        info, spoken = await asyncio.wait_for(others, SERVED_WITHIN_S)
        assert [e.type for e in info] == ["info"]
        assert spoken[-1].type == "audio-stop" and any(e.type == "audio-chunk" for e in spoken)
        assert not service.turns.scheduler.running()  # the stalled synthesis let go of the engine

    stalled_count = service.state.metrics.errors.labels(kind="wyoming_client_stalled")._value.get()
    assert stalled_count == 1
    lines = [r.getMessage() for r in caplog.records if "stopped reading" in r.getMessage()]
    assert len(lines) == 1 and peer in lines[0] and "synthesize" in lines[0], lines


async def read_event(reader: asyncio.StreamReader) -> Event | None:
    return await asyncio.wait_for(async_read_event(reader), TIMEOUT_S)


@on_session_loop
async def test_connections_beyond_the_cap_get_busy_and_the_others_keep_working(
        tmp_path: Path, engines: Engines) -> None:
    cap = 3
    config = wyoming_config(tmp_path, wyoming__max_connections=cap)
    async with running_service(config, engines) as service:
        held = [await asyncio.wait_for(asyncio.open_connection("127.0.0.1", service.port), TIMEOUT_S)
                for _ in range(cap)]
        await until(lambda: len(service.state.wyoming_connections) == cap, "the connections admitted")
        for _ in range(5):
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", service.port), TIMEOUT_S)
            event = await read_event(reader)
            assert event is not None and Error.is_type(event.type), event
            error = Error.from_event(event)
            assert error.code == "busy" and "too many connections" in error.text
            assert await asyncio.wait_for(reader.read(), TIMEOUT_S) == b""  # closed at once
            writer.close()
        # A refused client that is still sending its request (audio) reads the answer too,
        # rather than a connection reset that would lose it.
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", service.port), TIMEOUT_S)
        await async_write_event(AudioStart(rate=16000, width=2, channels=1).event(), writer)
        for _ in range(30):
            await async_write_event(AudioChunk(rate=16000, width=2, channels=1,
                                               audio=bytes(3200)).event(), writer)
        event = await read_event(reader)
        assert event is not None and Error.is_type(event.type) and \
            Error.from_event(event).code == "busy", event
        writer.close()
        refused = service.state.metrics.errors.labels(kind="wyoming_refused")._value.get()
        assert refused == 6
        assert status(service)["wyoming"]["connections"] == cap

        reader, writer = held[0]  # an admitted connection is still served
        await async_write_event(Describe().event(), writer)
        event = await read_event(reader)
        assert event is not None and event.type == "info"

        held.pop()[1].close()  # a place frees up: a new client is served
        await until(lambda: len(service.state.wyoming_connections) < cap, "the freed place")
        async with connect(service) as client:
            await client.write_event(Describe().event())
            assert [e.type for e in await read_until(client, of_type("info"))] == ["info"]
        for _, writer in held:
            writer.close()


@on_session_loop
async def test_idle_connections_are_closed_but_not_while_being_answered(
        tmp_path: Path, engines: Engines) -> None:
    idle_timeout_s = 1.0
    config = wyoming_config(tmp_path, wyoming__idle_timeout_s=idle_timeout_s,
                            wyoming__max_text_chars=MAX_TEXT_CHARS)
    async with running_service(config, engines) as service:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", service.port), TIMEOUT_S)
        opened = time.monotonic()
        assert await asyncio.wait_for(reader.read(), idle_timeout_s + 15.0) == b""
        assert time.monotonic() - opened >= idle_timeout_s * 0.5
        writer.close()

        async with connect(service) as client:  # a client that keeps talking stays
            for _ in range(5):
                await asyncio.sleep(idle_timeout_s / 2)
                await client.write_event(Ping(text="still here").event())
                assert [e.type for e in await read_until(client, of_type("pong"))] == ["pong"]

        async with connect(service) as client:  # a silent client whose synthesis is speaking stays
            await client.write_event(SynthesizeStart().event())
            # 24 sentences: ~3.5 s to synthesize on a Xeon with AVX-512, ~30 s on the slowest CI so far
            await client.write_event(SynthesizeChunk(SENTENCE * 24).event())
            silent_until = time.monotonic() + 2 * idle_timeout_s
            received = []
            while time.monotonic() < silent_until:
                event = await asyncio.wait_for(client.read_event(), TIMEOUT_S)
                assert event is not None, "closed while its synthesis was being spoken"
                received.append(event.type)
            assert received[0] == "audio-start" and "audio-chunk" in received
            assert "audio-stop" not in received  # still speaking: the test really was silent meanwhile
        # Leaving mid-stream frees the connection and the voice.
        await until(lambda: not service.state.wyoming_connections, "all connections gone")
        await until(lambda: not service.turns.scheduler.running(), "the synthesis cancelled")


def test_status_lists_connections_and_those_waiting_on_the_client() -> None:
    connections = [WyomingConnection("10.0.0.5:40000", since_s=100.0, request="synthesize",
                                     write_pending_since_s=130.0),
                   WyomingConnection("10.0.0.6:40001", since_s=120.0)]
    view = wyoming_dict(connections, now_wall_s=142.5)
    assert view["connections"] == 2
    assert view["waiting_on_client"] == [{"peer": "10.0.0.5:40000", "request": "synthesize",
                                          "since_s": 130.0, "waiting_s": 12.5}]
    assert [c["request"] for c in view["open"]] == ["synthesize", None]


@on_session_loop
async def test_a_host_outside_allow_from_is_refused_and_an_allowed_one_is_served(
        tmp_path: Path, engines: Engines) -> None:
    """wyoming.allow_from: 127.0.0.2 only. This machine's 127.0.0.1 is another host to it."""
    config = wyoming_config(tmp_path, wyoming__allow_from=["127.0.0.2"])
    async with running_service(config, engines) as service:
        for _ in range(2):
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", service.port), TIMEOUT_S)
            await async_write_event(Describe().event(), writer)
            event = await read_event(reader)
            assert event is not None and Error.is_type(event.type), event
            error = Error.from_event(event)
            assert error.code == "forbidden" and "allow_from" in error.text
            assert await asyncio.wait_for(reader.read(), TIMEOUT_S) == b""  # closed
            writer.close()
        refused = service.state.metrics.connections_refused.labels(port="wyoming", reason="address")
        assert refused._value.get() == 2
        assert status(service)["wyoming"]["connections"] == 0  # never admitted

        reader, writer = await asyncio.wait_for(asyncio.open_connection(
            "127.0.0.1", service.port, local_addr=("127.0.0.2", 0)), TIMEOUT_S)
        await async_write_event(Describe().event(), writer)
        event = await read_event(reader)
        assert event is not None and event.type == "info"
        writer.close()
