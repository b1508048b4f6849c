"""The link's rules with a moved clock: fail fast while down, doubling retries, reset on success;
and the monitor's states on /status and /readyz."""

from __future__ import annotations

import asyncio

import pytest

from satellite.config.schema import RemoteConfig
from satellite.errors import RemoteError
from satellite.remote.link import RemoteLink
from satellite.remote.monitor import RemoteMonitor
from satellite.runtime.state import RuntimeState


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def refused() -> RemoteError:
    return RemoteError("the server is unreachable (Connection refused)", "llm", "unreachable")


def test_a_call_while_down_is_refused_at_once_until_the_retry_time() -> None:
    clock = Clock()
    link = RemoteLink("llm", "http://x/v1", lambda: "ok", clock=clock)
    link.failed(refused())
    with pytest.raises(RemoteError) as caught:
        link.before_call()
    assert caught.value.reason == "down" and "Connection refused" in str(caught.value)
    clock.now += 1.0  # the first retry comes after 1 s
    link.before_call()  # this call is the reconnect attempt


def test_retries_double_up_to_the_limit_and_a_success_resets_them() -> None:
    clock = Clock()
    link = RemoteLink("stt", "tcp://x:1", lambda: "ok", reconnect_max_s=5.0, clock=clock)
    waits = []
    for _ in range(5):
        link.failed(refused())
        waits.append(link.retry_at - clock.now)
    assert waits == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert link.probe() and link.state == "up" and link.detail == "ok"
    link.failed(refused())
    assert link.retry_at - clock.now == 1.0


def test_call_records_the_outcome_and_tells_the_listeners() -> None:
    link = RemoteLink("tts", "tcp://x:1", lambda: "ok", clock=Clock())
    heard: list[str | None] = []
    link.listeners.append(lambda _, error: heard.append(error.reason if error else None))
    with pytest.raises(RemoteError), link.call():
        raise refused()
    assert link.state == "down"
    link.retry_at = 0.0
    with link.call():
        pass
    assert link.state == "up" and heard == ["unreachable", None]


async def test_the_monitor_shows_a_down_server_then_reconnects_by_itself() -> None:
    answers = iter([refused(), refused(), "piper 2.5.2"])

    def probe() -> str:
        answer = next(answers)
        if isinstance(answer, RemoteError):
            raise answer
        return answer

    link = RemoteLink("tts", "tcp://gpu-box:10200", probe, reconnect_max_s=2.0)
    state = RuntimeState()
    monitor = RemoteMonitor({"tts": link}, state, RemoteConfig(reconnect_max_s=2.0))
    await monitor.start()
    try:
        async with asyncio.timeout(10):
            while state.components["tts"].state != "degraded":
                await asyncio.sleep(0.01)
            assert "Connection refused" in state.components["tts"].detail
            assert state.ready()[0] is False
            while state.components["tts"].state != "ready":  # after 1 s, then 2 s
                await asyncio.sleep(0.01)
    finally:
        await monitor.close()
    assert "piper 2.5.2" in state.components["tts"].detail
    assert state.metrics.registry.get_sample_value("satellite_remote_failures_total",
                                                   {"stage": "tts", "reason": "unreachable"}) == 2
    assert state.metrics.registry.get_sample_value("satellite_remote_up", {"stage": "tts"}) == 1


async def test_with_a_local_fallback_a_down_server_leaves_the_stage_ready() -> None:
    link = RemoteLink("llm", "http://gpu-box:8080/v1", lambda: (_ for _ in ()).throw(refused()))
    state = RuntimeState()
    monitor = RemoteMonitor({"llm": link}, state, RemoteConfig(), fallbacks=frozenset({"llm"}))
    await monitor.start()
    try:
        async with asyncio.timeout(10):
            while link.state != "down":
                await asyncio.sleep(0.01)
            while "local engine" not in state.components["llm"].detail:
                await asyncio.sleep(0.01)
    finally:
        await monitor.close()
    assert state.components["llm"].state == "ready"
