"""The pure verdicts behind /healthz, /readyz and /status, driven with plain data."""

from __future__ import annotations

import pytest

from satellite.health.checks import latency_summary, liveness, readiness, status_document
from satellite.runtime import RuntimeState


def state_with(**components: str) -> RuntimeState:
    state = RuntimeState(clock=lambda: 1000.0)
    state.loop_heartbeat_s = 50.0
    for name, value in components.items():
        state.set_component(name, *value.split(":", 1))
    return state


@pytest.mark.parametrize(("now_s", "running", "ok", "status", "reason"), [
    (51.0, [], True, "ok", None),
    (60.5, [], True, "ok", None),  # 10.5 s since the beat, limit 11 s
    (62.0, [], False, "unhealthy", "event loop blocked for 12.0 s"),
    (51.0, [("stt", 30.0)], True, "ok", None),
    (51.0, [("llm", 61.0)], False, "unhealthy", "engine call stuck: llm running for 61.0 s"),
])
def test_liveness_fails_on_a_stale_heartbeat_or_a_stuck_engine(
        now_s: float, running: list[tuple[str, float]], ok: bool, status: str,
        reason: str | None) -> None:
    verdict = liveness(state_with(stt="ready"), now_s, running, loop_blocked_s=11.0,
                       stuck_after_s=60.0)
    assert (verdict.ok, verdict.status) == (ok, status)
    if reason:
        assert any(r.startswith(reason) for r in verdict.reasons), verdict.reasons


def test_heartbeat_is_ignored_when_the_probe_runs_on_the_loop() -> None:
    verdict = liveness(state_with(stt="ready"), 9999.0, [], loop_blocked_s=None, stuck_after_s=60)
    assert verdict.ok


def test_a_degraded_mic_is_reported_but_stays_alive() -> None:
    state = state_with(stt="ready", mic="degraded:no frames for 5 s; reopening")
    verdict = liveness(state, 51.0, [], loop_blocked_s=10.0, stuck_after_s=60.0)
    assert verdict.ok and verdict.status == "degraded"
    assert verdict.reasons == ["mic: degraded (no frames for 5 s; reopening)"]


@pytest.mark.parametrize(("components", "ok", "missing"), [
    ({}, False, ["nothing has started yet"]),
    ({"stt": "ready", "llm": "starting"}, False, ["llm: starting"]),
    ({"stt": "ready", "mic": "off:configured off"}, True, []),
    ({"stt": "ready", "tts": "failed:self-test: no audio"}, False,
     ["tts: failed (self-test: no audio)"]),
])
def test_ready_once_every_component_is_ready_or_off(components: dict[str, str], ok: bool,
                                                     missing: list[str]) -> None:
    verdict = readiness(state_with(**components))
    assert (verdict.ok, verdict.reasons) == (ok, missing)


def test_status_lists_newest_turns_first_with_latency_percentiles() -> None:
    state = state_with(stt="ready")
    for i, ms in enumerate([400.0, 600.0, 500.0, 900.0]):
        state.record_turn("mic", f"question {i}", f"answer {i}", "llm",
                          {"first_reply_audio_ms": ms, "stt_ms": 100.0})
    state.models["stt"] = "tiny.en"
    state.last_mic_frame_s = 1009.5
    state.model_load_s["stt"] = 0.5
    live = liveness(state, 51.0, [], 10.0, 60.0)
    doc = status_document(state, live=live, ready=readiness(state), recent_turns=3,
                          queue_depth=2, running=[("llm", 1.5)], now_wall_s=1010.0,
                          rss_bytes=123, pid=7)
    assert [t["transcript"] for t in doc["turns"]] == ["question 3", "question 2", "question 1"]
    assert doc["latency_ms"]["first_reply_audio_ms"] == {"count": 3, "p50": 600.0, "p90": 900.0,
                                                         "max": 900.0}
    assert doc["models"] == {"stt": {"model": "tiny.en", "load_s": 0.5}}
    assert doc["engines"] == {"queue_depth": 2, "running": [{"engine": "llm", "running_s": 1.5}]}
    assert doc["health"]["ok"] and doc["ready"]["ok"]
    assert doc["audio"]["last_mic_frame_age_s"] == 0.5


def test_latency_summary_skips_turns_without_the_timing() -> None:
    state = state_with()
    state.record_turn("wyoming", "hi", "hello", "cache", {"total_ms": 12.0})
    assert set(latency_summary(list(state.turns))) == {"total_ms"}
