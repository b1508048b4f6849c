"""Home Assistant down, slow, refusing the token, or not configured: a short true answer in time.

A fake Home Assistant (aiohttp, its WebSocket API's auth handshake) stands in for
the error paths only; what works is tested against the real Home Assistant core.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import WSMsgType, web

from satellite.config.schema import HomeAssistantConfig
from satellite.engines import Engines
from satellite.errors import ConfigError
from satellite.homeassistant import HomeAssistantClient, read_token
from satellite.homeassistant.client import names_from, reply_from_result
from satellite.pipeline import TurnRequest, TurnResult, create_turn_service
from satellite.pipeline.home import (
    NOT_CONNECTED_ACTION,
    NOT_CONNECTED_QUERY,
    REFUSED_ACTION,
    UNREACHABLE_ACTION,
    UNREACHABLE_QUERY,
    HomeRouter,
)
from satellite.runtime.state import RuntimeState
from tests.conftest import make_config
from tests.pipeline.test_service import FakeLlm, FakeStt, FakeTts

on_session_loop = pytest.mark.asyncio(loop_scope="session")  # where the fake server's fixture runs
TOKEN = "secret-token-that-must-never-be-logged"
TIMEOUT_S = 30.0


@dataclass
class FakeHomeAssistant:
    """Just enough of the WebSocket API to fail in each way a real one can."""

    mode: str = "ok"  # ok | refuse_token | silent | http_500
    conversations: list[str] = field(default_factory=list)
    sockets: set[web.WebSocketResponse] = field(default_factory=set)
    runner: web.AppRunner | None = None
    port: int = 0

    async def start(self, port: int = 0) -> None:
        app = web.Application()
        app.router.add_get("/api/websocket", self.websocket)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", port)
        await site.start()
        self.port = self.runner.addresses[0][1]

    async def stop(self) -> None:
        for ws in list(self.sockets):  # Home Assistant going down closes its connections
            await ws.close()
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        if self.mode == "http_500":
            raise web.HTTPInternalServerError()
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.add(ws)
        try:
            return await self._serve(ws)
        finally:
            self.sockets.discard(ws)

    async def _serve(self, ws: web.WebSocketResponse) -> web.WebSocketResponse:
        await ws.send_json({"type": "auth_required", "ha_version": "fake"})
        auth = await ws.receive_json()
        if self.mode == "refuse_token" or auth.get("access_token") != TOKEN:
            await ws.send_json({"type": "auth_invalid", "message": "Invalid access token"})
            await ws.close()
            return ws
        await ws.send_json({"type": "auth_ok", "ha_version": "fake"})
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                break
            call = json.loads(message.data)
            if call["type"] == "conversation/process":
                self.conversations.append(call["text"])
                if self.mode == "silent":
                    continue  # never answers: a Home Assistant stuck on something
                result = {"response": {"response_type": "action_done", "data": {},
                                       "speech": {"plain": {"speech": "Turned on the light"}}},
                          "conversation_id": "ha-1"}
            elif call["type"] == "get_states":
                result = [{"entity_id": "light.kitchen_lights",
                           "attributes": {"friendly_name": "Kitchen Lights"}}]
            else:
                result = []
            await ws.send_json({"id": call["id"], "type": "result", "success": True,
                                "result": result})
        return ws


@pytest.fixture
async def fake_ha() -> AsyncIterator[FakeHomeAssistant]:
    server = FakeHomeAssistant()
    await server.start()
    yield server
    await server.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def home_config(port: int, **overrides: object) -> HomeAssistantConfig:
    values = {"url": f"http://127.0.0.1:{port}", "timeout_s": 1.0, "reconnect_max_s": 2.0}
    values.update(overrides)
    return HomeAssistantConfig(**values)  # type: ignore[arg-type]


@dataclass
class Room:
    client: HomeAssistantClient
    state: RuntimeState

    async def ask(self, tmp_path: Path, text: str) -> tuple[TurnResult, float]:
        engines = Engines(FakeStt(text), FakeLlm(["A language model answer."]), FakeTts())  # type: ignore[arg-type]
        turns = create_turn_service(make_config(tmp_path), engines, self.state)
        turns.home = HomeRouter(self.client)
        started = time.monotonic()
        async with asyncio.timeout(TIMEOUT_S):
            events = [e async for e in turns.answer(TurnRequest(text, door="mic", speak=False))]
        turns.close()
        result = events[-1]
        assert isinstance(result, TurnResult)
        return result, time.monotonic() - started


async def start_client(config: HomeAssistantConfig) -> Room:
    state = RuntimeState()
    client = HomeAssistantClient(config, TOKEN, state)
    await client.start()
    return Room(client, state)


async def wait_state(state: RuntimeState, wanted: str) -> str:
    async with asyncio.timeout(TIMEOUT_S):
        while (component := state.components.get("homeassistant")) is None or \
                component.state != wanted:
            await asyncio.sleep(0.02)
    return component.detail


@on_session_loop
async def test_home_assistant_down_gets_a_short_true_answer_in_time(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    room = await start_client(home_config(free_port()))  # nothing listens there
    try:
        detail = await wait_state(room.state, "degraded")
        assert "unreachable" in detail
        result, took_s = await room.ask(tmp_path, "turn on the kitchen lights")
        assert result.reply == UNREACHABLE_ACTION and result.timings.source == "local"
        assert took_s < 2.0
        query, _ = await room.ask(tmp_path, "is the front door locked")
        assert query.reply == UNREACHABLE_QUERY
    finally:
        await room.client.close()
    assert room.state.metrics.homeassistant_connected._value.get() == 0
    assert any("Home Assistant at http://127.0.0.1" in r.getMessage() for r in caplog.records
               if r.levelname == "WARNING")
    assert TOKEN not in caplog.text


@on_session_loop
async def test_a_refused_token_is_said_and_shown_as_failed(
        tmp_path: Path, fake_ha: FakeHomeAssistant, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake_ha.mode = "refuse_token"
    room = await start_client(home_config(fake_ha.port))
    try:
        detail = await wait_state(room.state, "failed")
        assert "refused the access token" in detail
        result, took_s = await room.ask(tmp_path, "turn on the kitchen lights")
        assert result.reply == REFUSED_ACTION and took_s < 2.0
    finally:
        await room.client.close()
    assert fake_ha.conversations == [] and TOKEN not in caplog.text


@on_session_loop
async def test_a_home_assistant_that_does_not_answer_is_cut_off_at_the_timeout(
        tmp_path: Path, fake_ha: FakeHomeAssistant) -> None:
    fake_ha.mode = "silent"
    room = await start_client(home_config(fake_ha.port, timeout_s=1.0))
    try:
        await wait_state(room.state, "ready")
        result, took_s = await room.ask(tmp_path, "turn on the kitchen lights")
        assert result.reply == UNREACHABLE_ACTION
        assert 0.9 <= took_s < 2.5  # the timeout, not a hang (and not the LLM)
        assert fake_ha.conversations == ["turn on the kitchen lights"]
        assert room.state.metrics.homeassistant_requests.labels(result="timeout")._value.get() == 1
    finally:
        await room.client.close()


@on_session_loop
async def test_a_server_error_on_connect_is_degraded_and_retried(
        tmp_path: Path, fake_ha: FakeHomeAssistant) -> None:
    fake_ha.mode = "http_500"
    room = await start_client(home_config(fake_ha.port))
    try:
        assert "unreachable" in await wait_state(room.state, "degraded")
        fake_ha.mode = "ok"  # Home Assistant recovers: the client reconnects by itself
        await wait_state(room.state, "ready")
        result, _ = await room.ask(tmp_path, "turn on the kitchen lights")
        assert result.reply == "Turned on the light" and result.timings.source == "homeassistant"
    finally:
        await room.client.close()


@on_session_loop
async def test_reconnects_after_home_assistant_restarts(tmp_path: Path) -> None:
    server = FakeHomeAssistant()
    await server.start()
    port = server.port
    room = await start_client(home_config(port))
    try:
        await wait_state(room.state, "ready")
        await server.stop()
        await wait_state(room.state, "degraded")
        result, _ = await room.ask(tmp_path, "turn off the kitchen lights")
        assert result.reply == UNREACHABLE_ACTION
        await server.start(port)
        await wait_state(room.state, "ready")
        result, _ = await room.ask(tmp_path, "turn off the kitchen lights")
        assert result.reply == "Turned on the light"  # the fake's one answer, but through HA
    finally:
        await room.client.close()
        await server.stop()


@on_session_loop
async def test_without_home_assistant_the_box_never_claims_an_action(tmp_path: Path) -> None:
    room = Room(None, RuntimeState())  # type: ignore[arg-type]
    for text, expected in [("turn on the kitchen lights", NOT_CONNECTED_ACTION),
                           ("open the garage door", NOT_CONNECTED_ACTION),
                           ("is the front door locked", NOT_CONNECTED_QUERY)]:
        result, _ = await room.ask(tmp_path, text)
        assert result.reply == expected, text
    general, _ = await room.ask(tmp_path, "tell me about the sea")
    assert general.reply == "A language model answer."  # not about the home: the LLM


def test_the_token_comes_from_a_file_or_the_environment_and_is_never_shown(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    assert read_token(HomeAssistantConfig(url="http://ha", token_file=str(token_file))) == TOKEN
    assert read_token(HomeAssistantConfig(url="http://ha"), env={"SATELLITE_HA_TOKEN": TOKEN}) == TOKEN
    with pytest.raises(ConfigError, match="no access token") as missing:
        read_token(HomeAssistantConfig(url="http://ha"), env={})
    with pytest.raises(ConfigError, match="cannot be read") as unreadable:
        read_token(HomeAssistantConfig(url="http://ha", token_file=str(tmp_path / "nope")))
    assert TOKEN not in str(missing.value) + str(unreadable.value)


def test_replies_and_names_are_read_from_home_assistants_answers() -> None:
    reply = reply_from_result({"response": {"response_type": "error", "data": {
        "code": "no_intent_match"}, "speech": {"plain": {"speech": "Sorry, I couldn't understand"}}},
        "conversation_id": "abc"})
    assert reply.speech.startswith("Sorry") and not reply.understood
    assert reply_from_result(None).response_type == "error"
    names = names_from(
        [{"entity_id": "light.kitchen_lights", "attributes": {"friendly_name": "Kitchen Lights"}},
         {"entity_id": "lock.front_door", "attributes": {"friendly_name": "Front Door"}},
         {"entity_id": "sun.sun", "attributes": {"friendly_name": "Sun"}},
         {"entity_id": "sensor.x", "attributes": {}}],
        [{"name": "Living Room"}, {"name": " "}])
    assert names.entities == (("front door", "lock"), ("kitchen lights", "light"))
    assert names.areas == ("living room",)
