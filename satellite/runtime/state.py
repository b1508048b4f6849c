"""What the running process knows about itself, shared by the daemon, Wyoming and health doors.

Plain data, updated from the event loop; the health server reads it. Time is
injected so tests can move it.
"""

from __future__ import annotations

import collections
import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from satellite import __version__
from satellite.runtime.metrics import Metrics


@dataclass
class ComponentState:
    """One part of the box: a model, the mic, the speaker, the Wyoming server."""

    name: str
    state: str = "starting"  # starting | ready | degraded | off | failed
    detail: str = ""
    since_s: float = 0.0


@dataclass
class TurnRecord:
    at_s: float  # wall clock
    door: str  # mic | wyoming | cli
    transcript: str
    reply: str
    source: str
    timings_ms: dict[str, Any]


@dataclass
class WyomingConnection:
    """One open Wyoming connection, as /status shows it. Updated by its handler on the event loop."""

    peer: str
    since_s: float  # wall clock
    request: str | None = None  # what the client asked and is being answered, if anything
    write_pending_since_s: float | None = None  # wall clock; set while a write waits on the client


@dataclass
class RuntimeState:
    metrics: Metrics = field(default_factory=Metrics)
    recent_turns_max: int = 50
    clock: Callable[[], float] = time.time
    started_s: float = field(default_factory=time.time)
    version: str = __version__
    components: dict[str, ComponentState] = field(default_factory=dict)
    model_load_s: dict[str, float] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)  # stage -> model file/name
    audio_devices: dict[str, str] = field(default_factory=dict)  # input/output -> description
    platform: dict[str, Any] = field(default_factory=dict)  # the CPU and what each engine runs on
    last_mic_frame_s: float | None = None
    timers: Callable[[], list[dict[str, Any]]] | None = None  # the live timers, for /status
    assist_satellite: Callable[[], dict[str, Any]] | None = None  # the satellite role, for /status
    mute: Callable[[], dict[str, Any]] | None = None  # the privacy mute, for /status
    mute_switch: Callable[[bool], None] | None = None  # POST /mute, /unmute (called on the main loop)
    home: Callable[[], dict[str, Any]] | None = None  # the home's other boxes, for /status
    room_phase: str | None = None  # the room's state (listening, speaking...): None without a microphone
    loop_heartbeat_s: float = field(default_factory=time.monotonic)
    wyoming_connections: dict[int, WyomingConnection] = field(default_factory=dict)
    turns: collections.deque[TurnRecord] = field(init=False)

    def __post_init__(self) -> None:
        self.turns = collections.deque(maxlen=self.recent_turns_max)

    def set_component(self, name: str, state: str, detail: str = "") -> None:
        current = self.components.get(name)
        if current is None or current.state != state or current.detail != detail:
            self.components[name] = ComponentState(name, state, detail, self.clock())
        self.metrics.ready.set(1.0 if self.ready()[0] else 0.0)

    def not_ready(self) -> list[str]:
        """Components that are neither ready nor configured off, with their state."""
        return [f"{c.name}: {c.state}{' (' + c.detail + ')' if c.detail else ''}"
                for c in self.components.values() if c.state not in ("ready", "off")]

    def ready(self) -> tuple[bool, list[str]]:
        missing = self.not_ready()
        return (bool(self.components) and not missing, missing)

    def record_turn(self, door: str, transcript: str, reply: str, source: str,
                    timings_ms: dict[str, Any]) -> None:
        self.turns.append(TurnRecord(self.clock(), door, transcript, reply, source, timings_ms))
        self.metrics.turns.labels(door=door, source=source or "none").inc()
        for stage, key in (("end_of_speech", "end_of_speech_ms"), ("stt", "stt_ms"),
                           ("llm_first_token", "first_token_ms"),
                           ("first_sentence", "first_sentence_ms"),
                           ("tts_first_audio", "first_audio_ms"), ("turn_total", "total_ms"),
                           ("first_reply_audio", "first_reply_audio_ms")):
            value = timings_ms.get(key)
            if isinstance(value, (int, float)):
                self.metrics.observe_stage(stage, float(value))
        if source == "cache":
            self.metrics.cache_hits.inc()
        elif source == "llm":
            self.metrics.cache_misses.inc()

    def open_wyoming_connection(self, peer: str) -> WyomingConnection:
        connection = WyomingConnection(peer, self.clock())
        self.wyoming_connections[id(connection)] = connection
        self.metrics.wyoming_connections.set(len(self.wyoming_connections))
        return connection

    def close_wyoming_connection(self, connection: WyomingConnection) -> None:
        self.wyoming_connections.pop(id(connection), None)
        self.metrics.wyoming_connections.set(len(self.wyoming_connections))

    def wyoming_connection_list(self) -> list[WyomingConnection]:
        """A snapshot for another thread (the health server): copies, taken with a retry."""
        for _ in range(5):
            try:
                return [dataclasses.replace(c) for c in list(self.wyoming_connections.values())]
            except RuntimeError:  # changed size during the copy: try again
                continue
        return []

    def uptime_s(self) -> float:
        return self.clock() - self.started_s
