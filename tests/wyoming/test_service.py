"""The service's lifecycle: addresses (tcp, 0.0.0.0, unix), zeroconf that never crashes, runtime state."""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path

import pytest
from wyoming.client import AsyncClient
from wyoming.info import Describe
from wyoming.ping import Ping

from satellite.engines import Engines
from satellite.errors import SatelliteError
from satellite.pipeline.factory import create_turn_service
from satellite.runtime.state import RuntimeState
from satellite.wyoming import WyomingService
from tests.wyoming.conftest import TIMEOUT_S, connect, of_type, read_until, running_service, wyoming_config
from tests.wyoming.test_zeroconf import resolved_port

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_state_tracks_component_connections_and_events(service: WyomingService) -> None:
    assert service.state.components["wyoming"].state == "ready"
    assert service.state.components["wyoming"].detail == f"tcp://127.0.0.1:{service.port}"
    metrics = service.state.metrics
    before = metrics.wyoming_events.labels(type="describe")._value.get()
    async with connect(service) as client:
        await client.write_event(Ping(text="hi").event())
        (pong,) = await read_until(client, of_type("pong"))
        assert pong.data.get("text") == "hi"
        assert metrics.wyoming_connections._value.get() >= 1
        await client.write_event(Describe().event())
        await read_until(client, of_type("info"))
    assert metrics.wyoming_events.labels(type="describe")._value.get() == before + 1


async def test_all_interfaces_say_reachable_from_the_lan_and_zeroconf_cannot_crash(
        tmp_path: Path, engines: Engines, caplog: pytest.LogCaptureFixture) -> None:
    config = wyoming_config(tmp_path, wyoming__uri="tcp://0.0.0.0:0", wyoming__zeroconf=True,
                            wyoming__zeroconf_name="sarai-test")
    caplog.set_level(logging.INFO, logger="satellite.wyoming")
    async with running_service(config, engines) as service:
        assert service.port
        assert any("reachable from the LAN" in r.getMessage() for r in caplog.records)
        # Registered or one warning: either way the server is up and answering.
        assert any("zeroconf" in r.getMessage() for r in caplog.records)
        if any("advertised as sarai-test" in r.getMessage() for r in caplog.records):
            assert await resolved_port("sarai-test") == service.port  # what Home Assistant sees
        async with connect(service) as client:
            await client.write_event(Describe().event())
            assert (await read_until(client, of_type("info")))[0].type == "info"
    assert service.state.components["wyoming"].state == "off"


async def test_unix_socket(tmp_path: Path, engines: Engines) -> None:
    path = tmp_path / "wyoming.sock"
    config = wyoming_config(tmp_path, wyoming__uri=f"unix://{path}")
    async with running_service(config, engines) as service:
        assert service.port is None and path.exists()
        client = AsyncClient.from_uri(f"unix://{path}")
        await asyncio.wait_for(client.connect(), TIMEOUT_S)
        try:
            await client.write_event(Describe().event())
            assert (await read_until(client, of_type("info")))[0].type == "info"
        finally:
            await client.disconnect()


async def test_port_in_use_fails_with_a_clear_error(tmp_path: Path, engines: Engines) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = wyoming_config(tmp_path, wyoming__uri=f"tcp://127.0.0.1:{port}")
        state = RuntimeState()
        turns = create_turn_service(config, engines, state)
        service = WyomingService(config, turns, state)
        with pytest.raises(SatelliteError, match="cannot listen"):
            await asyncio.wait_for(service.start(), TIMEOUT_S)
        assert state.components["wyoming"].state == "failed"
        turns.close()
