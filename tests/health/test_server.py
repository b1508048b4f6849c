"""The health door over real HTTP: a HealthServer on 127.0.0.1 port 0, state driven by the test."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from satellite.errors import SatelliteError
from satellite.health import HealthServer
from satellite.health.server import _local
from satellite.pipeline.scheduler import EngineScheduler
from satellite.room.mute import PrivacyMute
from satellite.runtime import RuntimeState
from tests.conftest import make_config

TIMEOUT = aiohttp.ClientTimeout(total=10)
# The fixture's heartbeat task lives on the session loop: the tests must run on it too.
pytestmark = pytest.mark.asyncio(loop_scope="session")


class FakeClock:
    def __init__(self) -> None:
        self.now_s = 100.0

    def __call__(self) -> float:
        return self.now_s


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[HealthServer, RuntimeState, FakeClock]]:
    config = make_config(tmp_path, health__port=0, health__loop_blocked_s=1.0)
    clock = FakeClock()
    scheduler = EngineScheduler(workers=2, max_queue=4, clock=clock)
    state = RuntimeState()
    server = HealthServer(config, state, scheduler, heartbeat_interval_s=0.05)
    await asyncio.wait_for(server.start(), 10)
    try:
        yield server, state, clock
    finally:
        await asyncio.wait_for(server.stop(), 10)
        scheduler.shutdown()


async def get(server: HealthServer, path: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        async with session.get(f"http://127.0.0.1:{server.port}{path}") as response:
            return response.status, response.headers["Content-Type"], await response.text()


async def test_binds_an_ephemeral_port_and_stops(tmp_path: Path) -> None:
    server = HealthServer(make_config(tmp_path, health__port=0), RuntimeState(), None)
    await asyncio.wait_for(server.start(), 10)
    port = server.port
    assert port and port > 0
    await asyncio.wait_for(server.stop(), 10)
    assert server.port is None
    with pytest.raises(aiohttp.ClientConnectionError):
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            await session.get(f"http://127.0.0.1:{port}/healthz")


async def test_a_taken_port_is_one_clear_error(served, tmp_path: Path) -> None:
    server, _, _ = served
    other = HealthServer(make_config(tmp_path, health__port=server.port), RuntimeState(), None)
    with pytest.raises(SatelliteError, match=f"cannot listen on 127.0.0.1:{server.port}"):
        await asyncio.wait_for(other.start(), 10)


async def test_ready_only_after_every_component_is_ready(served) -> None:
    server, state, _ = served
    status, _, body = await get(server, "/readyz")
    assert status == 503 and "nothing has started yet" in body
    for name in ("stt", "llm", "tts", "wyoming"):
        state.set_component(name, "starting")
    state.set_component("mic", "off", "configured off")
    waiting = ["stt", "llm", "tts", "wyoming"]
    for name in ("stt", "llm", "tts"):
        state.set_component(name, "ready")
        waiting.remove(name)
        status, _, body = await get(server, "/readyz")
        assert status == 503
        assert json.loads(body)["reasons"] == [f"{n}: starting" for n in waiting]
    state.set_component("wyoming", "ready")
    status, content_type, body = await get(server, "/readyz")
    assert status == 200 and content_type.startswith("application/json")
    assert json.loads(body) == {"ok": True, "status": "ready", "reasons": []}


async def test_liveness_fails_while_an_engine_call_is_stuck(served) -> None:
    server, state, clock = served
    scheduler = server.scheduler
    assert scheduler is not None
    release = threading.Event()
    call = asyncio.ensure_future(scheduler.run("llm", release.wait, 10.0))
    try:
        for _ in range(200):  # wait for the call to be on a worker, not a fixed sleep
            if scheduler.running():
                break
            await asyncio.sleep(0.01)
        status, _, _ = await get(server, "/healthz")
        assert status == 200
        clock.now_s += 61.0  # past stuck_after_s (60 s by default)
        status, _, body = await get(server, "/healthz")
        assert status == 503
        assert json.loads(body)["reasons"] == ["engine call stuck: llm running for 61.0 s "
                                               "(limit 60 s)"]
        assert server.alive() == (False, "engine call stuck: llm running for 61.0 s (limit 60 s)")
    finally:
        release.set()
        await asyncio.wait_for(call, 10)
    status, _, _ = await get(server, "/healthz")
    assert status == 200


def poll_until_503(url: str, deadline_s: float, seen: list[tuple[int, str]]) -> None:
    """From another thread (the main loop is blocked): poll until liveness fails."""
    while time.monotonic() < deadline_s:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                seen.append((response.status, response.read().decode()))
        except urllib.error.HTTPError as error:
            seen.append((error.code, error.read().decode()))
            return
        time.sleep(0.05)


async def test_liveness_fails_while_the_main_loop_is_blocked(served) -> None:
    server, _, _ = served
    status, _, _ = await get(server, "/healthz")
    assert status == 200
    seen: list[tuple[int, str]] = []
    poller = threading.Thread(target=poll_until_503, daemon=True, args=(
        f"http://127.0.0.1:{server.port}/healthz", time.monotonic() + 15, seen))
    poller.start()
    poller.join(20)  # blocks this event loop on purpose, like a CPU-bound call on the loop
    assert seen and seen[-1][0] == 503, seen
    assert json.loads(seen[-1][1])["reasons"][0].startswith("event loop blocked for ")
    for _ in range(100):  # the heartbeat resumes once the loop runs again
        status, _, _ = await get(server, "/healthz")
        if status == 200:
            break
        await asyncio.sleep(0.05)
    assert status == 200


async def test_a_degraded_mic_shows_on_healthz_and_status(served) -> None:
    server, state, _ = served
    state.set_component("mic", "degraded", "no frames for 5 s; reopening")
    state.audio_devices["input"] = "hw:1,0 16000 Hz"
    status, _, body = await get(server, "/healthz")
    assert status == 200
    assert json.loads(body) == {"ok": True, "status": "degraded",
                                "reasons": ["mic: degraded (no frames for 5 s; reopening)"]}
    status, _, body = await get(server, "/status")
    audio = json.loads(body)["audio"]
    assert audio["mic"]["state"] == "degraded" and audio["devices"] == {"input": "hw:1,0 16000 Hz"}


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def test_metrics_parse_and_count_a_turn(served) -> None:
    server, state, _ = served
    status, content_type, before = await get(server, "/metrics")
    assert status == 200 and content_type.startswith("text/plain")
    key = ("satellite_turns_total", (("door", "mic"), ("source", "llm")))
    assert samples(before).get(key, 0.0) == 0.0
    state.record_turn("mic", "what time is it", "It is noon.", "llm",
                      {"stt_ms": 310.0, "first_token_ms": 120.0, "first_reply_audio_ms": 790.0})
    _, _, after = await get(server, "/metrics")
    values = samples(after)
    assert values[key] == 1.0
    assert values[("satellite_stage_seconds_count", (("stage", "first_reply_audio"),))] == 1.0
    assert values[("satellite_stage_seconds_sum", (("stage", "stt"),))] == pytest.approx(0.31)
    assert values[("satellite_cache_misses_total", ())] == 1.0
    assert values[("satellite_queue_depth", ())] == 0.0
    assert values[("satellite_process_resident_memory_bytes", ())] > 10_000_000


async def test_status_reports_models_turns_and_uptime(served) -> None:
    server, state, _ = served
    state.models.update(stt="tiny.en", llm="SmolLM2-135M-Instruct.Q4_1.gguf")
    state.model_load_s.update(stt=0.6, llm=0.3)
    state.record_turn("wyoming", "turn on the light", "Turned on the light.", "intent",
                      {"total_ms": 8.0})
    status, _, body = await get(server, "/status")
    doc = json.loads(body)
    assert status == 200
    assert doc["version"] == state.version and doc["uptime_s"] >= 0
    assert doc["models"]["stt"] == {"model": "tiny.en", "load_s": 0.6}
    assert doc["turns"][0]["transcript"] == "turn on the light"
    assert doc["turns"][0]["reply"] == "Turned on the light."


async def test_the_status_page_and_its_assets_are_served(served) -> None:
    server, _, _ = served
    status, content_type, body = await get(server, "/")
    assert status == 200 and content_type.startswith("text/html")
    assert '<script src="/static/app.js">' in body and "http" not in body.split("<body>")[0]
    for asset, kind in (("/static/app.js", "javascript"), ("/static/style.css", "text/css")):
        status, content_type, _ = await get(server, asset)
        assert status == 200 and kind in content_type


async def post(server: HealthServer, path: str) -> tuple[int, dict]:
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        async with session.post(f"http://127.0.0.1:{server.port}{path}") as response:
            return response.status, await response.json()


async def test_the_mute_switch_turns_the_microphone_off_and_on_from_this_machine(served) -> None:
    server, state, _ = served
    assert await post(server, "/mute") == (409, {"error": "no microphone to mute"})
    mute = PrivacyMute(state.metrics)
    state.mute, state.mute_switch = mute.status, lambda muted: (
        mute.mute("switch") if muted else mute.unmute())
    mute.mute("voice")
    assert await post(server, "/mute") == (200, {"muted": True})
    for _ in range(100):  # thrown on the main loop, soon after the answer
        if "switch" in mute.by:
            break
        await asyncio.sleep(0.01)
    _, _, body = await get(server, "/status")
    assert json.loads(body)["mute"] == {"muted": True, "by": ["switch", "voice"],
                                        "since_s": mute.since_s}
    assert await post(server, "/unmute") == (200, {"muted": False})
    for _ in range(100):
        if not mute.muted:
            break
        await asyncio.sleep(0.01)
    assert not mute.muted  # the switch lifts the spoken mute too


async def test_only_this_machine_may_throw_the_switch() -> None:
    assert _local("127.0.0.1") and _local("::1") and _local("::ffff:127.0.0.1") and _local(None)
    assert not _local("192.168.1.20") and not _local("fe80::1") and not _local("bogus")
