"""A real Wyoming server on 127.0.0.1 (port 0) over the session's loaded engines, and client helpers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from wyoming.client import AsyncClient, AsyncTcpClient
from wyoming.event import Event

from satellite.config import Config
from satellite.engines import Engines
from satellite.pipeline.factory import create_turn_service
from satellite.runtime.state import RuntimeState
from satellite.wyoming import WyomingService
from tests.conftest import make_config

TIMEOUT_S = 60.0


def wyoming_config(tmp_path: Path, **overrides: object) -> Config:
    values: dict[str, object] = {"wyoming__uri": "tcp://127.0.0.1:0", "wyoming__zeroconf": False}
    values.update(overrides)
    return make_config(tmp_path, **values)


@asynccontextmanager
async def running_service(config: Config, engines: Engines, *, body_timeout_s: float = 1.0
                          ) -> AsyncIterator[WyomingService]:
    turns = create_turn_service(config, engines, RuntimeState())
    service = WyomingService(config, turns, turns.state, body_timeout_s=body_timeout_s)
    await asyncio.wait_for(service.start(), TIMEOUT_S)
    try:
        yield service
    finally:
        await asyncio.wait_for(service.stop(), TIMEOUT_S)
        turns.close()


@pytest.fixture(scope="module")
async def service(tmp_path_factory: pytest.TempPathFactory, engines: Engines
                  ) -> AsyncIterator[WyomingService]:
    config = wyoming_config(tmp_path_factory.mktemp("wyoming"), wyoming__max_audio_s=20.0,
                            wyoming__max_text_chars=2000, wyoming__max_event_bytes=1024 * 1024)
    async with running_service(config, engines) as running:
        yield running


@asynccontextmanager
async def connect(service: WyomingService) -> AsyncIterator[AsyncTcpClient]:
    assert service.port is not None
    client = AsyncTcpClient("127.0.0.1", service.port)
    await asyncio.wait_for(client.connect(), TIMEOUT_S)
    try:
        yield client
    finally:
        await asyncio.wait_for(client.disconnect(), TIMEOUT_S)


async def read_until(client: AsyncClient, last: Callable[[Event], bool],
                     timeout: float = TIMEOUT_S) -> list[Event]:
    """Events up to and including the first for which ``last`` is true (or an error event)."""
    events: list[Event] = []
    while True:
        event = await asyncio.wait_for(client.read_event(), timeout)
        assert event is not None, f"connection closed after {[e.type for e in events]}"
        events.append(event)
        if last(event) or event.type == "error":
            return events


def of_type(*types: str) -> Callable[[Event], bool]:
    return lambda event: event.type in types
