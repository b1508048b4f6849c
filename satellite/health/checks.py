"""Liveness, readiness and the status document, as pure functions of the runtime state.

No sockets, no clocks of their own: the server hands in "now" and the engine
calls in progress, so tests drive every verdict with plain data.

Liveness answers "should this process be restarted?": the event loop stopped
beating, or an engine call is stuck. A degraded part (a stalled microphone
being reopened, a failing speaker) is reported but is not a liveness failure:
the daemon heals those itself, and a restart would not help.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from satellite.runtime.state import ComponentState, RuntimeState, TurnRecord, WyomingConnection

# Timings shown on the status page, in the order of a turn.
TIMING_KEYS = ("end_of_speech_ms", "stt_ms", "first_token_ms", "first_sentence_ms",
               "first_audio_ms", "first_reply_audio_ms", "total_ms")


@dataclass(frozen=True)
class Verdict:
    ok: bool
    status: str  # ok | degraded | unhealthy | ready | not ready
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "status": self.status, "reasons": list(self.reasons)}


def _components(state: RuntimeState) -> list[ComponentState]:
    """A snapshot of the components; the dict is written by the event loop's thread."""
    for _ in range(5):
        try:
            return list(state.components.values())
        except RuntimeError:  # changed size during the copy: try again
            continue
    return []


def liveness(state: RuntimeState, now_monotonic_s: float, running: Sequence[tuple[str, float]],
             loop_blocked_s: float | None, stuck_after_s: float) -> Verdict:
    """Unhealthy when the loop has not beaten for ``loop_blocked_s`` or an engine call is stuck.

    ``loop_blocked_s=None`` skips the heartbeat (for a probe that runs on the loop itself).
    """
    reasons = []
    blocked_s = now_monotonic_s - state.loop_heartbeat_s
    if loop_blocked_s is not None and blocked_s > loop_blocked_s:
        reasons.append(f"event loop blocked for {blocked_s:.1f} s")
    for engine, age_s in running:
        if age_s > stuck_after_s:
            reasons.append(f"engine call stuck: {engine} running for {age_s:.1f} s "
                           f"(limit {stuck_after_s:g} s)")
    if reasons:
        return Verdict(False, "unhealthy", reasons)
    degraded = [f"{c.name}: {c.state}{' (' + c.detail + ')' if c.detail else ''}"
                for c in _components(state) if c.state in ("degraded", "failed")]
    if degraded:
        return Verdict(True, "degraded", degraded)
    return Verdict(True, "ok", [])


def readiness(state: RuntimeState) -> Verdict:
    components = _components(state)
    if not components:
        return Verdict(False, "not ready", ["nothing has started yet"])
    missing = [f"{c.name}: {c.state}{' (' + c.detail + ')' if c.detail else ''}"
               for c in components if c.state not in ("ready", "off")]
    return Verdict(not missing, "ready" if not missing else "not ready", missing)


def turn_dict(turn: TurnRecord) -> dict[str, Any]:
    return {"at_s": turn.at_s, "door": turn.door, "transcript": turn.transcript,
            "reply": turn.reply, "source": turn.source, "timings_ms": dict(turn.timings_ms)}


def latency_summary(turns: Sequence[TurnRecord]) -> dict[str, dict[str, float]]:
    """p50/p90/max per timing over the recent turns (only the turns that have it)."""
    summary = {}
    for key in TIMING_KEYS:
        values = sorted(float(t.timings_ms[key]) for t in turns
                        if isinstance(t.timings_ms.get(key), (int, float)))
        if not values:
            continue
        p90_index = min(len(values) - 1, max(0, round(0.9 * len(values)) - 1))
        summary[key] = {"count": len(values), "p50": round(statistics.median(values), 1),
                        "p90": round(values[p90_index], 1), "max": round(values[-1], 1)}
    return summary


def status_document(state: RuntimeState, *, live: Verdict, ready: Verdict, recent_turns: int,
                    queue_depth: int, running: Sequence[tuple[str, float]],
                    now_wall_s: float, rss_bytes: int, pid: int) -> dict[str, Any]:
    """Everything /status shows: the one JSON a person or a script reads to judge the box."""
    turns = list(state.turns)[-recent_turns:]
    components = _components(state)
    return {
        "version": state.version,
        "pid": pid,
        "now_s": now_wall_s,
        "started_s": state.started_s,
        "uptime_s": round(now_wall_s - state.started_s, 1),
        "health": live.as_dict(),
        "ready": ready.as_dict(),
        "models": {stage: {"model": name, "load_s": state.model_load_s.get(stage)}
                   for stage, name in dict(state.models).items()},
        "model_load_s": dict(state.model_load_s),
        "platform": dict(state.platform),
        "components": [{"name": c.name, "state": c.state, "detail": c.detail,
                        "since_s": c.since_s} for c in components],
        "audio": {
            "devices": dict(state.audio_devices),
            "mic": _component_dict(components, "mic"),
            "speaker": _component_dict(components, "speaker"),
            "last_mic_frame_s": state.last_mic_frame_s,
            "last_mic_frame_age_s": (None if state.last_mic_frame_s is None
                                     else round(now_wall_s - state.last_mic_frame_s, 2)),
        },
        "engines": {"queue_depth": queue_depth,
                    "running": [{"engine": e, "running_s": round(a, 2)} for e, a in running]},
        "wyoming": wyoming_dict(state.wyoming_connection_list(), now_wall_s),
        "timers": _timers(state),
        "assist_satellite": state.assist_satellite() if state.assist_satellite is not None else None,
        "room": {"phase": state.room_phase},
        "mute": state.mute() if state.mute is not None else None,
        "home": state.home() if state.home is not None else None,
        "process": {"resident_memory_bytes": rss_bytes},
        "latency_ms": latency_summary(turns),
        "turns": [turn_dict(t) for t in reversed(turns)],  # newest first
    }


def _timers(state: RuntimeState) -> list[dict[str, Any]]:
    """The live timers; the list is changed by the event loop's thread, so copy with retries."""
    if state.timers is None:
        return []
    for _ in range(5):
        try:
            return state.timers()
        except RuntimeError:  # changed size during the copy: try again
            continue
    return []


def wyoming_dict(connections: Sequence[WyomingConnection], now_wall_s: float) -> dict[str, Any]:
    """Open Wyoming connections; those whose client is not reading what we write are listed apart.

    A client that stops reading is not an engine computing: it is shown here, and the
    connection's write timeout ends it, but it never fails liveness.
    """
    return {
        "connections": len(connections),
        "open": [{"peer": c.peer, "since_s": c.since_s, "open_s": round(now_wall_s - c.since_s, 1),
                  "request": c.request} for c in connections],
        "waiting_on_client": [
            {"peer": c.peer, "request": c.request, "since_s": c.write_pending_since_s,
             "waiting_s": round(max(0.0, now_wall_s - c.write_pending_since_s), 2)}
            for c in connections if c.write_pending_since_s is not None],
    }


def _component_dict(components: Sequence[ComponentState], name: str) -> dict[str, Any] | None:
    for c in components:
        if c.name == name:
            return {"state": c.state, "detail": c.detail, "since_s": c.since_s}
    return None
